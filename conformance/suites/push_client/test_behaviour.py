"""How the client reacts to the sandbox's refusals: the steps where it answers 429, 503 and 400 on purpose."""

from itertools import pairwise

import pytest

from ..client_journal import cite, in_step, resent_unchanged
from ..support import Run

SENDS = ("sendPush", "sendPushBulkSingle")
TOLERANCE = 0.1  # seconds: the journal stamps an exchange when it is answered, not when it arrived
BACKOFF, MAX_ATTEMPTS = 1.0, 5


@pytest.mark.requirement("C-PUSH-10")
def test_resends_after_retry_after(run: Run) -> None:
    sent = in_step(run, "rate-limited", SENDS)
    refused = next((entry for entry in sent if entry["stance"]), None)
    if refused is None:
        pytest.skip("the rate-limited step never refused a send: the client sent none there with good credentials")
    wait = float(refused["response"]["headers"].get("Retry-After", "0"))
    later = [entry for entry in sent if entry["n"] > refused["n"]]
    run.recorder.examined(f"the re-send after the 429 #{refused['n']}")
    assert later, f"the message refused with 429 (#{refused['n']}) was never re-sent; the documents ask for a re-send"
    gap = later[0]["at"] - refused["at"]
    if gap + TOLERANCE < wait:
        cite(run, later[0])
        raise AssertionError(f"re-sent {gap:.2f} s after a 429 with Retry-After: {wait:g}: wait at least that long")


@pytest.mark.requirement("C-PUSH-11")
def test_backs_off_after_503(run: Run) -> None:
    sent = in_step(run, "unavailable", SENDS)
    first = next((i for i, entry in enumerate(sent) if entry["stance"]), None)
    if first is None:
        pytest.skip("the unavailable step never answered 503: the client sent nothing there with good credentials")
    attempts = sent[first:]
    run.recorder.examined(f"{len(attempts)} attempt(s) from the 503 #{sent[first]['n']} on")
    for before, after in pairwise(attempts):
        gap = after["at"] - before["at"]
        if before["response"]["status"] == 503 and gap + TOLERANCE < BACKOFF:
            cite(run, after)
            raise AssertionError(f"attempt #{after['n']} came {gap:.2f} s after a 503: back off at least {BACKOFF:g} s")
    assert len(attempts) <= MAX_ATTEMPTS, f"{len(attempts)} attempts for one message after 503: at most {MAX_ATTEMPTS}"


@pytest.mark.requirement("C-PUSH-12")
def test_no_unchanged_resend_after_400(run: Run) -> None:
    resent_unchanged(run, "refused", SENDS)
