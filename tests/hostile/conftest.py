"""What the hostile-target tests share: the reference service the misbehaving proxies stand in front of."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import start_service

from conformance.fixtures.server import RunningServer


@pytest.fixture(scope="module")
def reference() -> Iterator[RunningServer]:
    """The reference Loyalty service over plain HTTP, for the proxies to stand in front of."""
    with start_service("loyalty", tls=False) as server:
        yield server
