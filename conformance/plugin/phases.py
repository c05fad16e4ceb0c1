"""pytest's test phases become records for the requirements a test names (`@pytest.mark.requirement`).

- setup or teardown that raises: `error` (a fixture's failure is no evidence either way);
- a skipped test: `skip`, with its reason;
- a test whose body ran to its end: `pass`, naming what it examined (the answers it got, or what it said it
  examined with `suites.support.examined`); with neither, it examined nothing: `skip` (not tested), never a pass
  (checks that failed on its answers have their own records);
- a test whose own assertion failed: `fail`, with the assertion's message and the last exchange;
- a test stopped by a failing check: no record of its own (the check's record is the evidence);
- a test that got no answer, or raised anything else: `error`; a test that hit a suite bug (`SuiteBug`) also stops
  the run as a suite bug (exit 5).

A test whose own assertion failed on advisory rules only is a warning: its report says passed, with the warning,
so an HTML table or a CI dashboard never shows a conforming service in red.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from schemathesis.core.failures import Failure

from ..outcomes import ERROR, FAIL, PASS, SKIP, Record, SuiteBug
from ..report.masking import Masker
from ..transport import AnswerTooLarge, NoAnswer, cause_of
from . import active_run, requirements_of

REASON_LIMIT = 1500
LONGREPR_LIMIT = 8000  # characters of a failure's traceback kept for the log and JUnit


class CheckFailures(AssertionError):
    """Checks failed on answers a hand-written test received; they are recorded already."""


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    run = active_run(item.config)
    if run is not None:
        run.recorder.begin_test(item.nodeid)
    yield
    if run is not None:
        run.recorder.current_test = "run"
        if run.recorder.deadline_reached and not item.session.shouldstop:
            item.session.shouldstop = run.recorder.deadline_reached


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    run = active_run(item.config)
    outcome = yield
    if run is None:
        return
    deferred = run.recorder.deferred_check_failures
    if outcome.excinfo is None and deferred:  # the body ran to its end: show the checks' failures on the test
        outcome.force_exception(
            CheckFailures(f"{len(deferred)} answer(s) failed conformance checks; the first:\n{deferred[0]}")
        )


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup) and not isinstance(exc, Failure):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _no_answer(exc: BaseException) -> BaseException | None:
    """The transport failure behind an exception (in a group, or as its cause), if any."""
    seen, pending = set(), [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NoAnswer | AnswerTooLarge):
            return current
        import requests

        if isinstance(current, requests.RequestException):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return None


def _suite_bug(exc: BaseException) -> SuiteBug | None:
    seen, pending = set(), [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, SuiteBug):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending += [linked for linked in (current.__cause__, current.__context__) if linked is not None]
    return None


def _classify(exc: BaseException) -> tuple[str | None, str]:
    """(record status or None, reason) for a test body that raised `exc`."""
    leaves = _leaves(exc)
    if all(isinstance(leaf, CheckFailures) for leaf in leaves):
        return PASS, ""  # the body ran to its end; the checks have their records
    transport = _no_answer(exc)
    if transport is not None:
        return ERROR, f"no usable answer: {cause_of(transport)}"
    own = [
        leaf for leaf in leaves if isinstance(leaf, AssertionError) and not isinstance(leaf, Failure | CheckFailures)
    ]
    if own:
        return FAIL, str(own[0])
    if all(isinstance(leaf, Failure | CheckFailures) for leaf in leaves):
        return None, ""  # a check stopped the test: its own record is the evidence
    first = next(leaf for leaf in leaves if not isinstance(leaf, Failure | CheckFailures))
    return ERROR, f"the test raised {type(first).__name__}: {first}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _record_phase(item, call, outcome.get_result())  # a module function, which mutation testing can reach


def _record_phase(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """The record of one test phase (see the module's docstring), and the report shown as the record says."""
    marked = requirements_of(item)
    if report.when == "call" and marked:
        # On the report as well: it took a copy of the item's properties when it was made.
        item.user_properties.append(("requirements", " ".join(marked)))
        report.user_properties.append(("requirements", " ".join(marked)))
    run = active_run(item.config)
    if run is None or not marked:
        return
    recorder, masker = run.recorder, run.masker
    status: str | None = None
    reason = ""
    if report.skipped:
        status = SKIP
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = masker.text(reason.removeprefix("Skipped: "))[:REASON_LIMIT]  # a skip reason may quote an answer
        recorder.skips[item.nodeid] = reason
    elif report.when == "call":
        if report.passed:
            status = PASS
        elif call.excinfo is not None:
            status, reason = _classify(call.excinfo.value)
    elif report.failed and call.excinfo is not None:  # setup or teardown raised
        transport = _no_answer(call.excinfo.value)
        cause = (
            f"no usable answer: {cause_of(transport)}"
            if transport
            else (f"{type(call.excinfo.value).__name__}: {call.excinfo.value}")
        )
        status, reason = ERROR, f"{report.when} failed: {cause}"
    bug = _suite_bug(call.excinfo.value) if call.excinfo is not None else None
    if bug is not None:  # no verdict stands on a suite that broke its own contract
        recorder.suite_bugs.append(masker.text(str(bug))[:REASON_LIMIT])
        status, reason = ERROR, f"suite bug: {bug}"
    if status == PASS:
        evidence = recorder.test_evidence()
        if evidence:
            reason = f"examined: {evidence}"
        else:  # it ran to its end without examining anything: no evidence, whatever its assertions said
            status = SKIP
            reason = "the test examined nothing: no answer arrived while it ran, and it named nothing it examined"
            recorder.skips[item.nodeid] = reason
    if status is not None:
        reason = masker.text(reason)[:REASON_LIMIT]
        recorder.add(
            Record(
                marked,
                status,  # type: ignore[arg-type]
                item.nodeid,
                "test" if report.when == "call" else report.when,
                reason=reason,
                title=reason.splitlines()[0][:200] if reason and status != PASS else "",
                exchange=recorder.last_exchange if status in (FAIL, ERROR) else None,
            )
        )
    catalogue = run.profile.requirements
    if status == FAIL and all(catalogue[req].level == "advisory" for req in marked if req in catalogue):
        # Only advice was not followed: a warning, shown as one (the judge makes the record a warn).
        report.outcome = "passed"
        report.longrepr = None
        report.conformance_warning = reason  # type: ignore[attr-defined]
        item.user_properties.append(("warning", reason[:500]))  # JUnit writes the properties of the teardown report
    if report.failed:  # the row of the HTML table says what the finding says (sent along with a worker's report)
        report.conformance_finding = next(  # type: ignore[attr-defined]
            (r.reason or r.title for r in recorder.records if r.test == item.nodeid and r.status != PASS), ""
        )


class MaskReports:
    """Failure texts quote answers: masked before the terminal (the log), JUnit and pytest-html see them.

    In `pytest_runtest_logreport` and after `pytest_exception_interact`, not in makereport: plugins (schemathesis
    among them) rewrite the failure text in between. Registered per run: a report carries no config to find the
    run's masker with.
    """

    def __init__(self, masker: Masker) -> None:
        self.masker = masker

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._mask(report)

    @pytest.hookimpl(trylast=True)
    def pytest_exception_interact(
        self, node: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> None:
        self._mask(report)  # schemathesis rewrites a failed report here; pytest-html reads it at teardown

    def _mask(self, report: pytest.TestReport) -> None:
        if report.skipped and isinstance(report.longrepr, tuple):  # a skip reason may quote an answer
            path, line, reason = report.longrepr
            report.longrepr = (path, line, self.masker.text(str(reason)))
        if report.failed and report.longrepr is not None:
            text = self.masker.text(str(report.longrepr))
            if len(text) > LONGREPR_LIMIT:  # its start says what failed, its end where; the middle repeats
                cut = len(text) - LONGREPR_LIMIT
                text = f"{text[: LONGREPR_LIMIT // 2]}\n... ({cut} characters cut) ...\n{text[-LONGREPR_LIMIT // 2 :]}"
            report.longrepr = text
        report.sections = [(self.masker.text(title), self.masker.text(text)) for title, text in report.sections]
