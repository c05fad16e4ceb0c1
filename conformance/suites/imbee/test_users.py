"""POST /third_parties/user/new: creating the same user twice is safe (R-IMB-41) and text round-trips (R-IMB-44)."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from conformance.suites.imbee.accounts import create_user, new_unique_id
from conformance.suites.support import Run, property_settings

# Names matter only as payload here, so a fixed set (Latin, Cyrillic, emoji, spaces) keeps shrinking instant.
device_names = st.sampled_from(["Pixel 8", "Телефон Марии", "iPhone 15 Pro", "Galaxy 📱", "  пробел  ", "x"])


@pytest.mark.requirement("R-IMB-41")
def test_creating_the_same_user_twice_returns_the_same_identity(run: Run, http: requests.Session) -> None:
    @property_settings(run, at_least=3, at_most=20)
    @given(device_name=device_names, second_device_name=device_names)
    def same_identity(device_name: str, second_device_name: str) -> None:
        unique_id = new_unique_id(run)
        first = create_user(run, http, unique_id, device_name)
        again = create_user(run, http, unique_id, second_device_name)
        assert first["previously_registered"] is False, f"a new uniqueIdSha answered previously_registered {first!r}"
        assert again["previously_registered"] is True, "the second creation must answer previously_registered true"
        assert (again["virtualUser"], again["apikey"]) == (first["virtualUser"], first["apikey"]), (
            "the second creation of the same uniqueIdSha returned another identity (virtualUser / apikey)"
        )

    same_identity()


@pytest.mark.requirement("R-IMB-44")
def test_a_cyrillic_device_name_is_accepted(run: Run, http: requests.Session) -> None:
    create_user(run, http, new_unique_id(run), device_name="Телефон Марии")
