"""A rerun of what failed (`conformance rerun`): each failing or erroring finding of a report, tried again and
judged by the same rule, several times, to tell a reproducible defect from a fixed or a flaky one.

How a finding is tried again (one *attempt*):
- a check's finding: the exchange it cites is sent again as recorded (method, URL, headers, body), the headers
  that carried the run's own credentials re-filled from the environment. The answer goes through the run's own
  bridge with the same check (for a schema finding: the schema, at the same place), so the attempt yields records
  as a run would, and their finding keys. A check that needs to know how a case was generated (invalid or valid
  data) is re-judged by the rule it applies: the answer's status must be one it expects.
- a test's own finding: the test runs again (its requests are its own; no single exchange shows its assertion).

An attempt *reproduced* the finding when its key came back, did *not reproduce* it when the answer was judged and
the key did not come back; it got *no answer*, or could *not be judged* (say, the test was skipped). Over the
attempts a finding is:
- reproducible: every judged attempt reproduced it;
- fixed: every attempt was judged and none reproduced it;
- flaky: some attempts reproduced it and some did not;
- inconclusive: no attempt could be judged (or none reproduced it and some could not be judged);
- not replayable: the report lacks what a replay needs (a value it masks that is not the run's credential).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from .findings import TEST_CHECKS, Operations, key_of
from .outcomes import RecordLog
from .report.exchange import own_credential_headers
from .report.masking import MASK

if TYPE_CHECKING:
    from .run import Run

REPRODUCED, NOT_REPRODUCED, NO_ANSWER, NOT_JUDGED = "reproduced", "not reproduced", "no answer", "not judged"
REPRODUCIBLE, FIXED, FLAKY, INCONCLUSIVE, NOT_REPLAYABLE = (
    "reproducible",
    "fixed",
    "flaky",
    "inconclusive",
    "not replayable",
)
CLASSES = (REPRODUCIBLE, FLAKY, FIXED, INCONCLUSIVE, NOT_REPLAYABLE)
RERUN_STATUSES = ("fail", "error")  # what a rerun tries again: a warning is advice, not a defect to chase
# Checks that judge a case by how it was generated (invalid or valid data): re-judged by their status rule.
STATUS_RULE_CHECKS = ("negative_data_rejection", "positive_data_acceptance")
# Headers a replay leaves to the HTTP client: they describe the original connection, not the request.
_TRANSPORT_HEADERS = frozenset({"content-length", "host", "connection", "transfer-encoding"})


@dataclass
class Finding:
    """One finding of the report to try again."""

    key: str
    requirement: str
    parts: dict[str, str]
    title: str
    status: str
    exchange: dict[str, Any] | None
    tests: list[str]

    @property
    def by_test(self) -> bool:
        return self.parts.get("check") in TEST_CHECKS


@dataclass
class Attempt:
    outcome: str
    note: str = ""
    status: int | None = None  # the answer's HTTP status, when one came
    found: list[dict[str, str]] = field(default_factory=list)  # what the attempt found: key, title, status
    exchange: dict[str, Any] | None = None  # the attempt's masked exchange (the evidence)

    def as_dict(self, number: int) -> dict[str, Any]:
        return {
            "attempt": number,
            "outcome": self.outcome,
            "note": self.note,
            "status": self.status,
            "found": self.found,
            "exchange": self.exchange,
        }


def plan(report: dict[str, Any]) -> list[Finding]:
    """The failing and erroring findings of a report, each once (a finding is listed under its requirement)."""
    out: dict[str, Finding] = {}
    for requirement in report.get("requirements", []):
        for finding in requirement.get("findings", []):
            if finding.get("status") not in RERUN_STATUSES or "key" not in finding or finding["key"] in out:
                continue
            out[finding["key"]] = Finding(
                finding["key"],
                requirement["id"],
                dict(finding.get("key_parts", {})),
                str(finding.get("title") or ""),
                finding["status"],
                finding.get("exchange"),
                list(finding.get("tests", [])),
            )
    return list(out.values())


def classify(outcomes: list[str]) -> str:
    judged = [outcome for outcome in outcomes if outcome in (REPRODUCED, NOT_REPRODUCED)]
    hits = outcomes.count(REPRODUCED)
    if not judged:
        return INCONCLUSIVE
    if hits == len(judged):
        return REPRODUCIBLE
    if hits == 0:
        return FIXED if len(judged) == len(outcomes) else INCONCLUSIVE
    return FLAKY


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


def request_of(finding: Finding, old_base: str, new_base: str, credentials: dict[str, str]) -> Request | str:
    """The request to send again, or why it cannot be sent as it was."""
    exchange = finding.exchange
    if not exchange or not isinstance(exchange.get("request"), dict):
        return "the finding cites no exchange"
    shown = exchange["request"]
    url = str(shown.get("url") or "")
    if not url.startswith(old_base.rstrip("/")):
        return "the exchange went elsewhere than the report's target"
    url = new_base.rstrip("/") + url[len(old_base.rstrip("/")) :]
    if MASK in url:
        return "its URL holds a value the report masks"
    refill = {name.lower() for name in shown.get("from_environment", [])}
    own = {name.lower(): value for name, value in credentials.items()}
    headers: dict[str, str] = {}
    for name, value in dict(shown.get("headers") or {}).items():
        lowered = name.lower()
        if lowered in _TRANSPORT_HEADERS:
            continue
        if lowered in refill and lowered in own:
            headers[name] = own[lowered]
        elif MASK in str(name) + str(value):
            return f"its {name} header held a value the report masks, and it was not the run's own credential"
        else:
            headers[name] = str(value)
    body_text = str(shown.get("body") or "")
    if shown.get("body_file"):
        try:
            body_text = Path(shown["body_file"]).read_text(encoding="utf-8", errors="surrogatepass")
        except OSError:
            return f"the whole request body ({shown['body_file']}) is not where the report says"
    if body_text.startswith("(not UTF-8) "):
        return "its body was not UTF-8, and the report keeps it escaped"
    if MASK in body_text:
        return "its body holds a value the report masks"
    body = body_text.encode("utf-8", "surrogatepass") if body_text else None
    return Request(str(shown.get("method") or "GET").upper(), url, headers, body)


class ExchangeReplayer:
    """Sends a finding's exchange again through a run (its HTTP layer, recorder and bridge) and judges the answer."""

    def __init__(self, run: Run, old_base: str) -> None:
        self.run, self.old_base = run, old_base
        self.operations = _operations_of(run)
        self.credentials = own_credential_headers(run.profile.auth_kwargs(run.target.credentials))
        self.checks = {getattr(check, "__name__", ""): check for check in run.profile.checks}
        self.session = run.session(credentials=False)  # the recorded headers carry (re-filled) credentials
        self.by_label = {}
        for result in run.schema.get_all_operations():
            op = result.ok()
            documented = self.operations.of({"request": {"method": op.method, "url": run.target.base_url + op.path}})
            self.by_label[documented] = op

    def close(self) -> None:
        self.session.close()

    def replayable(self, finding: Finding) -> Request | str:
        request = request_of(finding, self.old_base, self.run.target.base_url, self.credentials)
        if isinstance(request, Request) and finding.parts.get("operation") not in self.by_label:
            return f"{finding.parts.get('operation') or 'its operation'} is not an operation of this run"
        return request

    def attempt(self, finding: Finding, request: Request, label: str) -> Attempt:
        recorder = self.run.recorder
        recorder.records = RecordLog()  # this attempt's records only
        recorder.current_test = label
        recorder.last_exchange = None
        check = finding.parts.get("check", "")
        try:
            response = self.session.request(request.method, request.url, headers=request.headers, data=request.body)
        except requests.RequestException as exc:
            found = self._found()
            outcome = REPRODUCED if finding.key in {f["key"] for f in found} else NO_ANSWER
            return Attempt(outcome, f"no answer: {exc.__class__.__name__}", None, found, recorder.last_exchange)
        exchange = recorder.last_exchange
        if check == "availability":
            return Attempt(NOT_REPRODUCED, "the answer came", response.status_code, [], exchange)
        op = self.by_label[finding.parts["operation"]]
        if check in STATUS_RULE_CHECKS:
            return self._by_status_rule(check, op, response, exchange)
        function = self.checks.get(check)
        if function is None:
            return Attempt(NOT_JUDGED, f"the check {check} is not one of this suite's", response.status_code)
        from schemathesis.core.failures import Failure

        try:
            self._case(op, request).validate_response(response, checks=[function])
        except (BaseExceptionGroup, Failure):  # the failures are recorded by the bridge
            pass
        except Exception as exc:  # the check could not judge this answer: say so, never call it fixed
            return Attempt(NOT_JUDGED, f"the check raised {type(exc).__name__}", response.status_code, [], exchange)
        found = self._found()
        examined = any(record.check == check for record in recorder.records)
        if finding.key in {f["key"] for f in found}:
            return Attempt(REPRODUCED, "", response.status_code, found, exchange)
        note = "" if examined else f"the check did not apply to this answer (HTTP {response.status_code})"
        return Attempt(NOT_REPRODUCED, note, response.status_code, found, exchange)

    def _case(self, op: Any, request: Request) -> Any:
        """The schemathesis case of the replayed request (its answer is what is judged; the case names the operation,
        and its parameters let a failure's text name the request)."""
        prefix = urlsplit(self.run.target.base_url).path.rstrip("/")
        path = urlsplit(request.url).path.removeprefix(prefix)
        names = re.findall(r"\{([^}]+)\}", op.path)
        pattern = re.sub(r"\\\{[^}]*\\\}", "([^/]+)", re.escape(op.path))
        matched = re.match(f"^{pattern}/?$", path)
        values = [unquote(value) for value in matched.groups()] if matched else ["" for _ in names]
        extra: dict[str, Any] = {}
        if request.body:
            try:
                extra["body"] = json.loads(request.body)
            except ValueError:
                pass
        query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
        return op.Case(path_parameters=dict(zip(names, values, strict=True)), query=query, **extra)

    def _by_status_rule(self, check: str, op: Any, response: requests.Response, exchange: Any) -> Attempt:
        from schemathesis.core.transport import expand_status_codes

        config = op.schema.config.checks_config_for(operation=op, phase=None)
        expected = list(getattr(config, check).expected_statuses or [])
        allowed = expand_status_codes(expected)
        rule = (
            f"{'an invalid' if check == STATUS_RULE_CHECKS[0] else 'a valid'} request is answered {', '.join(expected)}"
        )
        outcome = NOT_REPRODUCED if response.status_code in allowed else REPRODUCED
        return Attempt(outcome, f"judged by the rule: {rule}", response.status_code, [], exchange)

    def _found(self) -> list[dict[str, str]]:
        found = []
        for record in self.run.recorder.records:
            if record.status not in ("fail", "error", "warn"):
                continue
            for requirement in record.requirements:
                key = key_of(requirement, record, self.operations)
                found.append(
                    {"key": key.id, "requirement": requirement, "title": record.title, "status": record.status}
                )
        return found


def _operations_of(run: Run) -> Operations:
    from .report.verdict_json import operations_of

    return operations_of(run)


_NODE = re.compile(r"^[\w./-]+\.py::[^\x00-\x1f]+$")


def is_suite_test_id(node_id: str) -> bool:
    """Whether a report's test id looks like a pytest node id of a suite (it is handed to pytest as an argument)."""
    return bool(_NODE.match(node_id)) and ".." not in node_id.split("::", 1)[0]
