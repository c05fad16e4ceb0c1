"""Callbacks as Koshelek sends them: the body the spec chose (M-5) for a fresh message id.

`REQUIRED` is the one list of the members a callback must carry (the spec's PushStatusCallback): the Push suite
holds a host's callbacks to it, and the receiver suite holds a receiver to accept a callback of only those.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from conformance.profiles import load_spec

REQUIRED: tuple[str, ...] = tuple(
    load_spec("push-callback-api.yaml")["components"]["schemas"]["PushStatusCallback"]["required"]
)


def callback(state: str = "DELIVERED", *, message_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "state": state,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        **extra,
    }
