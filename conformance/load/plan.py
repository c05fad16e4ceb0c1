"""What a load run sends: the rate, the bounds, the request, and how the generators share the work.

The plan travels from the `conformance load` command to Locust's master and from there, with Locust's own custom
arguments, to every worker, on this machine or another. It holds no secret: each worker reads the credentials
from its own environment.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass

DOCUMENTED_LIMIT = 1_000_000  # messages per minute per partner (R-RATE-01)
PER_USER_RATE = 20.0  # requests a second one simulated user paces itself to: up to 50 ms a request keeps up
MODES = ("single", "batch")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|min|minute|h|hour)\s*$")
_PER_MINUTE = {"s": 60.0, "sec": 60.0, "second": 60.0, "min": 1.0, "minute": 1.0, "h": 1 / 60, "hour": 1 / 60}


class RateError(ValueError):
    """A rate that is not N/min (or N/s, N/h)."""


def parse_rate(text: str) -> float:
    """Messages per minute from "600/min", "10/s" or "36000/h"."""
    found = _RATE.match(text or "")
    if not found:
        raise RateError(f"{text!r} is not a rate such as 600/min or 10/s")
    per_minute = float(found.group(1)) * _PER_MINUTE[found.group(2)]
    if not math.isfinite(per_minute) or per_minute <= 0:
        raise RateError(f"{text!r} must be more than nothing")
    return per_minute


def per_minute_text(per_minute: float) -> str:
    return f"{per_minute:,.0f}/min" if per_minute >= 10 else f"{per_minute:,.2f}/min"


@dataclass(frozen=True)
class LoadPlan:
    base_url: str
    rate_per_minute: float  # messages (recipients) a minute, across every generator
    duration: float  # seconds each generator sends for
    mode: str  # "single": one number a request; "batch": `batch_size` numbers a request
    batch_size: int
    msisdn: int  # the registered test number every message goes to
    path: str  # the send's path under base_url
    users: int  # simulated users across every generator, each pacing itself
    workers: int  # generators (Locust worker processes) the master waits for
    max_requests: int  # hard bound on requests across every generator
    timeout: float  # seconds for one answer

    @property
    def recipients_per_request(self) -> int:
        return self.batch_size if self.mode == "batch" else 1

    @property
    def requests_per_second(self) -> float:
        return self.rate_per_minute / 60.0 / self.recipients_per_request

    @property
    def per_user_rate(self) -> float:
        return self.requests_per_second / self.users

    def share_of_requests(self, worker_index: int) -> int:
        """The requests one generator may send: --max-requests split evenly, the remainder to the first ones."""
        base, extra = divmod(self.max_requests, max(self.workers, 1))
        return base + (1 if worker_index < extra else 0)

    def body(self) -> bytes:
        payload = {"title": "Нагрузка", "message": "Проверка лимита отправки", "deeplink": {"target": "card"}}
        if self.mode == "batch":
            body = {
                "pushType": "SERVICE",
                "subId": "conformance-load",
                "msisdn": [self.msisdn] * self.batch_size,
                "payload": payload,
            }
        else:
            body = {"pushType": "TRANSACTION", "msisdn": self.msisdn, "payload": payload}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LoadPlan:
        return cls(**json.loads(text))


def users_for(requests_per_second: float, workers: int) -> int:
    """Enough simulated users to reach the rate when each waits up to 1 / PER_USER_RATE s for an answer, and at least
    one on every generator."""
    return max(workers, math.ceil(requests_per_second / PER_USER_RATE))
