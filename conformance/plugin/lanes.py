"""One hypothesis test spread over several threads: a contract test's explicit examples sent K at a time.

A contract test (schemathesis' hypothesis test of one operation) runs its explicit examples (the spec's examples
and schemathesis' coverage cases: most of its requests), then generates `max_examples` more. Here:

- the explicit examples are dealt out in turn to K lanes (the i-th to lane i mod K), each a hypothesis run of its own
  on its own thread: every one runs once, as in one run;
- only when none of them failed (hypothesis stops there too), the generation runs as one run would: on the test's
  own thread, with its own seed and settings. The generated cases are the very ones `--concurrency 1` sends: a seed
  gives the same cases whatever the concurrency, and so the same findings;
- the failure raised is the one a single run raises: that of the first explicit example that failed (a lane stops at
  its own first failure; the other lanes' failures are in the records, as their checks made them);
- each lane sends through a twin of the test's sessions (`BoundedSession.twin`): the same connections, with headers of
  its own, since schemathesis empties a session's headers while it sends.

Hypothesis runs tests from several threads since 6.136.9; each lane is a `@given` test of its own built from the one
schemathesis made (its strategies, settings, examples and seed): nothing of hypothesis' generation is redone here.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis.reporting import current_reporter, with_reporter

from ..recorder import Recorder, RunningTest
from ..transport import BoundedSession


def explicit_examples(test: Callable[..., Any]) -> list[Any]:
    """The test's explicit examples in the order hypothesis runs them (it runs the list from its end)."""
    return list(reversed(getattr(test, "hypothesis_explicit_examples", ())))


def run_in_lanes(
    test: Callable[..., Any], kwargs: dict[str, Any], lanes: int, recorder: Recorder | None = None
) -> None:
    """Call the hypothesis test `test` with `kwargs` (its fixtures), its explicit examples spread over up to `lanes`
    threads; every lane's requests are the running test's for `recorder`."""
    settings = test._hypothesis_internal_use_settings  # type: ignore[attr-defined]
    examples = explicit_examples(test)
    if Phase.explicit in settings.phases and examples:
        dealt = [examples[lane::lanes] for lane in range(min(lanes, len(examples)))]
        ran = [[0] for _ in dealt]  # examples each lane started: its last is the one it failed on, if it failed
        explicit = [_lane(test, settings, examples=some, ran=ran[lane]) for lane, some in enumerate(dealt)]
        _together(explicit, kwargs, recorder, first=lambda lane: lane + (ran[lane][0] - 1) * len(dealt))
    if Phase.generate in settings.phases:
        _together([_lane(test, settings)], kwargs, recorder)


def _lane(
    test: Callable[..., Any],
    settings: hypothesis.settings,
    *,
    examples: list[Any] | None = None,
    ran: list[int] | None = None,
) -> Callable[..., Any]:
    """A hypothesis test of its own on the same body and strategies: some of the explicit examples (counted in `ran`
    as they start), or (`examples` None) the generation, with the test's own seed. Time-based health checks are off:
    the lanes share one interpreter, and its lock."""
    handle = test.hypothesis  # type: ignore[attr-defined]
    body = handle.inner_test if ran is None else _counted(handle.inner_test, ran)
    lane = hypothesis.given(**handle._given_kwargs)(body)
    suppressed = {*settings.suppress_health_check, HealthCheck.too_slow}
    if examples is not None:
        lane.hypothesis_explicit_examples = list(reversed(examples))  # type: ignore[attr-defined]
        return hypothesis.settings(settings, phases=(Phase.explicit,), suppress_health_check=suppressed)(lane)
    phases = tuple(phase for phase in settings.phases if phase is not Phase.explicit)
    lane = hypothesis.settings(settings, phases=phases, suppress_health_check=suppressed)(lane)
    seed = test._hypothesis_internal_use_seed  # type: ignore[attr-defined]
    return lane if seed is None else hypothesis.seed(seed)(lane)


def _counted(body: Callable[..., Any], ran: list[int]) -> Callable[..., Any]:
    @functools.wraps(body)
    def counted(*args: Any, **kwargs: Any) -> Any:
        ran[0] += 1
        return body(*args, **kwargs)

    return counted


def _own(value: Any) -> Any:
    return value.twin() if isinstance(value, BoundedSession) else value


@contextlib.contextmanager
def _part_of(recorder: Recorder | None, scope: RunningTest) -> Iterator[RunningTest]:
    if recorder is None:
        yield scope
        return
    with recorder.helping(scope) as part:
        yield part


def _together(
    tests: list[Callable[..., Any]],
    kwargs: dict[str, Any],
    recorder: Recorder | None,
    first: Callable[[int], int] = lambda lane: lane,
) -> None:
    """Run the lanes (the first on this thread), and raise the failure of the lane that comes `first` among those
    that failed."""
    failures: list[BaseException | None] = [None] * len(tests)
    scope = recorder.scope if recorder is not None else RunningTest()
    reporter = current_reporter()
    parts = [scope] * len(tests)

    def run(index: int) -> None:
        try:
            with with_reporter(reporter), _part_of(recorder, scope) as part:
                parts[index] = part
                tests[index](**{name: _own(value) for name, value in kwargs.items()})
        except BaseException as exc:  # handed to the test's own thread, which raises it
            failures[index] = exc

    threads = [threading.Thread(target=run, args=(i,), name="conformance-lane") for i in range(1, len(tests))]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    failed = sorted((i for i, failure in enumerate(failures) if failure is not None), key=first)
    # The test's last exchange, what a record of the test itself cites: the failing lane's, else the first lane's.
    cited = parts[failed[0] if failed else 0]
    scope.last, scope.last_record = cited.last, cited.last_record
    if failed:
        raise failures[failed[0]]  # type: ignore[misc]
