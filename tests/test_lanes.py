"""A contract test's explicit examples spread over threads (conformance.plugin.lanes): each runs once, on several
threads; the generation is the very one an unsplit run makes; a failing example stops the test before it generates;
each lane sends through a twin of the test's session. Plain hypothesis tests, no service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from conformance.plugin.lanes import run_in_lanes
from conformance.transport import BoundedSession, Breakers, Limits

EXPLICIT = list(range(1000, 1013))  # the generated values are below 1000


def contract_like(fail_on: tuple[int, ...] = ()) -> Callable[..., Any]:
    """A test shaped like schemathesis' contract test: explicit examples, a seed, a generation budget."""

    @hypothesis.settings(max_examples=15, database=None, deadline=None)
    @hypothesis.given(value=st.integers(0, 999))
    def test(value: int, sink: list[tuple[int, threading.Thread]]) -> None:
        sink.append((value, threading.current_thread()))
        assert value not in fail_on, f"{value} broke a rule"

    for value in EXPLICIT:
        test = hypothesis.example(value=value)(test)
    return hypothesis.seed(20261127)(test)


def test_every_explicit_example_runs_once_on_several_threads_then_the_same_generation() -> None:
    unsplit: list[tuple[int, threading.Thread]] = []
    contract_like()(sink=unsplit)
    split: list[tuple[int, threading.Thread]] = []
    run_in_lanes(contract_like(), {"sink": split}, lanes=4)
    explicit = [(value, thread) for value, thread in split if value in EXPLICIT]
    assert sorted(value for value, _ in explicit) == EXPLICIT
    assert len({thread for _, thread in explicit}) == 4
    generated = [value for value, _ in split if value not in EXPLICIT]
    assert generated == [value for value, _ in unsplit if value not in EXPLICIT]  # the same cases, in order
    assert {thread for value, thread in split if value not in EXPLICIT} == {threading.current_thread()}


def test_a_failing_explicit_example_stops_the_test_before_it_generates() -> None:
    sink: list[tuple[int, threading.Thread]] = []
    with pytest.raises(AssertionError, match="1005 broke a rule"):
        run_in_lanes(contract_like(fail_on=(1005,)), {"sink": sink}, lanes=4)
    assert sorted(value for value, _ in sink) == EXPLICIT  # every example ran, and nothing was generated


def test_the_failure_raised_is_the_one_a_single_run_raises() -> None:
    # Hypothesis runs the examples last attached first: 1012, 1011, ... 1000. One run stops at 1003, the first that
    # fails, and raises it; on 4 lanes, 1003 (lane 1) and 1001 (lane 3) both fail.
    single: list[tuple[int, threading.Thread]] = []
    with pytest.raises(AssertionError, match="1003 broke a rule"):
        contract_like(fail_on=(1003, 1001))(sink=single)
    with pytest.raises(AssertionError, match="1003 broke a rule"):
        run_in_lanes(contract_like(fail_on=(1001, 1003)), {"sink": []}, lanes=4)


def test_each_lane_sends_through_a_twin_of_the_session() -> None:
    limits = Limits()
    session = BoundedSession(limits, Breakers(limits))
    session.headers["Authorization"] = "token"
    seen: list[BoundedSession] = []

    @hypothesis.settings(database=None, phases=[hypothesis.Phase.explicit])
    @hypothesis.given(value=st.integers())
    def test(value: int, http: BoundedSession) -> None:
        seen.append(http)
        http.headers = {}  # what schemathesis does while it sends: it must not reach another thread's requests

    for value in range(4):
        test = hypothesis.example(value=value)(test)
    run_in_lanes(test, {"http": session}, lanes=2)
    assert len(seen) == 4 and all(twin is not session and twin.adapters is session.adapters for twin in seen)
    assert session.headers["Authorization"] == "token"
