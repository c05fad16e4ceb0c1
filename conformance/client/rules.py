"""The per-request client rules (`x-client-requirements` with `check: request`): a request in, findings out.

Each API has one function, `judge_push` / `judge_imbee`, that says which rules a request was subject to
(`examined`: the evidence a rule passes on) and what broke them (`findings`, each with the JSON pointer into the
body). A rule a request was not subject to (a campaign rule on a card deeplink) is not examined: no evidence.
Schema failures are found with the spec's own request schema and assigned to the rule that states them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from ..checks.imbee import is_real_date
from .requests import ClientRequest

MAX_FINDINGS = 20  # per request: a 10,000-entry batch of bad numbers is reported by its first few
UTF8 = ("utf-8", "utf8")
BATCH_MAX = 10000
SENDS = ("sendPush", "sendPushBulkSingle")


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    pointer: str = ""  # JSON pointer into the request body ("" for the request as a whole)

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "pointer": self.pointer, "message": self.message}


@dataclass
class Judgement:
    examined: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def examine(self, *rules: str) -> None:
        self.examined += [rule for rule in rules if rule not in self.examined]

    def find(self, rule: str, message: str, pointer: str = "") -> None:
        self.examine(rule)
        finding = Finding(rule, message, pointer)
        if finding not in self.findings and len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)


def pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in path)


_VALIDATORS: dict[tuple[int, str], jsonschema_rs.Draft202012Validator] = {}  # specs live as long as their profile


def schema_errors(spec: Mapping[str, Any], schema_name: str, body: Any) -> list[jsonschema_rs.ValidationError]:
    """The first few failures of `body` against the spec's components schema `schema_name`."""
    key = (id(spec), schema_name)
    if key not in _VALIDATORS:
        # $refs (#/components/...) resolve against the root of the schema, which carries the spec's components.
        root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
        _VALIDATORS[key] = jsonschema_rs.Draft202012Validator(root)
    return list(itertools.islice(_VALIDATORS[key].iter_errors(body), MAX_FINDINGS))


def _encoding(request: ClientRequest, judgement: Judgement, rule: str) -> None:
    if not request.body:
        return
    judgement.examine(rule)
    if not request.utf8:
        judgement.find(rule, f"the body is not UTF-8 ({request.utf8_problem})")
    if request.charset is not None and request.charset not in UTF8:
        judgement.find(rule, f"the Content-Type names charset={request.charset}, not UTF-8")


# --- Push ----------------------------------------------------------------------------------------------


def judge_push(request: ClientRequest, credentials: Mapping[str, str], spec: Mapping[str, Any]) -> Judgement:
    """`credentials`: what the sandbox saw before answering (`authorization`: basic | missing | other; `password`:
    initial | current | wrong, for the session's login)."""
    judgement = Judgement()
    judgement.examine("C-PUSH-01")
    if credentials["authorization"] == "missing":
        judgement.find("C-PUSH-01", "the request has no Authorization header")
    elif credentials["authorization"] != "basic":
        judgement.find("C-PUSH-01", "the Authorization header is not HTTP Basic credentials (RFC 7617)")
    elif credentials.get("password") == "initial":
        judgement.examine("C-PUSH-02")
        if request.operation != "resetPassword":
            judgement.find(
                "C-PUSH-02",
                f"{request.method} {request.path} was called with the initial password: reset it first "
                "(PUT /public/user/reset-password), then use the new one",
            )
    elif credentials.get("password") == "current":
        judgement.examine("C-PUSH-02")
    _encoding(request, judgement, "C-PUSH-03")
    if request.body:
        judgement.examine("C-PUSH-08")
        if request.media_type != "application/json":
            shown = f"Content-Type {request.media_type}" if request.media_type else "no Content-Type"
            judgement.find("C-PUSH-08", f"the body is sent with {shown}, not application/json")
    if request.operation in SENDS:
        _push_send(request, judgement, spec, batch=request.operation == "sendPushBulkSingle")
    return judgement


def _push_send(request: ClientRequest, judgement: Judgement, spec: Mapping[str, Any], *, batch: bool) -> None:
    judgement.examine("C-PUSH-07")
    if request.json_error or not isinstance(request.json, dict):
        judgement.find("C-PUSH-07", request.json_error or "the body is not a JSON object")
        return
    body: dict[str, Any] = request.json
    if "msisdn" in body:
        judgement.examine("C-PUSH-04")
    payload = body.get("payload")
    if isinstance(payload, dict) and any(isinstance(payload.get(k), str) for k in ("title", "message")):
        judgement.examine("C-PUSH-05")
    deeplink = payload.get("deeplink") if isinstance(payload, dict) else None
    if isinstance(deeplink, dict) and deeplink.get("target") == "campaign":
        judgement.examine("C-PUSH-06")
        if not isinstance(deeplink.get("campaignId"), str):
            judgement.find(
                "C-PUSH-06", "the deeplink's target is campaign, but it has no campaignId string", "/payload/deeplink"
            )
    if batch and isinstance(body.get("msisdn"), list):
        judgement.examine("C-PUSH-09")
        if len(body["msisdn"]) > BATCH_MAX:
            judgement.find(
                "C-PUSH-09", f"the batch lists {len(body['msisdn'])} numbers, more than {BATCH_MAX}", "/msisdn"
            )
    schema = "BulkSinglePushRequest" if batch else "SendPushRequest"
    for error in schema_errors(spec, schema, body):
        path, kind = list(error.instance_path), _kind(error)
        where = pointer(path)
        if path and path[0] == "msisdn":
            message = f"{_plain(error)}; send the number without '+' as a JSON integer"
            judgement.find("C-PUSH-04", message, where)
        elif path[:1] == ["payload"] and path[-1:] in (["title"], ["message"]) and kind == "MaxLength":
            limit = error.kind.limit
            judgement.find("C-PUSH-05", f"{path[-1]} has {len(error.instance)} characters, more than {limit}", where)
        elif "campaignId" in path or "campaignId" in error.message:
            continue  # judged above, on the deeplink itself
        else:
            judgement.find("C-PUSH-07", _plain(error), where)


def _kind(error: jsonschema_rs.ValidationError) -> str:
    return type(error.kind).__name__  # MaxLength, Type, Enum, Required, ...


def _plain(error: jsonschema_rs.ValidationError) -> str:
    """The validator's message, cut: it quotes the failing value, which may be a whole body."""
    message = error.message
    return message if len(message) <= 200 else message[:200] + "..."


# --- Imbee ---------------------------------------------------------------------------------------------

USER_MEMBERS = ("uniqueIdSha", "platform", "deviceName", "hardwareId", "osVersion")
CHAT_MEMBERS = ("type", "contacts", "title")
KEY_FOR = {"createToken": "corporate", "createExternalUser": "corporate", "createChat": "user"}


def judge_imbee(request: ClientRequest, credentials: Mapping[str, str], spec: Mapping[str, Any]) -> Judgement:
    """`credentials`: `authorization`: token | missing | wrong; `key`: corporate | user | missing | wrong."""
    judgement = Judgement()
    judgement.examine("C-IMB-01", "C-IMB-02")
    if request.media_type != "application/json":
        shown = f"Content-Type {request.media_type}" if request.media_type else "no Content-Type header"
        judgement.find("C-IMB-01", f"the request has {shown}; every request must say application/json")
    if credentials["authorization"] == "missing":
        judgement.find("C-IMB-02", "the request has no Authorization header (the account's auth token)")
    elif credentials["authorization"] == "wrong":
        judgement.find("C-IMB-02", "Authorization is not the account's auth token, sent as issued")
    if credentials["key"] == "missing":
        judgement.find("C-IMB-02", "the request has no X-WOOS-KEY header")
    expected = KEY_FOR.get(request.operation or "")
    if expected and credentials["key"] != "missing":
        judgement.examine("C-IMB-03")
        if credentials["key"] != expected:
            judgement.find("C-IMB-03", _key_message(request.path, expected, credentials["key"]))
    _encoding(request, judgement, "C-IMB-08")
    body = request.json
    if request.operation == "createToken":
        _token(request, judgement)
    elif request.operation == "createExternalUser":
        _members(request, judgement, spec, "C-IMB-04", "ExternalUserRequest", USER_MEMBERS)
    elif request.operation == "createChat":
        _members(request, judgement, spec, "C-IMB-05", "ChatCreateRequest", CHAT_MEMBERS)
        contacts = body.get("contacts") if isinstance(body, dict) else None
        for index, contact in enumerate(contacts if isinstance(contacts, list) else []):
            if isinstance(contact, dict):
                _misspelt(contact, ("idsha",), judgement, "C-IMB-05", f"/contacts/{index}")
    return judgement


def _key_message(path: str, expected: str, got: str) -> str:
    wanted = "the calling user's apikey (from /third_parties/user/new)" if expected == "user" else "the corporate token"
    sent = {"corporate": "the corporate token", "user": "a user's apikey", "wrong": "a key the sandbox never issued"}
    return f"{path} was called with {sent.get(got, got)} as X-WOOS-KEY; it takes {wanted}"


def _token(request: ClientRequest, judgement: Judgement) -> None:
    judgement.examine("C-IMB-10", "C-IMB-06")
    body = request.json
    if request.json_error or not isinstance(body, dict):
        judgement.find("C-IMB-10", (request.json_error or "the body is not a JSON object") + ", so it names no user")
        return
    if not any(isinstance(body.get(key), str) and body[key] for key in ("virtual_user", "virutal_user")):
        judgement.find("C-IMB-10", "virtual_user is missing, null or empty", "/virtual_user")
    if body.get("mail") is None and body.get("celullar") is None:
        judgement.find("C-IMB-06", "neither mail nor celullar is given; one of them (or both) must be")
    if body.get("date_limit") is not None:
        judgement.examine("C-IMB-07")
        if not is_real_date(body["date_limit"]):
            shown = repr(body["date_limit"])[:40]
            judgement.find("C-IMB-07", f"date_limit {shown} is not a date written YYYY-MM-DD", "/date_limit")


def _members(
    request: ClientRequest,
    judgement: Judgement,
    spec: Mapping[str, Any],
    rule: str,
    schema: str,
    members: tuple[str, ...],
) -> None:
    judgement.examine(rule)
    body = request.json
    if request.json_error or not isinstance(body, dict):
        judgement.find(rule, request.json_error or "the body is not a JSON object")
        return
    _misspelt(body, members, judgement, rule, "")
    for error in schema_errors(spec, schema, body):
        judgement.find(rule, _plain(error), pointer(error.instance_path))


def _misspelt(body: Mapping[str, Any], members: tuple[str, ...], judgement: Judgement, rule: str, at: str) -> None:
    """A member that differs from a documented one only in case or underscores is that member misspelt."""

    def folded(name: str) -> str:
        return name.replace("_", "").lower()

    documented = {folded(name): name for name in members}
    for name in body:
        meant = documented.get(folded(str(name)))
        if meant is not None and name != meant:
            judgement.find(rule, f"member {name!r} is misspelt: the documents spell it {meant!r}", f"{at}/{name}")
