"""The pytest plugin: run options, session fixtures, the `requirement` marker, and the hooks that feed the verdict.

Loaded with `-p conformance.plugin` (the CLI does this); it stays inert unless `--conformance-api` is given.
Evidence reaches the requirement ledger three ways:
- schemathesis' `after_validate` hook: each check's result, mapped to requirement ids by the profile
  (custom checks name their rule; schema failures are mapped by the spec's `x-requirements`);
- `pytest_warning_recorded`: `RuleWarning`s raised by checks become "warn";
- `pytest_runtest_makereport`: a test's outcome counts for the ids of its `requirement` marker,
  unless a check already attributed its failure more precisely.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from schemathesis.core.failures import Failure
from schemathesis.engine import Status
from schemathesis.specs.openapi.checks import JsonSchemaError

from . import runtime
from .checks import RuleViolation, RuleWarning
from .report import verdict as verdict_writer
from .runtime import Run
from .target import ConfigurationError
from .traceability import response_requirements, schema_failure_requirements


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Koshelek / Imbee API conformance")
    group.addoption("--conformance-api", help="the API profile to test (e.g. loyalty)")
    group.addoption("--conformance-base-url", help="the target's base URL; default: the embedded reference service")
    group.addoption("--conformance-target-config", help="TOML file with the partner's test identities")
    group.addoption("--conformance-api-version", help="the API version the target claims")
    group.addoption("--conformance-max-examples", type=int, default=25, help="generated examples per operation")
    group.addoption("--conformance-seed", type=int, help="seed for schemathesis and hypothesis")
    group.addoption("--conformance-ca-bundle", help="CA bundle to verify the target's TLS certificate with")
    group.addoption("--conformance-timeout", type=float, default=10.0, help="seconds to wait for each answer")
    group.addoption("--conformance-verdict", help="where to write the machine-readable verdict (JSON)")
    group.addoption("--conformance-fault", action="append", default=[], help="faulty variant of the embedded service")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirement ids (x-requirements) a test checks")
    config.addinivalue_line("markers", "run_last: runs after every other test (it leaves the target changed)")
    api = config.getoption("conformance_api", None)
    if not api:
        return
    try:
        run = runtime.start(
            api,
            base_url=config.getoption("conformance_base_url"),
            target_config=config.getoption("conformance_target_config"),
            api_version=config.getoption("conformance_api_version"),
            max_examples=config.getoption("conformance_max_examples"),
            seed=config.getoption("conformance_seed"),
            ca_bundle=config.getoption("conformance_ca_bundle"),
            timeout=config.getoption("conformance_timeout"),
            faults=tuple(config.getoption("conformance_fault")),
        )
    except (ConfigurationError, KeyError) as exc:
        raise pytest.UsageError(str(exc).strip("'\"")) from None
    _register_schemathesis_hooks(run)


def pytest_unconfigure(config: pytest.Config) -> None:
    runtime.finish()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that exhaust a rate limit or change an account go last, so that they cannot disturb others.
    items.sort(key=lambda item: item.get_closest_marker("run_last") is not None)


def _active() -> Run | None:
    try:
        return runtime.current()
    except RuntimeError:
        return None


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def run() -> Run:
    return runtime.current()


@pytest.fixture(scope="session")
def http(run: Run) -> Iterator[requests.Session]:
    """A session that sends the target's credentials, verifies its certificate and records each exchange."""
    session = run.session()
    auth = run.profile.auth_kwargs(run.target.credentials)
    session.auth = auth.get("auth")
    session.headers.update(auth.get("headers", {}))
    yield session
    session.close()


@pytest.fixture(scope="session")
def anonymous_http(run: Run) -> Iterator[requests.Session]:
    """Like `http`, without credentials: for the authentication tests."""
    session = run.session()
    yield session
    session.close()


# --- schemathesis hooks ---------------------------------------------------------------------------


def _register_schemathesis_hooks(run: Run) -> None:
    schema = run.schema

    @schema.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        headers = {name: values[0] for name, values in response.headers.items()}
        run.note_exchange(response.request, response.status_code, headers, response.content)

    @schema.hook
    def filter_failure(context: Any, failure: Failure, case: Any, response: Any) -> bool:
        # A 0-byte body is not JSON, but `x-empty-body: allowed` responses may be empty.
        if response.content or "response_schema_conformance" not in type(failure).checks:
            return True
        definition = _response_definition(run, case, response.status_code)
        return definition.get("x-empty-body") != "allowed"

    @schema.hook
    def after_validate(context: Any, case: Any, response: Any, results: list[Any]) -> None:
        test = run.current_test or "outside a test"
        run.note_outcome(case.operation.label, response.request, response.status_code)
        for result in results:
            ids = _requirements_of(run, result.name, result.failure, case, response)
            if result.status == Status.SUCCESS:
                run.ledger.passed(ids, test)
            elif result.failure is not None:
                run.ledger.failed(ids, test, _failure_detail(run, result.name, result.failure))


def _response_definition(run: Run, case: Any, status: int) -> dict[str, Any]:
    from .traceability import response_definition

    return dict(response_definition(run.profile.spec, case.operation.definition.raw, status))


def _requirements_of(run: Run, check: str, failure: Failure | None, case: Any, response: Any) -> tuple[str, ...]:
    spec, operation, status = run.profile.spec, case.operation.definition.raw, response.status_code
    if check == "response_schema_conformance":
        if isinstance(failure, JsonSchemaError):
            return schema_failure_requirements(spec, operation, status, list(failure.instance_path))
        if failure is None and not response.content:
            return ()  # an allowed empty body is no evidence that the schema holds
        return response_requirements(spec, operation, status)
    if isinstance(failure, RuleViolation):
        return run.profile.rule_requirements.get(failure.rule, ())
    if check in operation.get("x-check-requirements", {}):  # the spec may say it per operation
        return tuple(operation["x-check-requirements"][check])
    check_func = next((c for c in run.profile.checks if c.__name__ == check), None)
    rule_names = getattr(check_func, "rules", (check,))
    return tuple(dict.fromkeys(i for rule in rule_names for i in run.profile.rule_requirements.get(rule, ())))


def _failure_detail(run: Run, check: str, failure: Failure) -> dict[str, Any]:
    return {
        "test": run.current_test,
        "check": check,
        "title": run.masker.text(failure.title),
        "message": run.masker.text(str(failure.message))[:2000],
        "exchange": run.last_exchange,
        "seed": run.seed,
    }


# --- pytest hooks ---------------------------------------------------------------------------------


def _marked_requirements(item: pytest.Item) -> tuple[str, ...]:
    return tuple(req for mark in item.iter_markers("requirement") for req in mark.args)


class CheckFailures(AssertionError):
    """Checks failed on answers a hand-written test received; they are already in the ledger."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    run = _active()
    if run is None:
        yield
        return
    run.current_test = item.nodeid
    run.last_exchange = None
    run.deferred_check_failures = []
    outcome = yield
    if outcome.excinfo is None and run.deferred_check_failures:
        first, count = run.deferred_check_failures[0], len(run.deferred_check_failures)
        outcome.force_exception(CheckFailures(f"{count} answer(s) failed conformance checks; the first:\n{first}"))


def _only_check_failures(exc: BaseException) -> bool:
    """True when every leaf of `exc` is a check failure (Hypothesis groups distinct failures together)."""
    if isinstance(exc, (CheckFailures, Failure)):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_check_failures(inner) for inner in exc.exceptions)
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    run = _active()
    marked = _marked_requirements(item)
    if marked:
        item.user_properties.append(("requirements", " ".join(marked)))
    if run is None or report.when != "call":
        if run is not None and report.when == "setup" and report.skipped:
            _note_skip(run, item, report)
        return
    if report.skipped:
        _note_skip(run, item, report)
        return
    transport = _transport_error(call.excinfo)
    if transport:
        run.transport_errors.append(f"{item.nodeid}: {transport}")
    # A test whose own assertions held is evidence for its requirements even when checks failed on the
    # answers it saw (those failures are in the ledger already, under the checks' own requirements).
    checks_only = call.excinfo is not None and _only_check_failures(call.excinfo.value)
    if report.passed or checks_only:
        run.ledger.passed(marked, item.nodeid)
    elif report.failed and not marked:
        run.unattributed_failures.append(item.nodeid)
    elif report.failed:
        message = run.masker.text(str(call.excinfo.value) if call.excinfo else report.longreprtext)
        run.ledger.failed(
            marked,
            item.nodeid,
            {
                "test": item.nodeid,
                "check": "test",
                "title": message.splitlines()[0][:200] if message else "failed",
                "message": message[:2000],
                "exchange": run.last_exchange,
                "seed": run.seed,
            },
        )
    if report.failed:
        # The failure text quotes answers; mask it before pytest-html, JUnit and the log print it.
        report.longrepr = run.masker.text(str(report.longrepr))
        _attach_html_extras(item, report, run)


def _note_skip(run: Run, item: pytest.Item, report: pytest.TestReport) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    run.skips[item.nodeid] = reason.removeprefix("Skipped: ")
    for req_id in _marked_requirements(item):
        run.skip_reasons.setdefault(req_id, run.skips[item.nodeid])


def _transport_error(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str | None:
    """The transport failure behind a test error, if any (refused, DNS, TLS, timeout)."""
    if excinfo is None:
        return None
    seen: list[BaseException] = [excinfo.value]
    while seen:
        exc = seen.pop()
        if isinstance(exc, requests.exceptions.SSLError):
            return f"TLS failure: {exc}"
        if isinstance(exc, requests.exceptions.Timeout):
            return f"timeout: {exc}"
        if isinstance(exc, requests.exceptions.ConnectionError):
            return f"connection failure: {exc}"
        if isinstance(exc, BaseExceptionGroup):
            seen.extend(exc.exceptions)
        if exc.__cause__ is not None:
            seen.append(exc.__cause__)
    return None


def _attach_html_extras(item: pytest.Item, report: pytest.TestReport, run: Run) -> None:
    try:
        from pytest_html import extras
    except ImportError:  # the HTML report is optional when the plugin runs under plain pytest
        return
    exchange = run.last_exchange
    added = getattr(report, "extras", [])
    if exchange:
        added.append(extras.text(exchange["curl"], name="curl (reproduce)"))
        added.append(
            extras.json({"request": exchange["request"], "response": exchange["response"]}, name="request and response")
        )
    report.extras = added


def pytest_warning_recorded(warning_message: Any, when: str, nodeid: str, location: Any) -> None:
    run = _active()
    warning = warning_message.message
    if run is None or not isinstance(warning, RuleWarning):
        return
    ids = run.profile.rule_requirements.get(warning.rule, ())
    run.ledger.warned(
        ids,
        nodeid or run.current_test or "",
        {
            "test": nodeid,
            "message": run.masker.text(warning.message),
            "exchange": run.last_exchange,
        },
    )


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = _active()
    if run is None:
        return
    run.finished = verdict_writer.build(run)
    path = session.config.getoption("conformance_verdict")
    if path:
        verdict_writer.write(run.finished, path)


# --- pytest-html ----------------------------------------------------------------------------------


def pytest_html_report_title(report: Any) -> None:
    run = _active()
    if run is not None:
        report.title = f"{run.profile.spec['info']['title']}: conformance report"


def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session: Any) -> None:
    run = _active()
    if run is None or run.finished is None:
        return
    from .report.html import summary_html

    prefix.append(summary_html(run.finished))


def pytest_html_results_table_header(cells: list[str]) -> None:
    if _active() is not None:
        cells.insert(2, '<th class="sortable" data-column-type="requirements">Requirements</th>')


def pytest_html_results_table_row(report: Any, cells: list[str]) -> None:
    if _active() is not None:
        ids = dict(report.user_properties).get("requirements", "")
        cells.insert(2, f'<td class="col-requirements">{html.escape(ids)}</td>')


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    run = _active()
    if run is None:
        return None
    where = "embedded reference service" if run.target.embedded else "partner target"
    return [
        f"conformance: {run.profile.name} {run.target.api_version} at {run.target.base_url} ({where})",
        f"conformance: seed {run.seed}, {run.max_examples} examples per operation, "
        f"spec sha256 {run.profile.spec_sha256[:12]}",
    ]
