"""Callbacks as Koshelek sends them: the body the spec chose (M-5) for a fresh message id."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


def callback(state: str = "DELIVERED", *, message_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "state": state,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        **extra,
    }
