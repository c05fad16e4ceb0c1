"""PUT /v1/card/{cardNumber}/communication: the card a search finds is the card this call accepts.

A hypothesis state machine interleaves searches (by each identity value) and channel updates on the
cards found, so a card number only ever comes from a real search answer (R-LOY-21, R-LOY-23).
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule

from conformance.suites.support import Run, body_json, property_settings, send

CHANNELS = ["sms", "email", "call"]
# allow and deny never name the same channel: what a service does with a channel in both lists is undocumented.
CHANNEL_SPLITS = st.permutations(CHANNELS).flatmap(
    lambda order: st.tuples(st.integers(0, 3), st.integers(0, 3)).map(
        lambda cut: (sorted(order[: min(cut)]), sorted(order[min(cut) : max(cut)]))
    )
)


def communication_flow(run: Run, http: requests.Session) -> type[RuleBasedStateMachine]:
    class CommunicationFlow(RuleBasedStateMachine):
        cards = Bundle("cards")

        def __init__(self) -> None:
            super().__init__()
            self.person = run.target.config.identity("with_card") or {}

        @rule(
            target=cards, key=st.sampled_from([("msisdn", "msisdn"), ("email", "email"), ("birthDate", "birth_date")])
        )
        def find(self, key: tuple[str, str]) -> str:
            param, attr = key
            response = send(run, http, "findCard", query={param: self.person[attr]})
            body = body_json(response)
            assert response.status_code == 200 and isinstance(body, dict), (
                f"searching {param}={self.person[attr]!r} answered {response.status_code} {response.text[:200]!r}"
            )
            return body["card"]["cardNumber"]

        @rule(card=cards, split=CHANNEL_SPLITS)
        def update(self, card: str, split: tuple[list[str], list[str]]) -> None:
            allow, deny = split
            response = send(
                run,
                http,
                "updateCommunication",
                path_parameters={"cardNumber": card},
                body={"allow": allow, "deny": deny},
            )
            assert response.status_code == 200, (
                f"card {card} was returned by GET /v1/card, so PUT /v1/card/{card}/communication must accept it; "
                f"got {response.status_code} {response.text[:200]!r}"
            )

    return CommunicationFlow


@pytest.mark.requirement("R-LOY-21", "R-LOY-23")
def test_found_card_accepts_communication_update(run: Run, http: requests.Session) -> None:
    if not run.target.config.identity("with_card"):
        pytest.skip("the target config has no [identities.with_card]")
    flow = communication_flow(run, http)
    flow.TestCase.settings = settings(property_settings(run, at_least=3, at_most=10, divide=5), stateful_step_count=5)
    flow.TestCase().runTest()


@pytest.mark.requirement("R-LOY-25")
def test_communication_success_body_is_empty_or_an_object(run: Run, http: requests.Session) -> None:
    person = run.target.config.identity("with_card")
    if not person:
        pytest.skip("the target config has no [identities.with_card]")
    response = send(
        run,
        http,
        "updateCommunication",
        path_parameters={"cardNumber": person["card_number"]},
        body={"allow": ["sms"], "deny": []},
    )
    if response.status_code != 200:
        pytest.skip(f"the update answered {response.status_code}: R-LOY-23 reports it; no success body to look at")
    assert response.content == b"" or isinstance(body_json(response), dict), (
        f"the suite expects the communication call's success body to be empty or a JSON object; got "
        f"{response.text[:200]!r}"
    )


@pytest.mark.requirement("R-LOY-24")
def test_unknown_card_is_an_error(run: Run, http: requests.Session) -> None:
    unknown = "000000000000000"  # partners' card numbers never look like this (leading zeros, 15 digits)
    response = send(
        run, http, "updateCommunication", path_parameters={"cardNumber": unknown}, body={"allow": ["sms"], "deny": []}
    )
    assert response.status_code == 422, (
        f"PUT /v1/card/{unknown}/communication for a card that does not exist answered {response.status_code}; "
        "the suite expects an error (422 with the error object)"
    )
