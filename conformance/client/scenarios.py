"""The checklist of each API: numbered steps, what completes each, and how the sandbox misbehaves during it.

A scenario also knows its sandbox: how to build it for the session's minted credentials, how to tell which
credentials a request carries (before the sandbox answers it: a reset changes them), which secrets the
exchange hands out, and what the partner's client is told through its environment.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .requests import ClientRequest

Answer = tuple[int, dict[str, str], bytes]  # status, headers, body


@dataclass
class Seen:
    """An exchange of the running step, as the step's completion test reads it."""

    request: ClientRequest
    status: int
    stance: bool  # the sandbox's stance answered it, not the sandbox itself


class Interrupt:
    """The sandbox's stance for a step: the first `len(statuses)` requests to `operations` that carry good
    credentials get these statuses instead of the sandbox's answer; later ones reach the sandbox."""

    def __init__(self, operations: tuple[str, ...], statuses: tuple[int, ...], answer: Callable[[int], Answer]) -> None:
        self.operations, self.statuses, self._answer = operations, statuses, answer
        self.given = 0

    @property
    def spent(self) -> bool:
        return self.given >= len(self.statuses)

    def answer(self, request: ClientRequest) -> Answer | None:
        if request.operation not in self.operations or self.spent:
            return None
        status = self.statuses[self.given]
        self.given += 1
        return self._answer(status)


@dataclass(frozen=True)
class Step:
    id: str
    instruction: str
    rules: tuple[str, ...]  # the client rules the step exercises
    completes: Callable[[list[Seen]], bool]  # given the step's exchanges so far
    stance: Callable[[], Interrupt] | None = None
    quiet: float = 0.0  # by hand: seconds without a request after completion before moving on (resends show)


def _json(request: ClientRequest) -> dict[str, Any]:
    body = request.json
    return body if isinstance(body, dict) else {}


def _answered(operation: str, extra: Callable[[ClientRequest], bool] = lambda _: True) -> Callable[[list[Seen]], bool]:
    return lambda seen: any(s.request.operation == operation and s.status == 200 and extra(s.request) for s in seen)


def _after_stance(operations: tuple[str, ...]) -> Callable[[list[Seen]], bool]:
    """A request to `operations` answered 200 after the stance's answers: the client went on."""

    def completes(seen: list[Seen]) -> bool:
        stance_seen = [i for i, s in enumerate(seen) if s.stance]
        return bool(stance_seen) and any(
            s.request.operation in operations and s.status == 200 for s in seen[stance_seen[-1] + 1 :]
        )

    return completes


def _stance_given(seen: list[Seen]) -> bool:
    return any(s.stance for s in seen)


# --- Push ----------------------------------------------------------------------------------------------

SENDS = ("sendPush", "sendPushBulkSingle")
RETRY_AFTER = 1  # seconds the rate-limited step asks the client to wait


def _push_error(status: int) -> Answer:
    name, message = {
        429: ("TOO_MANY_REQUESTS", "Sending rate limit exceeded, try again later"),
        503: ("SERVICE_UNAVAILABLE", "The service is temporarily unavailable, try again later"),
        400: ("BAD_REQUEST", "payload: refused by the sandbox in this step (a stand-in for an invalid request)"),
    }[status]
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if status == 429:
        headers["Retry-After"] = str(RETRY_AFTER)
    return status, headers, json.dumps({"status": name, "errors": [message]}).encode()


def _non_ascii_text(request: ClientRequest) -> bool:
    payload = _json(request).get("payload")
    texts = [payload.get(k) for k in ("title", "message")] if isinstance(payload, dict) else []
    return any(isinstance(text, str) and not text.isascii() for text in texts)


def _promo_campaign(request: ClientRequest) -> bool:
    body = _json(request)
    deeplink = (body.get("payload") or {}).get("deeplink") if isinstance(body.get("payload"), dict) else None
    return body.get("pushType") == "PROMO" and isinstance(deeplink, dict) and deeplink.get("target") == "campaign"


PUSH_STEPS = (
    Step(
        "reset-password",
        "Reset the initial password: PUT /public/user/reset-password with the initial password, body "
        '{"password": "<a new password>"}. From then on use only the new password.',
        ("C-PUSH-01", "C-PUSH-02"),
        _answered("resetPassword"),
    ),
    Step(
        "cyrillic-send",
        "Send a single push (POST /push/delivery) whose title and message are in Cyrillic, UTF-8 encoded.",
        ("C-PUSH-03", "C-PUSH-04", "C-PUSH-05", "C-PUSH-07"),
        _answered("sendPush", _non_ascii_text),
    ),
    Step(
        "promo-campaign",
        "Send a PROMO push (POST /push/delivery) whose deeplink opens a campaign: target campaign, with its "
        "campaignId.",
        ("C-PUSH-06", "C-PUSH-07"),
        _answered("sendPush", _promo_campaign),
    ),
    Step(
        "batch",
        "Send one message to several numbers (POST /push/bulk/single).",
        ("C-PUSH-04", "C-PUSH-09"),
        _answered("sendPushBulkSingle"),
    ),
    Step(
        "rate-limited",
        f"Send a single push. The sandbox refuses it with 429 and Retry-After: {RETRY_AFTER}; wait, then re-send it.",
        ("C-PUSH-10",),
        _after_stance(SENDS),
        lambda: Interrupt(SENDS, (429,), _push_error),
    ),
    Step(
        "unavailable",
        "Send a single push. The sandbox answers 503; back off before the next attempt, then it accepts the message.",
        ("C-PUSH-11",),
        _after_stance(SENDS),
        lambda: Interrupt(SENDS, (503,), _push_error),
    ),
    Step(
        "refused",
        "Send a single push. The sandbox refuses it with 400; do not send it again unchanged.",
        ("C-PUSH-12",),
        _stance_given,
        lambda: Interrupt(SENDS, (400,), _push_error),
        quiet=5.0,
    ),
)

# --- Imbee ---------------------------------------------------------------------------------------------


def _imbee_refusal(status: int) -> Answer:
    body = {"time": 0.0, "code": 1, "message": "Refused by the sandbox in this step", "body": None}
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode()


def _two_users(seen: list[Seen]) -> bool:
    made = {
        _json(s.request).get("uniqueIdSha")
        for s in seen
        if s.request.operation == "createExternalUser" and s.status == 200
    }
    return len(made) >= 2


IMBEE_STEPS = (
    Step(
        "token",
        "Create an access token: POST /token/new with virtual_user, bot_idsha, mail and/or celullar "
        "(the corporate token as X-WOOS-KEY).",
        ("C-IMB-01", "C-IMB-02", "C-IMB-06", "C-IMB-07", "C-IMB-10"),
        _answered("createToken"),
    ),
    Step(
        "users",
        "Register two users: POST /third_parties/user/new twice, with different uniqueIdSha (the corporate token "
        "as X-WOOS-KEY). Keep each answer's virtualUser and apikey.",
        ("C-IMB-03", "C-IMB-04", "C-IMB-08"),
        _two_users,
    ),
    Step(
        "chat",
        "Create a chat as the first user: POST /chat/create with that user's apikey as X-WOOS-KEY and the second "
        'user as contact: {"type": "chat", "contacts": [{"idsha": "<virtualUser>"}]}.',
        ("C-IMB-03", "C-IMB-05"),
        _answered("createChat"),
    ),
    Step(
        "refused",
        "Create a chat again. The sandbox refuses it (HTTP 400, code 1); do not send it again unchanged.",
        ("C-IMB-09",),
        _stance_given,
        lambda: Interrupt(("createChat",), (400,), _imbee_refusal),
        quiet=5.0,
    ),
)


# --- the sandboxes -------------------------------------------------------------------------------------


@dataclass
class Scenario:
    """One API's certification: its steps, and the sandbox the client talks to."""

    api: str
    steps: tuple[Step, ...]
    credentials: tuple[str, str]  # minted for this session
    env_names: tuple[str, str]
    context: dict[str, str] = field(default_factory=dict)  # test data the client is told (numbers, the bot)
    app: Any = None

    def client_env(self) -> dict[str, str]:
        return {**dict(zip(self.env_names, self.credentials, strict=True)), **self.context}

    def classify(self, request: ClientRequest) -> dict[str, str]:
        raise NotImplementedError

    def credentials_ok(self, request: ClientRequest, credentials: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def secrets_in(self, request: ClientRequest, body: bytes) -> tuple[list[str], list[str]]:
        """Secrets an exchange carries besides the minted credentials: (the session's own, always masked: a new
        password, a user's apikey; what the client tried, right or wrong, masked while a bound allows)."""
        return [], []


class PushScenario(Scenario):
    def __init__(self) -> None:
        from conformance.fixtures.push import app as push_app

        login, initial = f"partner-{secrets.token_hex(4)}", secrets.token_urlsafe(15)
        numbers = [str(user["msisdn"]) for user in push_app.PushRegistry.load().users]
        super().__init__(
            "push",
            PUSH_STEPS,
            (login, initial),
            ("CONFORMANCE_USERNAME", "CONFORMANCE_PASSWORD"),
            {"CONFORMANCE_MSISDN": numbers[0], "CONFORMANCE_MSISDNS": ",".join(numbers[:3])},
        )
        # A fresh v1.1.0 account: its password is the initial one until the client resets it.
        self.app = push_app.create_app((login, initial), initial=True, delivery_delay=0.005)
        self._account = self.app.extensions["push"].accounts[login]

    def classify(self, request: ClientRequest) -> dict[str, str]:
        from conformance.fixtures.http import basic_credentials

        header = request.header("Authorization")
        if header is None:
            return {"authorization": "missing"}
        supplied = basic_credentials(header)
        if supplied is None:
            return {"authorization": "other"}
        login, password = supplied
        if login != self.credentials[0]:
            return {"authorization": "basic", "password": "wrong"}
        if hmac.compare_digest(password.encode(), self.credentials[1].encode()):
            return {"authorization": "basic", "password": "initial"}
        if hmac.compare_digest(password.encode(), self._account.password.encode()):
            return {"authorization": "basic", "password": "current"}
        return {"authorization": "basic", "password": "wrong"}

    def credentials_ok(self, request: ClientRequest, credentials: Mapping[str, str]) -> bool:
        return credentials.get("password") == "current"

    def secrets_in(self, request: ClientRequest, body: bytes) -> tuple[list[str], list[str]]:
        tried = []
        if request.operation == "resetPassword" and isinstance(request.json, dict):
            proposed = request.json.get("password")
            if isinstance(proposed, str):
                tried.append(proposed)  # even when the reset is refused, it is the client's secret
        supplied = request.header("Authorization")
        if supplied:
            from conformance.fixtures.http import basic_credentials

            pair = basic_credentials(supplied)
            if pair is not None:
                tried.append(pair[1])  # whatever password the client sent, right or wrong
        return [self._account.password], tried  # the account's: after a reset, the client's new password


class ImbeeScenario(Scenario):
    def __init__(self) -> None:
        from conformance.fixtures.imbee import app as imbee_app

        from ..profiles import get_profile
        from ..target import TargetConfig

        profile = get_profile("imbee")
        config = TargetConfig.parse(profile.default_target_config(), "default", profile.config_settings)
        token, key = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
        super().__init__(
            "imbee",
            IMBEE_STEPS,
            (token, key),
            ("CONFORMANCE_IMBEE_AUTH", "CONFORMANCE_IMBEE_KEY"),
            {"CONFORMANCE_IMBEE_BOT": str(config.identity("bot")["bot_idsha"])},
        )
        self.app = imbee_app.create_app((token, key))
        self._state = self.app.extensions["imbee"]

    def classify(self, request: ClientRequest) -> dict[str, str]:
        token, corporate = self.credentials
        auth, key = request.header("Authorization"), request.header("X-WOOS-KEY")
        facts = {"authorization": "missing" if auth is None else "token" if _same(auth, token) else "wrong"}
        if key is None:
            facts["key"] = "missing"
        elif _same(key, corporate):
            facts["key"] = "corporate"
        else:
            facts["key"] = "user" if self._state.user_by_apikey(key) is not None else "wrong"
        return facts

    def credentials_ok(self, request: ClientRequest, credentials: Mapping[str, str]) -> bool:
        from .rules import KEY_FOR

        return credentials["authorization"] == "token" and credentials["key"] == KEY_FOR.get(request.operation or "")

    def secrets_in(self, request: ClientRequest, body: bytes) -> tuple[list[str], list[str]]:
        tried = [request.header("X-WOOS-KEY") or "", request.header("Authorization") or ""]
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):
            return [], tried
        inner = answer.get("body") if isinstance(answer, dict) else None
        handed_out = []
        if isinstance(inner, dict):  # a new user's apikey and password
            handed_out = [str(inner[key]) for key in ("apikey", "pass") if isinstance(inner.get(key), str)]
        return handed_out, tried


def _same(supplied: str, expected: str) -> bool:
    return hmac.compare_digest(supplied.encode("utf-8", "surrogatepass"), expected.encode())


SCENARIOS: dict[str, Callable[[], Scenario]] = {"push": PushScenario, "imbee": ImbeeScenario}
