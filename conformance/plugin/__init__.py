"""The pytest plugin of a conformance run (`-p conformance.plugin`): options, the run, fixtures, collection.

Its parts, one job each:
- this module: the options, the `Run` (built in `pytest_configure`, kept in `config.stash`), the fixtures
  that hand it to tests, the collection of run-dependent parameters, and the verdict at the session's end;
- `schemathesis_bridge`: schemathesis' check results become records;
- `phases`: pytest's setup / call / teardown outcomes become records;
- `html`: the pytest-html report's summary and extras;
- `threads`: the tests on a pool of threads in this process (`--concurrency`), and `lanes`: one contract test's
  examples spread over several;
- `distributed`: one run over pytest-xdist's workers (`pytest -n`), their records merged for the judge.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import hypothesis.configuration
import pytest
import requests

from ..judge import RunFacts, Verdict, judge
from ..outcomes import Record
from ..run import DEFAULT_DEADLINE, Run, RunOptions, start
from ..target import ConfigurationError
from ..transport import DEFAULT_MAX_BODY
from . import distributed, schemathesis_bridge
from .distributed import group_by_module

pytest_plugins = ["conformance.plugin.phases"]

RUN = pytest.StashKey[Run]()
BROKEN_SUITE = pytest.StashKey[str]()  # a test module that did not import: a suite bug, no verdict
VERDICT = pytest.StashKey[Verdict]()
CONTRACT = "__conformance_contract__"  # set on a test function by `contract_test`


class Outcome:
    """Handed to `pytest.main(plugins=[...])` by the CLI: receives the judged run when the session ends."""

    def __init__(self) -> None:
        self.run: Run | None = None
        self.verdict: Verdict | None = None
        self.records: list[Record] = []
        self.facts: RunFacts = RunFacts()
        self.certification: Any = None  # a client certification whose journal the session judges
        self.terminal: Any = None  # the CLI's masked terminal: it masks with the run's masker once there is one
        self.broken = ""  # why no verdict could be reached: the suite itself failed (a module, a worker, a check)

    @pytest.hookimpl(trylast=True)  # after the plugin's own pytest_configure built the run
    def pytest_configure(self, config: pytest.Config) -> None:
        run = active_run(config)
        if run is not None and self.terminal is not None:
            self.terminal.use(run.masker)


def run_of(config: pytest.Config) -> Run:
    try:
        return config.stash[RUN]
    except KeyError:
        raise RuntimeError(
            "no conformance run is active: run the suite through `conformance run` "
            "or pytest with `-p conformance.plugin --conformance-api NAME`"
        ) from None


def active_run(config: pytest.Config) -> Run | None:
    return config.stash.get(RUN, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Koshelek / Imbee API conformance")
    group.addoption("--conformance-api", help="the API profile to test (e.g. loyalty)")
    group.addoption("--conformance-base-url", help="the target's base URL; default: the embedded reference service")
    group.addoption("--conformance-target-config", help="TOML file with the partner's test identities")
    group.addoption(
        "--conformance-reference-data",
        action="store_true",
        help="with --conformance-base-url and no target config: use the reference service's sample data on purpose",
    )
    group.addoption("--conformance-api-version", help="the API version the target claims")
    group.addoption("--conformance-max-examples", type=int, default=25, help="generated examples per operation")
    group.addoption("--conformance-seed", type=int, help="seed for schemathesis and hypothesis")
    group.addoption(
        "--conformance-concurrency", type=int, default=1, help="requests in flight at once, from as many threads"
    )
    group.addoption("--conformance-ca-bundle", help="CA bundle to verify the target's TLS certificate with")
    group.addoption("--conformance-timeout", type=float, default=10.0, help="seconds to wait for each answer")
    group.addoption("--conformance-deadline", type=float, default=DEFAULT_DEADLINE, help="seconds for the whole run")
    group.addoption("--conformance-max-body", type=int, default=DEFAULT_MAX_BODY, help="largest answer body read")
    group.addoption("--conformance-verdict", help="where to write the machine-readable verdict (JSON)")
    group.addoption("--conformance-fault", action="append", default=[], help="faulty variant of the embedded service")
    group.addoption("--conformance-artefacts", help="directory for whole bodies the reports show cut")
    group.addoption("--conformance-started", type=float, help="when the run started (epoch seconds; default: now)")
    group.addoption("--conformance-baseline", help="a previous verdict or a curated baseline: known findings marked")
    group.addoption("--conformance-callback-listen", help="HOST:PORT of the suite's callback listener")
    group.addoption("--conformance-callback-tls-cert", help="certificate of the callback listener (HTTPS)")
    group.addoption("--conformance-callback-tls-key", help="private key of the callback listener (HTTPS)")
    group.addoption(
        "--conformance-callback-public-url", help="the URL the host posts callbacks to, if not the listener's"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirement ids (x-requirements) a test checks")
    config.addinivalue_line("markers", "run_last: runs after every other test (it leaves the target changed)")
    config.addinivalue_line("markers", "run_params(argnames, build): parameters built from the run")
    config.addinivalue_line("markers", "api_versions(*versions): the test applies to these API versions only")
    config.addinivalue_line("markers", "any_order: the test's items may run in any order, on any worker")
    api = config.getoption("conformance_api", None)
    if not api:
        return
    options = RunOptions(
        api=api,
        base_url=config.getoption("conformance_base_url"),
        target_config=config.getoption("conformance_target_config"),
        reference_data=config.getoption("conformance_reference_data"),
        api_version=config.getoption("conformance_api_version"),
        max_examples=config.getoption("conformance_max_examples"),
        seed=config.getoption("conformance_seed"),
        concurrency=max(1, config.getoption("conformance_concurrency")),
        ca_bundle=config.getoption("conformance_ca_bundle"),
        timeout=config.getoption("conformance_timeout"),
        deadline=config.getoption("conformance_deadline"),
        max_body=config.getoption("conformance_max_body"),
        faults=tuple(config.getoption("conformance_fault")),
        callback_listen=config.getoption("conformance_callback_listen"),
        callback_tls_cert=config.getoption("conformance_callback_tls_cert"),
        callback_tls_key=config.getoption("conformance_callback_tls_key"),
        callback_public_url=config.getoption("conformance_callback_public_url"),
        artefacts=config.getoption("conformance_artefacts"),
        attach=distributed.attachment(config),
        baseline=config.getoption("conformance_baseline"),
        client=next(
            (
                plugin.certification
                for plugin in config.pluginmanager.get_plugins()
                if isinstance(plugin, Outcome) and plugin.certification
            ),
            None,
        ),
    )
    try:
        run = start(options)
    except ConfigurationError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("conformance_started"):
        run.started = config.getoption("conformance_started")  # the CLI's start: one duration everywhere
    config.stash[RUN] = run
    # Hypothesis keeps a cache in the working directory unless told otherwise: the run's scratch it is.
    hypothesis.configuration.set_hypothesis_home_dir(run.scratch / "hypothesis")
    seed_codec_tables(run.scratch / "hypothesis")
    if run.client is None:  # a client's journal is judged by its suite: schemathesis sends nothing
        schemathesis_bridge.install(run)
    from .html import HtmlReport
    from .phases import MaskReports

    config.pluginmanager.register(HtmlReport(run, config), "conformance-html")
    config.pluginmanager.register(MaskReports(run.masker), "conformance-masking")
    config.pluginmanager.register(Interruption(run), "conformance-interruption")
    if distributed.is_controller(config):
        config.pluginmanager.register(distributed.Controller(config), "conformance-controller")
    elif run.concurrency > 1 and not hasattr(config, "workerinput"):  # an xdist worker runs what it is handed
        from .threads import ThreadedRun

        config.pluginmanager.register(ThreadedRun(config, run), "conformance-threads")


# The characters each codec schemathesis and the suites generate with can encode: (encodable, not round-tripping).
CODEC_TABLES = {"utf-8": [[[0, 0xD7FF], [0xE000, 0x10FFFF]], []], "ascii": [[[0, 0x7F]], []]}


def seed_codec_tables(home: Path) -> None:
    """Put hypothesis' codec tables where it looks for them first.

    Hypothesis derives them by encoding all 1.1 million code points (about 4 s of CPU for utf-8 alone) and
    caches the result under its home directory, which for a run is a fresh scratch directory: every run, and
    every pytest-xdist worker of a run, would pay it again. The tables of these two codecs are known exactly.
    A hypothesis that names or shapes its cache differently just derives them itself.
    """
    import gzip
    import json
    import unicodedata

    directory = home / "unicode_data" / unicodedata.unidata_version
    directory.mkdir(parents=True, exist_ok=True)
    for codec, table in CODEC_TABLES.items():
        with gzip.GzipFile(directory / f"codec-v2-{codec}.json.gz", "wb", mtime=1) as file:
            file.write(json.dumps(table).encode())


class Interruption:
    """Ctrl-C: the run's user stopped it (the run deadline stops the session too, and says so on its own).
    Registered per run: pytest's hook carries no config to find the run with.

    Python raises KeyboardInterrupt wherever the main thread is when the signal comes, and where it comes inside a
    gc callback or a finalizer Python prints "Exception ignored" and goes on: the handler also tells the run's
    breakers, and every further request raises it again."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.previous: list[Any] = []  # the handler this one stands in for, while it does

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if threading.current_thread() is threading.main_thread():  # only the main thread may set a handler
            self.previous.append(signal.signal(signal.SIGINT, self._ctrl_c))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        while self.previous:
            signal.signal(signal.SIGINT, self.previous.pop() or signal.default_int_handler)

    def _ctrl_c(self, signum: int, frame: Any) -> None:
        self.run.breakers.ctrl_c.set()
        raise KeyboardInterrupt

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if isinstance(excinfo.value, pytest.Session.Interrupted):  # pytest stopping the session (the deadline)
            return
        if self.run.client is None and self.run.interrupted is None:
            self.run.interrupted = (
                f"the run was interrupted (Ctrl-C) after {self.run.duration:g} s: what it had not reached is not "
                "tested, and what it found so far is not the whole picture"
            )


def pytest_unconfigure(config: pytest.Config) -> None:
    run = active_run(config)
    if run is not None:
        run.stop()
        hypothesis.configuration.set_hypothesis_home_dir(None)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def run(request: pytest.FixtureRequest) -> Run:
    return run_of(request.config)


@pytest.fixture(scope="session")
def http(run: Run) -> Iterator[requests.Session]:
    """A session through the run's HTTP layer that sends the target's credentials."""
    session = run.session()
    yield session
    session.close()


@pytest.fixture(scope="session")
def anonymous_http(run: Run) -> Iterator[requests.Session]:
    """Like `http`, without credentials: for the authentication tests."""
    session = run.session(credentials=False)
    yield session
    session.close()


# --- collection ----------------------------------------------------------------------------------


def contract_test(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a test as the schemathesis contract test of the run: it is parametrized, at collection, with the
    run's `contract_schema` (one item per operation), through schemathesis' own `parametrize`."""
    setattr(func, CONTRACT, True)
    return pytest.mark.any_order(func)  # one item per operation, each on its own


def run_params(argnames: str, build: Callable[[Run], list[Any]]) -> pytest.MarkDecorator:
    """Parametrize a test with values that depend on the run (its operations, its target config)."""
    return pytest.mark.run_params(argnames, build)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> Any:
    if not getattr(obj, CONTRACT, False) or not collector.istestfunction(obj, name):
        return None
    run = active_run(collector.config)
    if run is None:
        return None
    parametrized = run.contract_schema.parametrize()(obj)
    setattr(parametrized, CONTRACT, False)  # functools.wraps copied the mark: collect it as schemathesis' now
    return collector.ihook.pytest_pycollect_makeitem(collector=collector, name=name, obj=parametrized)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    run = active_run(metafunc.config)
    if run is None:
        return
    for marker in metafunc.definition.iter_markers("run_params"):
        argnames, build = marker.args
        metafunc.parametrize(argnames, build(run))


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = active_run(config)
    if run is None:
        return
    # Tests of another API version than the claimed one are not part of this run (their rules are not applicable).
    other_version = [
        item
        for item in items
        if (mark := item.get_closest_marker("api_versions")) is not None and run.target.api_version not in mark.args
    ]
    if other_version:
        config.hook.pytest_deselected(items=other_version)
        items[:] = [item for item in items if item not in other_version]
    catalogue = run.profile.requirements
    for item in items:
        marked = requirements_of(item)
        unknown = [req_id for req_id in marked if req_id not in catalogue]
        if not marked or unknown:  # a suite bug: every test says which documented rules it checks
            raise RuntimeError(
                f"{item.nodeid}: " + (f"names unknown requirements {unknown}" if unknown else "names no requirement")
            )
    _follow_the_plan(config, items, run)
    # Tests that exhaust a rate limit or change an account go last, so that they cannot disturb others.
    items.sort(key=lambda item: item.get_closest_marker("run_last") is not None)
    if getattr(config.option, "loadgroup", False):  # a pytest-xdist worker
        group_by_module(items)


def _follow_the_plan(config: pytest.Config, items: list[pytest.Item], run: Run) -> None:
    """A test whose every rule does not bind this target is not part of the run; one whose rules this run cannot
    test (an identity or option the target config lacks) is skipped with that reason, whatever the test would do."""
    if run.plan is None:
        return
    not_applicable, unmet = run.plan.not_applicable, run.plan.unmet
    not_binding = [item for item in items if all(req in not_applicable for req in requirements_of(item))]
    if not_binding:
        config.hook.pytest_deselected(items=not_binding)
        items[:] = [item for item in items if item not in not_binding]
    for item in items:
        ids = requirements_of(item)
        lacking = [req for req in ids if req in unmet]
        if lacking and all(req in unmet or req in not_applicable for req in ids):
            item.add_marker(pytest.mark.skip(reason=unmet[lacking[0]]))


def _junit_properties(config: pytest.Config, verdict: Verdict) -> None:
    """The JUnit XML carries the judge's verdict and every requirement's status as testsuite properties."""
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    xml.add_global_property("conformance.verdict", verdict.verdict)
    xml.add_global_property("conformance.exit_code", verdict.exit_code)
    for req_id, result in verdict.requirements.items():
        xml.add_global_property(f"requirement.{req_id}", result.status)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.testsfailed and active_run(session.config) is not None:
        session.config.stash[BROKEN_SUITE] = f"{session.testsfailed} test module(s) could not be collected"


def requirements_of(item: pytest.Item) -> tuple[str, ...]:
    return tuple(dict.fromkeys(req for mark in item.iter_markers("requirement") for req in mark.args))


# --- the end: one judge, one verdict -----------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = active_run(session.config)
    if run is not None and hasattr(session.config, "workerinput"):  # a worker: the controller judges
        distributed.hand_back(session.config)
        return
    controller = session.config.pluginmanager.get_plugin("conformance-controller")
    if controller is not None and controller.broken:
        session.config.stash[BROKEN_SUITE] = "; ".join(controller.broken)
    if run is not None and run.recorder.suite_bugs:  # a check or test broke the suite's own contract
        session.config.stash[BROKEN_SUITE] = "suite bug: " + "; ".join(dict.fromkeys(run.recorder.suite_bugs))
    broken = exitstatus == pytest.ExitCode.INTERNAL_ERROR or BROKEN_SUITE in session.config.stash
    if run is None or broken:  # a suite bug: no verdict can be trusted
        for plugin in session.config.pluginmanager.get_plugins():
            if isinstance(plugin, Outcome):
                plugin.broken = session.config.stash.get(BROKEN_SUITE, "")
        return
    from ..report import verdict_json

    run.ended = time.time()
    records = list(run.recorder.records)
    if run.client is not None:
        facts = run.client.facts()
    else:
        operations = [result.ok().label for result in run.contract_schema.get_all_operations()]
        facts = replace(
            run.recorder.facts(operations, run.not_applicable, run.out_of_reach), interrupted=run.interrupted
        )
    verdict = judge(records, run.profile.requirements, facts)
    session.config.stash[VERDICT] = verdict
    _junit_properties(session.config, verdict)
    path = session.config.getoption("conformance_verdict")
    if path:
        verdict_json.write(verdict_json.build(run, verdict), path)
    for plugin in session.config.pluginmanager.get_plugins():
        if isinstance(plugin, Outcome):
            plugin.run, plugin.verdict, plugin.records, plugin.facts = run, verdict, records, facts
