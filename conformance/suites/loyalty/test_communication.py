"""PUT /v1/card/{cardNumber}/communication: the card a search finds is the card this call accepts.

A hypothesis state machine interleaves searches (by each identity value) and channel updates on the
cards found, so a card number only ever comes from a real search answer (R-LOY-21, R-LOY-23).
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule

from conformance import runtime
from conformance.suites.support import body_json, send

run = runtime.current()
CHANNELS = st.lists(st.sampled_from(["sms", "email", "call"]), unique=True, max_size=3)


class CommunicationFlow(RuleBasedStateMachine):
    cards = Bundle("cards")
    http: requests.Session

    def __init__(self) -> None:
        super().__init__()
        self.person = run.target.config.identity("with_card") or {}

    @rule(target=cards, key=st.sampled_from([("msisdn", "msisdn"), ("email", "email"), ("birthDate", "birth_date")]))
    def find(self, key: tuple[str, str]) -> str:
        param, attr = key
        response = send(run, self.http, "findCard", query={param: self.person[attr]})
        body = body_json(response)
        assert response.status_code == 200 and isinstance(body, dict), (
            f"searching {param}={self.person[attr]!r} answered {response.status_code} {response.text[:200]!r}"
        )
        return body["card"]["cardNumber"]

    @rule(card=cards, allow=CHANNELS, deny=CHANNELS)
    def update(self, card: str, allow: list[str], deny: list[str]) -> None:
        response = send(
            run,
            self.http,
            "updateCommunication",
            path_parameters={"cardNumber": card},
            body={"allow": allow, "deny": deny},
        )
        assert response.status_code == 200, (
            f"card {card} was returned by GET /v1/card, so PUT /v1/card/{card}/communication must accept it; "
            f"got {response.status_code} {response.text[:200]!r}"
        )
        assert response.content == b"" or isinstance(body_json(response), dict), (
            f"the communication call's success body must be empty or a JSON object (A-9); got {response.text[:200]!r}"
        )


@pytest.mark.requirement("R-LOY-21", "R-LOY-23", "R-LOY-25")
def test_found_card_accepts_communication_update(http: requests.Session) -> None:
    if not run.target.config.identity("with_card"):
        pytest.skip("the target config has no [identities.with_card]")
    CommunicationFlow.http = http
    CommunicationFlow.TestCase.settings = settings(
        max_examples=max(3, min(run.max_examples // 5, 10)),
        stateful_step_count=5,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    CommunicationFlow.TestCase().runTest()


@pytest.mark.requirement("R-LOY-24")
def test_unknown_card_is_an_error(http: requests.Session) -> None:
    unknown = "000000000000000"  # partners' card numbers never look like this (leading zeros, 15 digits)
    response = send(
        run, http, "updateCommunication", path_parameters={"cardNumber": unknown}, body={"allow": ["sms"], "deny": []}
    )
    assert response.status_code == 422, (
        f"PUT /v1/card/{unknown}/communication for a card that does not exist answered {response.status_code}; "
        "it must be an error (422 with the error object, A-17)"
    )
