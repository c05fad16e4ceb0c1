"""One run over several processes (the suite under `pytest -n N --dist loadgroup`): pytest-xdist's workers send the
requests, the controller owns the target and judges. (`conformance run --concurrency` uses threads of one process
instead, `plugin.threads`: on two cores a worker's start-up cost more than its requests saved.)

- The controller (the pytest session that was started) starts the run as always (the embedded reference service,
  the seed, the deadline) and hands each worker an `Attachment` through `workerinput`; it runs no test itself.
- A worker builds its `Run` on that attachment: same target, credentials, seed and deadline, its own HTTP
  session and recorder.
- Order is kept where it matters: every module's tests stay together on one worker, in file order
  (`--dist loadgroup` with one `xdist_group` per module), except tests marked `any_order` (the contract
  tests: one item per operation, each independent), which go wherever a worker is free. Tests marked
  `run_last` need every other test finished: a suite that has them runs sequentially
  (`Profile.sequential_because`). A 429's Retry-After holds back every worker: the controller's back-off file
  travels in the `Attachment`.
- When a worker ends, what it saw (`Recorder.export`) travels back in `workeroutput` and is merged into the
  controller's recorder; the one judge then reads the merged records. A worker that ends without them is a
  suite failure: no verdict is given on part of a run.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..run import Attachment

ATTACH_KEY = "conformance_attach"
SEEN_KEY = "conformance_seen"


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"


def attachment(config: pytest.Config) -> Attachment | None:
    """The controller's run, as handed to this worker (None outside a worker)."""
    workerinput = getattr(config, "workerinput", None)
    if not workerinput or ATTACH_KEY not in workerinput:
        return None
    return Attachment(**workerinput[ATTACH_KEY])


class Controller:
    """Registered in the controller only."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.broken: list[str] = []  # why no verdict can be given on this run

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # a worker could not import a test module: a suite bug
            self.broken.append(f"{report.nodeid or 'a test module'} could not be collected")

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        from . import run_of

        node.workerinput[ATTACH_KEY] = Attachment.of(run_of(self.config)).as_dict()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        from . import run_of

        seen = getattr(node, "workeroutput", {}).get(SEEN_KEY)
        if seen is None:
            self.broken.append(f"worker {node.gateway.id} ended without its results ({error or 'no output'})")
            return
        run_of(self.config).recorder.merge(seen)


def group_by_module(items: list[pytest.Item]) -> None:
    """Each module's tests run together, in order, on one worker; `any_order` tests go anywhere, and first.

    First, because they are the longest (a contract test sends every generated case of its operation) and xdist
    hands out work in collection order (`--no-loadscope-reorder`): started last, they would be the run's tail.
    """
    must_be_last = [item.nodeid for item in items if item.get_closest_marker("run_last") is not None]
    if must_be_last:  # a suite bug: its profile must say why it runs sequentially
        raise RuntimeError(f"{must_be_last[0]} must run after every other test: no worker can promise that")
    items.sort(key=lambda item: item.get_closest_marker("any_order") is None)
    for item in items:
        if item.get_closest_marker("any_order") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


def hand_back(config: pytest.Config) -> None:
    """At a worker's session end: what it saw goes to the controller."""
    from . import active_run

    run = active_run(config)
    if run is not None:
        config.workeroutput[SEEN_KEY] = run.recorder.export()  # type: ignore[attr-defined]
