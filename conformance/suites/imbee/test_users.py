"""POST /third_parties/user/new: the documents' request is processed (R-IMB-15) and its answer has the documented
members (R-IMB-16); creating the same user twice is safe (R-IMB-41, advisory) and non-ASCII text is accepted
(R-IMB-44, advisory)."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from conformance.suites.imbee.accounts import (
    USER_MEMBERS,
    create_user,
    missing_members,
    new_unique_id,
    processed,
    user_body,
)
from conformance.suites.support import Run, body_json, prefer, property_settings, send

# Names matter only as payload here, so a fixed set (Latin, Cyrillic, emoji, spaces) keeps shrinking instant.
device_names = st.sampled_from(["Pixel 8", "Телефон Марии", "iPhone 15 Pro", "Galaxy 📱", "  пробел  ", "x"])


def documented_exchange(run: Run, http: requests.Session) -> requests.Response:
    """The documents' curl request for a new user: the five members, all strings."""
    return send(run, http, "createExternalUser", body=user_body(new_unique_id(run)))


@pytest.mark.requirement("R-IMB-15")
def test_the_documented_user_request_is_processed(run: Run, http: requests.Session) -> None:
    response = documented_exchange(run, http)
    processed(response, "/third_parties/user/new with the documents' five members")
    status = response.status_code
    prefer(run, "R-IMB-45", status == 200, f"a processed /third_parties/user/new answered {status}, not 200")


@pytest.mark.requirement("R-IMB-16")
def test_a_new_user_gets_the_documented_members(run: Run, http: requests.Session) -> None:
    response = documented_exchange(run, http)
    envelope = body_json(response)
    if not isinstance(envelope, dict) or envelope.get("code") != 0:
        pytest.skip("the documents' request was not processed (R-IMB-15 reports it): no answer to read members from")
    body = envelope.get("body")
    missing = missing_members(body, USER_MEMBERS) if isinstance(body, dict) else sorted(USER_MEMBERS)
    assert not missing, (
        f"the processed answer lacks {', '.join(missing)}; the documents' answer carries virtualUser, pass and "
        f"apikey (strings) and previously_registered (a boolean): {response.text[:200]!r}"
    )


@pytest.mark.requirement("R-IMB-41")
def test_creating_the_same_user_twice_returns_the_same_identity(run: Run, http: requests.Session) -> None:
    @property_settings(run, at_least=3, at_most=20)
    @given(device_name=device_names, second_device_name=device_names)
    def same_identity(device_name: str, second_device_name: str) -> None:
        unique_id = new_unique_id(run)
        first = create_user(run, http, unique_id, device_name)
        again = create_user(run, http, unique_id, second_device_name)
        assert first.get("previously_registered") is False, (
            f"a new uniqueIdSha answered previously_registered {first.get('previously_registered')!r}"
        )
        assert again.get("previously_registered") is True, "the second creation must answer previously_registered true"
        assert (again["virtualUser"], again["apikey"]) == (first["virtualUser"], first["apikey"]), (
            "the second creation of the same uniqueIdSha returned another identity (virtualUser / apikey)"
        )

    same_identity()


@pytest.mark.requirement("R-IMB-44")
def test_a_cyrillic_device_name_is_accepted(run: Run, http: requests.Session) -> None:
    create_user(run, http, new_unique_id(run), device_name="Телефон Марии")
