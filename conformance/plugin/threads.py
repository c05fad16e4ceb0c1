"""One run's tests on threads of this process (`--concurrency N`): while some tests wait for a distant target's
answers, others send theirs. pytest stays the runner: each test goes through its own hooks.

- Lanes. A module's tests stay together, in file order, on one thread: they may depend on one another (a module
  fixture's account, a search before the update it feeds). A test marked `any_order` is a lane of its own (the
  contract tests: one per operation), unless it shares a module-scoped fixture with its module. Every lane starts at
  once (they wait far more than they compute); at most N requests are in flight (the transport's slots), and when
  requests wait for a slot, those of the test that comes first in the run go first, as they would one at a time.
  A contract test also spreads its explicit examples over several threads (`plugin.lanes`).
- Each lane's thread sets its tests up and tears them down along its own chain of nodes (a SetupState per
  thread). A fixture that tests of several lanes use (a session fixture, a parameter of a test spread over lanes)
  is set up and torn down by one of them at a time: a session fixture is built once, by whichever lane asks first.
  A fixture of one lane alone (a module's) is never waited for: a module fixture that sends requests does not hold
  up the other lanes. A module's fixtures go when its lane ends; the session's when every lane has.
- The test bodies run at once; their reports are made and logged one at a time (the terminal, JUnit and the HTML
  report take them in turn).
- Process-wide state that threads would tangle is kept out of the per-test hooks: output capture, log capture,
  the per-test warnings capture, PYTEST_CURRENT_TEST (this module sets up, runs and tears down each test as
  pytest's runner does, without that variable). The warnings of the whole loop are caught once around it, and
  whatever a test prints goes to the run's log. Two things are done one at a time: building a syntax tree
  (`ast.parse`: Python before 3.11.8 and 3.12.2 keeps process-wide state in it, CPython gh-106905), and
  hypothesis' description of a lambda in a strategy's repr (it walks `sys.modules`, which an import may change).
- A suite with tests that must follow every other one (`run_last`) never comes here: its profile runs it one test
  at a time (`Profile.sequential_because`). This module relies on pytest's runner internals (SetupState, the
  session's `_setupstate`); tests/test_concurrency.py proves it on the pytest the project pins.
"""

from __future__ import annotations

import ast
import bdb
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from _pytest.runner import CallInfo, SetupState
from _pytest.warnings import catch_warnings_for_item
from hypothesis import is_hypothesis_test

from ..run import Run
from .lanes import run_in_lanes

# Lanes that run at once. They wait for the network far more than they compute, and the transport bounds the
# requests in flight: every lane starts at once (up to this), and none waits behind a longer one for a thread.
MAX_LANES = 64
# Plugins whose per-test hooks keep process-wide state (sys.stdout swapped, handlers on the root logger, the
# warnings filters): their per-test wrappers are left out of a threaded run.
PER_TEST_GLOBAL_STATE = ("capturemanager", "logging-plugin", "warnings", "faulthandler", "assertion", "runner")


def lanes_of(items: list[pytest.Item]) -> list[list[pytest.Item]]:
    """The items in lanes: each module's in file order, each free `any_order` item alone; longest lanes first."""
    modules: dict[str, list[pytest.Item]] = {}
    alone: list[list[pytest.Item]] = []
    for item in items:
        if item.get_closest_marker("any_order") is not None and not _shares_module_fixtures(item):
            alone.append([item])
        else:
            modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    contract = [lane for lane in alone if _is_contract(lane[0])]
    others = [lane for lane in alone if not _is_contract(lane[0])] + list(modules.values())
    return contract + sorted(others, key=len, reverse=True)  # sorted() keeps file order among equals


def _is_contract(item: pytest.Item) -> bool:
    return hasattr(item, "operation_label")  # schemathesis' items: every generated case of one operation


def _fixture_definitions(item: pytest.Item) -> set[Any]:
    """Every fixture definition `item` may run (the ones it overrides too)."""
    info = getattr(item, "_fixtureinfo", None)
    return {definition for chain in info.name2fixturedefs.values() for definition in chain} if info else set()


def _shared_fixtures(lanes: list[list[pytest.Item]]) -> list[Any]:
    """The fixture definitions that tests of more than one lane use, in the order of their first use."""
    lanes_using: dict[Any, set[int]] = {}
    for number, lane in enumerate(lanes):
        for item in lane:
            for definition in _fixture_definitions(item):
                lanes_using.setdefault(definition, set()).add(number)
    return [definition for definition, using in lanes_using.items() if len(using) > 1]


def _shares_module_fixtures(item: pytest.Item) -> bool:
    """A fixture wider than a test and narrower than the session lives and dies with its module's lane."""
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    return any(definition.scope in ("class", "module", "package") for chain in definitions for definition in chain)


class PerThreadSetupState:
    """`session._setupstate` while lanes run: each thread's own stack of set-up nodes, all kept for the end."""

    def __init__(self) -> None:
        self._mine = threading.local()
        self.states: list[SetupState] = []
        self._lock = threading.Lock()

    def _state(self) -> SetupState:
        state = getattr(self._mine, "state", None)
        if state is None:
            state = self._mine.state = SetupState()
            with self._lock:
                self.states.append(state)
        return state

    @property
    def stack(self) -> dict[Any, Any]:
        return self._state().stack

    def setup(self, item: pytest.Item) -> None:
        self._state().setup(item)

    def addfinalizer(self, finalizer: Callable[[], object], node: Any) -> None:
        self._state().addfinalizer(finalizer, node)

    def teardown_exact(self, nextitem: Any) -> None:
        self._state().teardown_exact(nextitem)

    def is_node_active(self, node: Any) -> bool:
        return self._state().is_node_active(node)


class ThreadedRun:
    """Registered by the plugin when the run asks for more than one thread."""

    def __init__(self, config: pytest.Config, run: Run) -> None:
        self.config, self.run, self.threads = config, run, run.concurrency
        self.shared: dict[Any, threading.Lock] = {}  # fixtures of several lanes -> the lock of their setup and teardown
        self.reports = threading.Lock()  # makereport, logreport, logstart, logfinish: one at a time
        self.hooks: dict[str, Any] = {}
        self.in_lane = threading.local()

    def _hooks(self) -> dict[str, Any]:
        """The per-test hooks without the plugins that keep per-test global state (registered by now)."""
        manager = self.config.pluginmanager
        left_out = [plugin for name in PER_TEST_GLOBAL_STATE if (plugin := manager.get_plugin(name)) is not None]
        phases = ("protocol", "setup", "call", "teardown")
        return {
            name: manager.subset_hook_caller(name, remove_plugins=left_out)
            for name in (f"pytest_runtest_{phase}" for phase in phases)
        }

    # pytest's runner does these, and sets PYTEST_CURRENT_TEST, one variable for every thread: it is left out.
    @staticmethod
    def _setup(item: pytest.Item) -> None:
        item.session._setupstate.setup(item)

    @staticmethod
    def _call(item: pytest.Item) -> None:
        item.runtest()

    @staticmethod
    def _teardown(item: pytest.Item, nextitem: Any) -> None:
        item.session._setupstate.teardown_exact(nextitem)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return None  # pytest's own loop says so and stops
        if session.config.option.collectonly or not session.items:
            return None
        self.hooks = self._hooks()
        order = {item.nodeid: index for index, item in enumerate(session.items)}
        self.run.breakers.rank_of = lambda test: order.get(test, len(order))  # a request of no test: last
        planned = lanes_of(session.items)
        self.shared = {definition: threading.Lock() for definition in _shared_fixtures(planned)}
        main_state = session._setupstate
        states = PerThreadSetupState()
        session._setupstate = states  # type: ignore[assignment]
        try:
            caught = catch_warnings_for_item(config=self.config, ihook=self.config.hook, when="runtest", item=None)
            with caught, _one_at_a_time():
                with ThreadPoolExecutor(min(len(planned), MAX_LANES), thread_name_prefix="conformance-test") as pool:
                    lanes = [pool.submit(self._lane, session, lane) for lane in planned]
                    try:
                        for lane in lanes:
                            lane.result()  # a lane that raised is a bug: it ends the run (pytest's internal error)
                    except KeyboardInterrupt:
                        session.shouldstop = "interrupted"  # each lane ends with the test it is running
                        raise
        finally:
            session._setupstate = main_state
            _tear_down(states.states)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
        return True

    def _lane(self, session: pytest.Session, lane: list[pytest.Item]) -> None:
        self.in_lane.active = True
        try:
            for index, item in enumerate(lane):
                if session.shouldstop or session.shouldfail:
                    break
                # The lane's last test tears its module down, never the session: other lanes still use its fixtures.
                nextitem = lane[index + 1] if index + 1 < len(lane) else session
                self.hooks["pytest_runtest_protocol"](item=item, nextitem=nextitem)
        except BaseException:  # a bug of this loop: the other lanes stop, and the run ends with it
            session.shouldstop = "a test thread failed"
            raise
        finally:
            self.in_lane.active = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Any) -> bool | None:
        """pytest's protocol (runner.runtestprotocol) in a lane: shared fixtures built and finished by one lane at a
        time, the reports made and logged in turn."""
        if not getattr(self.in_lane, "active", False):
            return None
        with self.reports:
            item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        if hasattr(item, "_request") and not item._request:
            item._initrequest()
        try:
            with self._fixtures_of(item):
                setup = self._phase(item, "setup")
            if setup.passed:
                self._phase(item, "call")
            if item.session.shouldfail or item.session.shouldstop:
                nextitem = item.session
            with self._fixtures_of(item):
                self._phase(item, "teardown", nextitem=nextitem)
        finally:
            if hasattr(item, "_request"):
                item._request = False
                item.funcargs = None
        with self.reports:
            item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    @contextlib.contextmanager
    def _fixtures_of(self, item: pytest.Item) -> Iterator[None]:
        """The locks of the shared fixtures `item` may build or finish (a session fixture built already is only
        read), taken in one order by every thread."""
        used = _fixture_definitions(item)
        locks = [
            lock
            for definition, lock in self.shared.items()
            if definition in used and not (definition.scope == "session" and definition.cached_result is not None)
        ]
        with contextlib.ExitStack() as held:
            for lock in locks:
                held.enter_context(lock)
            yield

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        """A contract test's examples, spread over as many lanes as requests may be in flight (`plugin.lanes`)."""
        if not _is_contract(pyfuncitem) or not is_hypothesis_test(pyfuncitem.obj):
            return None
        kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        run_in_lanes(pyfuncitem.obj, kwargs, self.threads, self.run.recorder)
        return True

    def _phase(self, item: pytest.Item, when: str, **kwargs: Any) -> pytest.TestReport:
        """runner.call_and_report, its report made and logged under the reports' lock."""
        hook, runner = self.hooks[f"pytest_runtest_{when}"], getattr(self, f"_{when}")
        reraise: tuple[type[BaseException], ...] = (pytest.exit.Exception, KeyboardInterrupt)
        call = CallInfo.from_call(
            lambda: hook.call_extra([runner], {"item": item, **kwargs}),
            when=when,  # type: ignore[arg-type]
            reraise=reraise,
        )
        with self.reports:
            report: pytest.TestReport = item.ihook.pytest_runtest_makereport(item=item, call=call)
            item.ihook.pytest_runtest_logreport(report=report)
            if _interactive(call, report):
                item.ihook.pytest_exception_interact(node=item, call=call, report=report)
        return report


def _tear_down(states: list[SetupState]) -> None:
    """What the lanes left set up: the session's fixtures, built by whichever lane asked first. Every one is torn
    down, and the first failure raised after (pytest's own session teardown raises too)."""
    failures: list[BaseException] = []
    for state in states:
        try:
            state.teardown_exact(None)
        except BaseException as exc:  # the others still get their teardown
            failures.append(exc)
    if failures:
        raise failures[0]


def _interactive(call: CallInfo[None], report: pytest.TestReport) -> bool:
    """runner.check_interactive_exception: an exception a debugger (or schemathesis' report rewriting) sees."""
    if call.excinfo is None or hasattr(report, "wasxfail"):
        return False
    return not call.excinfo.errisinstance((pytest.skip.Exception, bdb.BdbQuit))


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    """`ast.parse` and hypothesis' lambda descriptions under one lock while the lanes run (see the module's
    docstring). Re-entrant: a description parses its source."""
    from hypothesis.internal import lambda_sources

    lock = threading.RLock()
    patched = [(ast, "parse"), (lambda_sources, "lambda_description")]
    originals = [getattr(module, name) for module, name in patched]

    def alone(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return function(*args, **kwargs)

        return call

    for (module, name), original in zip(patched, originals, strict=True):
        setattr(module, name, alone(original))
    try:
        yield
    finally:
        for (module, name), original in zip(patched, originals, strict=True):
            setattr(module, name, original)
