"""GET /v1/card semantics that a schema cannot express: which card is found for which identity.

The identities come from the target config (`[identities.*]`); tests whose identity is not configured
are skipped with the reason shown in the report, and their requirements stay not-tested. Each test only
searches, and none depends on another: they run in any order, each on its own (`--concurrency`).
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from conformance.suites.support import Run, body_json, property_settings, send

pytestmark = pytest.mark.any_order

SEARCH_KEYS = {"msisdn": "msisdn", "email": "email", "birthDate": "birth_date"}


def identity(run: Run, name: str) -> dict[str, str]:
    found = run.target.config.identity(name)
    if not found:
        pytest.skip(f"the target config has no [identities.{name}]")
    return found


def found_card_number(response: requests.Response) -> str | None:
    body = body_json(response)
    if isinstance(body, dict) and isinstance(body.get("card"), dict):
        return body["card"].get("cardNumber")
    return None


@pytest.mark.requirement("R-LOY-11", "R-LOY-12")
@pytest.mark.parametrize("param", list(SEARCH_KEYS))
def test_each_parameter_alone_finds_the_card(param: str, run: Run, http: requests.Session) -> None:
    person = identity(run, "with_card")
    value = person.get(SEARCH_KEYS[param])
    if value is None:
        pytest.skip(f"[identities.with_card] has no {SEARCH_KEYS[param]}")
    response = send(run, http, "findCard", query={param: value})
    assert response.status_code == 200, f"searching by {param}={value!r} alone answered {response.status_code}"
    assert found_card_number(response) == person["card_number"], (
        f"searching by {param}={value!r} alone should find card {person['card_number']}; "
        f"got body {response.text[:200]!r}"
    )


@pytest.mark.requirement("R-LOY-06")
def test_cyrillic_email_round_trips(run: Run, http: requests.Session) -> None:
    person = identity(run, "cyrillic")
    response = send(run, http, "findCard", query={"email": person["email"]})
    assert found_card_number(response) == person["card_number"], (
        f"searching by the Cyrillic e-mail {person['email']!r} (sent as UTF-8) should find card "
        f"{person['card_number']}; got {response.status_code} {response.text[:200]!r}. Decode query strings as UTF-8."
    )


@pytest.mark.requirement("R-LOY-18")
@pytest.mark.parametrize("param", list(SEARCH_KEYS))
def test_no_match_answers_200_without_a_card(param: str, run: Run, http: requests.Session) -> None:
    person = identity(run, "without_card")
    value = person.get(SEARCH_KEYS[param])
    if value is None:
        pytest.skip(f"[identities.without_card] has no {SEARCH_KEYS[param]}")
    response = send(run, http, "findCard", query={param: value})
    assert response.status_code == 200, f"a search that matches nothing answered {response.status_code}, not 200"
    assert found_card_number(response) is None, (
        f"a search that matches nothing returned a card: {response.text[:200]!r}"
    )


@pytest.mark.requirement("R-LOY-39")
def test_no_match_body_is_empty(run: Run, http: requests.Session) -> None:
    person = identity(run, "without_card")
    param = next((key for key, attr in SEARCH_KEYS.items() if attr in person), None)
    if param is None:
        pytest.skip("[identities.without_card] has no search value")
    response = send(run, http, "findCard", query={param: person[SEARCH_KEYS[param]]})
    if response.status_code != 200:  # not the documents' "not found" answer at all: R-LOY-18 reports it
        pytest.skip(f"the search that matches nothing answered {response.status_code}: R-LOY-18 reports it")
    assert response.content == b"", (
        f"a search that matches nothing answered {response.content[:200]!r}; the suite prefers an empty body "
        "(the documents' 'not found' answer)"
    )


@pytest.mark.requirement("R-LOY-20")
def test_blocked_card_is_refused(run: Run, http: requests.Session) -> None:
    person = identity(run, "blocked")
    query = {key: person[attr] for key, attr in SEARCH_KEYS.items() if attr in person}
    response = send(run, http, "findCard", query=query)
    assert response.status_code == 422, (
        f"a search whose only match is a blocked card must answer 422; got {response.status_code}"
    )
    assert "card" not in (body_json(response) or {}), "the 422 answer for a blocked card carries card data"


unknown_names = st.from_regex(r"\A[a-zA-Z_][a-zA-Z0-9_]{0,15}\Z").filter(
    lambda name: name.lower() not in {key.lower() for key in SEARCH_KEYS}  # case variants of known names: undocumented
)
unknown_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@pytest.mark.requirement("R-LOY-13")
def test_unknown_query_parameters_are_ignored(run: Run, http: requests.Session) -> None:
    person = identity(run, "with_card")

    @property_settings(run)
    @given(extra=st.dictionaries(unknown_names, unknown_values, min_size=1, max_size=3))
    def unknown_parameters_change_nothing(extra: dict[str, str]) -> None:
        response = send(run, http, "findCard", query={"msisdn": person["msisdn"], **extra})
        assert response.status_code == 200 and found_card_number(response) == person["card_number"], (
            f"adding unknown parameters {extra!r} changed the answer to {response.status_code} "
            f"{response.text[:200]!r}; unknown parameters must be ignored"
        )

    unknown_parameters_change_nothing()


# Values that can match no card: a country code never starts with 0, and .invalid is a reserved domain.
non_matching_msisdn = st.from_regex(r"\A0[0-9]{10,13}\Z")
non_matching_email = st.from_regex(r"\A[a-z]{1,10}@no-match\.invalid\Z")
any_birth_date = st.dates(dt.date(1920, 1, 1), dt.date(2010, 12, 31)).map(dt.date.isoformat)


@pytest.mark.requirement("R-LOY-14")
def test_search_parameters_combine_with_or(run: Run, http: requests.Session) -> None:
    person = identity(run, "with_card")

    @property_settings(run)
    @given(
        matching=st.sampled_from(["msisdn", "email"]),
        other_msisdn=non_matching_msisdn,
        other_email=non_matching_email,
        birth_date=st.one_of(st.none(), any_birth_date),
    )
    def matching_value_finds_the_card(
        matching: str, other_msisdn: str, other_email: str, birth_date: str | None
    ) -> None:
        query = {"msisdn": other_msisdn, "email": other_email, matching: person[matching]}
        if birth_date is not None:
            query["birthDate"] = birth_date
        response = send(run, http, "findCard", query=query)
        if birth_date is not None and birth_date != person.get("birth_date"):
            # The random birth date may match other customers too: the partner picks one card or answers 422.
            assert response.status_code == 422 or found_card_number(response) is not None, (
                f"{matching}={person[matching]!r} matches card {person['card_number']}, so with OR semantics the "
                f"search {query!r} must find a card (or answer 422 for several); got {response.status_code} "
                f"{response.text[:200]!r}"
            )
            return
        assert found_card_number(response) == person["card_number"], (
            f"{matching}={person[matching]!r} matches card {person['card_number']}, so with OR semantics the search "
            f"{query!r} must find it; got {response.status_code} {response.text[:200]!r}"
        )

    matching_value_finds_the_card()
