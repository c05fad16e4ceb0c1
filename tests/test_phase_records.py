"""The record each test phase leaves, and the report shown as the record says (in-process, no pytest run): a body that
ran to its end is a pass only with evidence, a skip keeps its reason, an own assertion fails, an assertion on advice
only is a warning the report shows as passed, a fixture's failure is an error, a suite bug stops the run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from schemathesis.core.failures import Failure, FailureGroup

from conformance.checks import RuleViolation
from conformance.outcomes import Record, SuiteBug
from conformance.plugin import RUN
from conformance.plugin.phases import REASON_LIMIT, CheckFailures, _classify, _record_phase, _suite_bug
from conformance.profiles import get_profile
from conformance.recorder import Recorder
from conformance.report.masking import MASK, Masker
from conformance.target import Credentials
from conformance.transport import NoAnswer

SECRET = "pass-word-of-the-run"
NODE = "conformance/suites/loyalty/test_x.py::test_probe"
EXCHANGE = {"request": "the exchange a finding cites"}
EXAMINED_NOTHING = "the test examined nothing: no answer arrived while it ran, and it named nothing it examined"


def make_run() -> SimpleNamespace:
    profile = get_profile("loyalty")
    masker = Masker([SECRET])
    target = SimpleNamespace(
        base_url="https://partner.example",
        credentials=Credentials("user", SECRET),
        embedded=False,
        verify=True,
        faults=(),
    )
    recorder = Recorder(profile, masker, target)
    recorder.begin_test(NODE)
    return SimpleNamespace(profile=profile, masker=masker, recorder=recorder)


class Item:
    """What the hook reads of a pytest item: its run, node id, properties and `requirement` marks."""

    def __init__(self, run: Any, *requirements: str) -> None:
        self.config = SimpleNamespace(stash={RUN: run} if run is not None else {})
        self.nodeid = NODE
        self.user_properties: list[tuple[str, object]] = []
        self._marks = [SimpleNamespace(args=requirements)] if requirements else []

    def iter_markers(self, name: str) -> Any:
        return iter(self._marks if name == "requirement" else [])


def phase(when: str, raised: BaseException | None = None) -> pytest.CallInfo:
    def body() -> None:
        if raised is not None:
            raise raised

    return pytest.CallInfo.from_call(body, when)  # type: ignore[arg-type]


def report_of(call: pytest.CallInfo, longrepr: Any = None, *, skipped: bool = False) -> pytest.TestReport:
    outcome = "skipped" if skipped else "failed" if call.excinfo is not None else "passed"
    return pytest.TestReport(NODE, ("test_x.py", 1, "test_probe"), {}, outcome, longrepr, call.when)


def recorded(run: Any) -> list[tuple]:
    return [(r.requirements, r.status, r.test, r.check, r.reason, r.title) for r in run.recorder.records]


def test_a_body_that_ran_to_its_end_passes_naming_what_it_examined() -> None:
    run = make_run()
    item = Item(run, "R-LOY-01", "R-LOY-03")
    run.recorder.examined("two callbacks a fixture gathered")
    run.recorder.last_exchange = EXCHANGE  # a finding cites the exchange it judged; a pass cites none
    report = report_of(phase("call"))
    _record_phase(item, phase("call"), report)
    assert recorded(run) == [
        (("R-LOY-01", "R-LOY-03"), "pass", NODE, "test", "examined: two callbacks a fixture gathered", "")
    ]
    assert [r.exchange for r in run.recorder.records] == [None]
    assert item.user_properties == report.user_properties == [("requirements", "R-LOY-01 R-LOY-03")]
    assert report.outcome == "passed" and not hasattr(report, "conformance_finding")


def test_a_body_that_examined_nothing_is_not_tested_whatever_its_assertions_said() -> None:
    run = make_run()
    _record_phase(Item(run, "R-LOY-01"), phase("call"), report_of(phase("call")))
    assert recorded(run) == [(("R-LOY-01",), "skip", NODE, "test", EXAMINED_NOTHING, EXAMINED_NOTHING)]
    assert run.recorder.skips == {NODE: EXAMINED_NOTHING}


@pytest.mark.parametrize(
    "longrepr",
    [
        ("test_x.py", 3, f"Skipped: no [identities.blocked] for {SECRET}"),
        f"Skipped: no [identities.blocked] for {SECRET}",
    ],
    ids=["tuple", "text"],
)
def test_a_skip_keeps_its_reason_masked(longrepr: Any) -> None:
    run = make_run()
    call = phase("setup", pytest.skip.Exception("skipped"))
    _record_phase(Item(run, "R-LOY-20"), call, report_of(call, longrepr, skipped=True))
    reason = f"no [identities.blocked] for {MASK}"
    assert recorded(run) == [(("R-LOY-20",), "skip", NODE, "setup", reason, reason)]
    assert run.recorder.skips == {NODE: reason}


def test_a_long_skip_reason_is_cut() -> None:
    run = make_run()
    call = phase("setup", pytest.skip.Exception("skipped"))
    _record_phase(Item(run, "R-LOY-20"), call, report_of(call, ("t.py", 1, "Skipped: " + "y" * 5000), skipped=True))
    assert run.recorder.skips[NODE] == "y" * REASON_LIMIT


def test_an_own_assertion_fails_with_its_message_and_the_exchange_it_judged() -> None:
    run = make_run()
    run.recorder.last_exchange = EXCHANGE
    headline = f"expected 422 for {SECRET}, got 200 " + "z" * 300
    call = phase("call", AssertionError(headline + "\nthe rest of the explanation"))
    report = report_of(call, "the traceback")
    _record_phase(Item(run, "R-LOY-24", "R-LOY-01"), call, report)  # one mandatory rule: a failure, not advice
    reason = f"expected 422 for {MASK}, got 200 " + "z" * 300 + "\nthe rest of the explanation"
    assert recorded(run) == [(("R-LOY-24", "R-LOY-01"), "fail", NODE, "test", reason, reason.splitlines()[0][:200])]
    assert [r.exchange for r in run.recorder.records] == [EXCHANGE]
    assert report.outcome == "failed" and report.longrepr == "the traceback"
    assert report.conformance_finding == reason


def test_an_own_assertion_on_advice_only_is_a_warning_shown_as_passed() -> None:
    run = make_run()
    message = "the suite prefers an empty body " + "w" * 600
    call = phase("call", AssertionError(message))
    report = report_of(call, "the traceback")
    item = Item(run, "R-LOY-39", "R-LOY-24")
    _record_phase(item, call, report)
    assert recorded(run) == [(("R-LOY-39", "R-LOY-24"), "fail", NODE, "test", message, message[:200])]  # judged: warn
    assert (report.outcome, report.longrepr, report.conformance_warning) == ("passed", None, message)
    assert item.user_properties == [("requirements", "R-LOY-39 R-LOY-24"), ("warning", message[:500])]
    assert not hasattr(report, "conformance_finding")


def test_a_test_stopped_by_a_check_leaves_the_checks_record_as_its_finding() -> None:
    run = make_run()
    other = "conformance/suites/loyalty/test_x.py::test_other"
    run.recorder.add(Record(("R-LOY-32",), "fail", other, "c", reason="another test's finding"))
    run.recorder.add(Record(("R-LOY-07",), "pass", NODE, "not_a_server_error", reason="GET /v1/card answered 200"))
    run.recorder.add(Record(("R-LOY-32",), "fail", NODE, "loyalty_error_object", title="Error body is not JSON"))
    call = phase("call", FailureGroup([RuleViolation("error-is-json", "Error body is not JSON", "m")], "checks"))
    report = report_of(call, "the traceback")
    before = recorded(run)
    _record_phase(Item(run, "R-LOY-24"), call, report)
    assert recorded(run) == before  # no record of its own: the check's is the evidence
    assert report.outcome == "failed" and report.conformance_finding == "Error body is not JSON"


def test_a_failed_report_without_a_finding_says_nothing_more() -> None:
    run = make_run()
    call = phase("call", FailureGroup([RuleViolation("error-is-json", "t", "m")], "checks"))
    report = report_of(call, "the traceback")
    _record_phase(Item(run, "R-LOY-24"), call, report)
    assert report.conformance_finding == ""


@pytest.mark.parametrize(
    "raised, reason",
    [
        (
            RuntimeError(f"the fixture could not build {SECRET}"),
            f"setup failed: RuntimeError: the fixture could not build {MASK}",
        ),
        (NoAnswer("connection reset"), "setup failed: no usable answer: no answer"),
    ],
    ids=["fixture", "transport"],
)
def test_a_setup_that_raises_is_an_error_citing_the_last_exchange(raised: BaseException, reason: str) -> None:
    run = make_run()
    run.recorder.last_exchange = EXCHANGE
    call = phase("setup", raised)
    _record_phase(Item(run, "R-LOY-01"), call, report_of(call, "the traceback"))
    assert recorded(run) == [(("R-LOY-01",), "error", NODE, "setup", reason, reason)]
    assert [r.exchange for r in run.recorder.records] == [EXCHANGE]


def test_a_teardown_that_passed_leaves_no_record() -> None:
    run = make_run()
    _record_phase(Item(run, "R-LOY-01"), phase("teardown"), report_of(phase("teardown")))
    assert recorded(run) == []


def test_a_suite_bug_is_an_error_and_stops_the_run() -> None:
    run = make_run()
    bug = SuiteBug(f"check x ended without saying what it examined ({SECRET})")
    call = phase("call", RuntimeError("wrapped"))
    call.excinfo.value.__cause__ = bug
    _record_phase(Item(run, "R-LOY-01"), call, report_of(call, "the traceback"))
    masked = f"check x ended without saying what it examined ({MASK})"
    assert run.recorder.suite_bugs == [masked]
    assert recorded(run) == [(("R-LOY-01",), "error", NODE, "test", f"suite bug: {masked}", f"suite bug: {masked}")]


def test_a_test_naming_no_requirement_or_outside_a_run_leaves_no_record() -> None:
    run = make_run()
    item = Item(run)
    call = phase("call", AssertionError("x"))
    report = report_of(call, "tb")
    _record_phase(item, call, report)
    assert recorded(run) == [] and item.user_properties == [] and report.user_properties == []
    outside = Item(None, "R-LOY-01")
    _record_phase(outside, phase("call"), report_of(phase("call")))
    assert outside.user_properties == [("requirements", "R-LOY-01")]


# --- what a test body's exception says ------------------------------------------------------------------------


class Boom(Failure):
    def __init__(self) -> None:
        super().__init__(operation="GET /v1/card", title="t", message="m")


@pytest.mark.parametrize(
    "raised, expected",
    [
        (CheckFailures("deferred"), ("pass", "")),
        (FailureGroup([Boom(), Boom()], "checks"), (None, "")),
        (AssertionError("expected 200"), ("fail", "expected 200")),
        (ExceptionGroup("g", [Boom(), AssertionError("own")]), ("fail", "own")),
        (NoAnswer("reset"), ("error", "no usable answer: no answer")),
        (ExceptionGroup("g", [Boom(), NoAnswer("reset")]), ("error", "no usable answer: no answer")),
        (ValueError("bad value"), ("error", "the test raised ValueError: bad value")),
        (ExceptionGroup("g", [Boom(), KeyError("k")]), ("error", "the test raised KeyError: 'k'")),
    ],
    ids=[
        "checks-only",
        "stopped-by-checks",
        "own",
        "own-in-group",
        "transport",
        "transport-in-group",
        "other",
        "other-in-group",
    ],
)
def test_what_a_body_raised_decides_its_record(raised: BaseException, expected: tuple) -> None:
    assert _classify(raised) == expected


def test_a_suite_bug_is_found_wherever_it_hides() -> None:
    bug = SuiteBug("bug")
    assert _suite_bug(bug) is bug
    assert _suite_bug(ExceptionGroup("g", [ValueError("a"), bug])) is bug
    visited_twice = RuntimeError("two links to one cause")
    shared = ValueError("shared")
    visited_twice.__cause__ = visited_twice.__context__ = shared
    assert _suite_bug(ExceptionGroup("g", [bug, visited_twice])) is bug  # a cause seen twice is skipped, not the end
    first, second = RuntimeError("1"), RuntimeError("2")
    first.__context__, second.__context__ = second, first  # a cycle: the search ends
    assert _suite_bug(first) is None
