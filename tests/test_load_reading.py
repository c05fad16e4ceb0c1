"""How a load run's counts are read and judged (conformance.load.measurement, judging, report), on made-up runs:
no Locust here. Each host below answers as one kind of limiter would; the verdict must follow the documents'
readings (a minute rolling or by the clock, a batch counted once or per number), never cry wolf on a correct one."""

from __future__ import annotations

import json

import pytest

from conformance.load import judging
from conformance.load import report as load_report
from conformance.load.measurement import Measurement, fits_some_clock_minute, trailing_sums
from conformance.load.plan import LoadPlan, RateError, parse_rate
from conformance.load.tally import ACCEPTED, OTHER, REFUSED, SERVER_ERROR, UNREGISTERED, Tally, classify
from conformance.profiles import get_profile

PUSH = get_profile("push")
START = 1_800_000_000.0
REFUSAL_BODY = '{"status": "TOO_MANY_REQUESTS", "errors": ["Sending rate limit exceeded"]}'


def plan(rate: float, *, mode: str = "single", batch: int = 1, duration: float = 10.0) -> LoadPlan:
    return LoadPlan("https://push.example", rate, duration, mode, batch, 79216668899, "/push/delivery", 2, 2, 10**9, 10)


def host_run(the_plan: LoadPlan, decide, *, seconds: float | None = None, per_second: float | None = None):
    """Send at the plan's pace for `seconds`; `decide(t, accepted_so_far_in_units)` answers each request with a
    (kind, status) pair. Returns the master's results as the locustfile writes them."""
    tally = Tally()
    rps = per_second or the_plan.requests_per_second
    total = int((seconds or the_plan.duration) * rps)
    for n in range(total):
        t = n / rps
        kind, status = decide(t)
        recipients = the_plan.recipients_per_request if kind == ACCEPTED else 0
        tally.add(START + t, kind, recipients=recipients, status=status, latency=0.01, retry_after=1.0)
        if kind == REFUSED:
            tally.sample(REFUSED, status, {"Retry-After": "1"}, REFUSAL_BODY.encode())
    return {"workers_expected": 2, "workers_done": [{}, {}], "reasons": {"duration": 2}, "tally": tally.as_dict()}


def rolling_limiter(limit: int, per_request: int = 1):
    accepted: list[tuple[float, int]] = []

    def decide(t: float):
        used = sum(n for when, n in accepted if when > t - 60)
        if used + per_request <= limit:
            accepted.append((t, per_request))
            return ACCEPTED, 200
        return REFUSED, 429

    return decide


def judge_run(the_plan: LoadPlan, results, limit: int, *, interrupted: bool = False):
    measurement = Measurement.of(the_plan, limit, "the target config's rate_limit_per_minute", results)
    stop = judging.stop_of(measurement, interrupted)
    verdict, _records, _facts = judging.verdict(measurement, stop, PUSH.requirements, PUSH.credential_env, {})
    return measurement, verdict, {req_id: r.status for req_id, r in verdict.requirements.items()}


def test_rates_are_read_per_minute_per_second_or_per_hour():
    assert parse_rate("1000000/min") == 1_000_000
    assert parse_rate("10/s") == 600
    assert parse_rate("36000/h") == 600
    for wrong in ("600", "fast", "-5/min", "0/min", "1e9/min"):
        with pytest.raises(RateError):
            parse_rate(wrong)


def test_answers_are_classified_by_what_they_say_about_the_send():
    assert classify(200, b'{"messageId": "x", "state": "ENQUEUED"}') == ACCEPTED
    assert classify(200, b'{"state": "MSISDN_NOT_REGISTERED"}') == UNREGISTERED
    assert classify(429, b"") == REFUSED and classify(304, b"") == REFUSED
    assert classify(503, b"") == SERVER_ERROR and classify(400, b"") == OTHER


def test_a_rolling_minute_and_a_clock_minute_are_both_a_minute():
    burst_across_a_clock_minute = [0] * 50 + [10] * 10 + [10] * 10 + [0] * 50  # 100 in 2 s, 50 either side of 6.0 s
    assert max(trailing_sums(burst_across_a_clock_minute, window=60)) == 200
    assert fits_some_clock_minute(burst_across_a_clock_minute, 100, window=60)
    assert not fits_some_clock_minute([10] * 30, 100, window=60)  # 300 in 3 s: over in any minute


def test_a_host_that_refuses_at_its_limit_passes_both_rules_and_says_how_it_counted():
    the_plan = plan(600, duration=4)
    measurement, verdict, status = judge_run(the_plan, host_run(the_plan, rolling_limiter(10)), 10)
    assert verdict.verdict == "pass", verdict.reasons
    assert status == {"R-RATE-01": "pass", "R-RATE-02": "pass", "R-RATE-04": "pass"}
    assert measurement.held_reading().startswith("single sends")
    assert measurement.describe()["requests"]["refused_with_retry_after"] == 30


def test_a_host_that_never_refuses_fails_the_refusal_rule():
    the_plan = plan(600, duration=4)
    _, verdict, status = judge_run(the_plan, host_run(the_plan, lambda t: (ACCEPTED, 200)), 10)
    assert verdict.verdict == "fail" and status["R-RATE-02"] == "fail"
    assert status["R-RATE-01"] == "pass" and status["R-RATE-04"] == "not-tested"


def test_a_host_counting_clock_minutes_may_accept_its_limit_on_either_side_of_one():
    """60 a minute, the clock minute turning 10 s into a 20 s run at 12/s: 60 accepted before it, 60 after."""
    the_plan = plan(720, duration=20)

    def clock_minutes(t: float):
        window = int((t + 50) // 60)
        clock_minutes.used[window] = clock_minutes.used.get(window, 0) + 1
        return (ACCEPTED, 200) if clock_minutes.used[window] <= 60 else (REFUSED, 429)

    clock_minutes.used = {}
    measurement, verdict, status = judge_run(the_plan, host_run(the_plan, clock_minutes), 60)
    assert measurement.readings["requests"].peak_accepted == 120  # in a rolling minute: twice the limit
    assert status["R-RATE-02"] == "pass" and status["R-RATE-01"] == "pass", verdict.reasons


def test_a_short_run_that_cannot_beat_a_clock_minute_is_not_evidence_of_refusal():
    """Never refusing 20 sends against a limit of 10 could be a clock minute turning halfway: not tested."""
    the_plan = plan(600, duration=2)
    _, verdict, status = judge_run(the_plan, host_run(the_plan, lambda t: (ACCEPTED, 200)), 10)
    assert status["R-RATE-02"] == "not-tested"
    assert verdict.verdict == "inconclusive"
    assert any("twice the limit" in reason for reason in verdict.reasons)


def test_refusals_within_the_limit_fail_the_sending_rule():
    the_plan = plan(540, duration=3)
    _, verdict, status = judge_run(the_plan, host_run(the_plan, rolling_limiter(6)), 600)
    assert verdict.verdict == "fail" and status["R-RATE-01"] == "fail"
    assert (
        status["R-RATE-02"] == "not-tested"
        and "R-RATE-02"
        in judging.facts(
            Measurement.of(the_plan, 600, "x", host_run(the_plan, rolling_limiter(6))), judging.Stop("", False), ()
        ).out_of_reach
    )


def test_early_refusals_on_a_run_over_the_limit_only_warn():
    """A host that smooths the rate (10 a minute as one every 6 s) refuses a burst early: the documents do not say
    a minute's allowance may be spent at once."""
    the_plan = plan(600, duration=4)

    def smoothing(t: float, state={"next": 0.0}):  # noqa: B006 - the limiter's own state
        if t >= state["next"]:
            state["next"] = t + 6
            return ACCEPTED, 200
        return REFUSED, 429

    _, _verdict, status = judge_run(the_plan, host_run(the_plan, smoothing), 10)
    assert status["R-RATE-01"] == "warn"


def test_5xx_within_the_limit_fails_the_sending_rule():
    the_plan = plan(570, duration=3)
    _, _verdict, status = judge_run(the_plan, host_run(the_plan, lambda t: (SERVER_ERROR, 503)), 600)
    assert status["R-RATE-01"] == "fail"


def test_a_run_far_below_the_limit_says_nothing_about_it():
    the_plan = plan(300, duration=3)
    _, verdict, status = judge_run(the_plan, host_run(the_plan, lambda t: (ACCEPTED, 200)), 600)
    assert status["R-RATE-01"] == "not-tested" and verdict.verdict == "inconclusive"


def test_generators_behind_the_rate_are_never_a_pass():
    the_plan = plan(570, duration=4)
    results = host_run(the_plan, lambda t: (ACCEPTED, 200), per_second=6)  # 360/min of the 570 asked
    _, verdict, status = judge_run(the_plan, results, 600)
    assert status["R-RATE-01"] == "error" and verdict.verdict == "inconclusive"
    assert any("could not keep up" in reason for reason in verdict.reasons)


def test_a_batch_counted_per_number_and_one_counted_once_are_told_apart():
    batches = plan(30000, mode="batch", batch=10, duration=10)  # 50 batches of 10 numbers a second
    per_number, _, status = judge_run(batches, host_run(batches, rolling_limiter(100, 10)), 100)
    assert per_number.held_reading().startswith("recipients") and status["R-RATE-02"] == "pass"
    once, _, status = judge_run(batches, host_run(batches, rolling_limiter(100, 1)), 100)
    assert once.held_reading().startswith("requests") and status["R-RATE-02"] == "pass"
    assert status["R-RATE-01"] == "pass"
    _never, _verdict, status = judge_run(batches, host_run(batches, lambda t: (ACCEPTED, 200)), 100)
    assert status["R-RATE-02"] == "fail"  # 500 batches accepted in 10 s: over 100 a minute however counted


def test_a_host_counting_batches_once_is_not_failed_on_recipients():
    batches = plan(1200, mode="batch", batch=20, duration=20)  # one batch of 20 numbers a second
    measurement, verdict, status = judge_run(batches, host_run(batches, lambda t: (ACCEPTED, 200)), 100)
    assert measurement.readings["recipients"].over_accepted and not measurement.readings["requests"].over_accepted
    assert status["R-RATE-02"] == "not-tested" and verdict.verdict == "inconclusive"


def test_unregistered_answers_and_refused_credentials_are_inconclusive():
    the_plan = plan(570, duration=2)
    _, verdict, _ = judge_run(the_plan, host_run(the_plan, lambda t: (UNREGISTERED, 200)), 600)
    assert verdict.verdict == "inconclusive" and any("MSISDN_NOT_REGISTERED" in r for r in verdict.reasons)
    _, verdict, _ = judge_run(the_plan, host_run(the_plan, lambda t: (OTHER, 401)), 600)
    assert verdict.verdict == "inconclusive" and "CONFORMANCE_USERNAME" in verdict.reasons[0]


def test_an_interrupted_or_incomplete_run_is_cut_short():
    the_plan = plan(600, duration=4)
    results = host_run(the_plan, rolling_limiter(10))
    _, verdict, _ = judge_run(the_plan, results, 10, interrupted=True)
    assert verdict.verdict == "inconclusive" and "interrupted" in verdict.reasons[0]
    _, verdict, _ = judge_run(the_plan, {**results, "workers_done": [{}]}, 10)
    assert verdict.verdict == "inconclusive" and "never reported" in verdict.reasons[0]


def test_the_report_escapes_what_the_host_sent_and_charts_the_run():
    the_plan = plan(600, duration=4)
    measurement, verdict, _ = judge_run(the_plan, host_run(the_plan, rolling_limiter(10)), 10)
    stop = judging.stop_of(measurement, False)
    document = load_report.document(
        verdict=verdict,
        measurement=measurement,
        stop=stop,
        profile=PUSH,
        base_url=the_plan.base_url,
        embedded=False,
        faults=(),
        target_config={},
        started=START,
        duration=5.0,
        out_of_reach={},
    )
    json.dumps(document)  # the verdict JSON is plain JSON
    assert document["api"] == "push" and document["kind"] == "load" and document["counts"]["pass"] == 3
    hostile = {"refused": {"status": 429, "headers": {"Retry-After": "<b>1</b>"}, "body": "<script>x()</script>"}}
    page = load_report.page(document, hostile)
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page and "<b>1</b>" not in page
    assert page.count("<svg") == 2 and "limit" in page
