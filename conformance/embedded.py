"""The embedded default target: the reference service of an API, started on a free loopback port over HTTPS.

Most APIs need one server. The Push API sandbox also posts delivery statuses: its account's callback URL is
the suite's own callback listener (`conformance.callbacks`), so the run sees the callbacks it caused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.fixtures.server import RunningServer

    from .profiles import Profile
    from .target import Credentials


@dataclass(frozen=True)
class CallbackTarget:
    """Where the sandbox posts its callbacks, with which credentials, trusting which CA."""

    url: str
    credentials: tuple[str, str]
    verify: bool | str


@dataclass
class Embedded:
    base_url: str
    ca_bundle: str | None
    servers: list[RunningServer] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_reference(
    profile: Profile, credentials: Credentials, faults: tuple[str, ...] = (), callback: CallbackTarget | None = None
) -> Embedded:
    from conformance.fixtures.server import serve

    server = serve(profile.reference_app(credentials.as_tuple(), faults), tls="plain-http" not in faults)
    return Embedded(server.base_url, server.ca_bundle, [server])


def start_push_sandbox(
    profile: Profile, credentials: Credentials, faults: tuple[str, ...] = (), callback: CallbackTarget | None = None
) -> Embedded:
    """The Push API sandbox; its account's callback URL is `callback` (the run's listener), if any."""
    from conformance.fixtures.push import app as push_app
    from conformance.fixtures.server import serve

    from .target import TargetConfig

    defaults = TargetConfig.parse(profile.default_target_config(), "default", profile.config_settings)
    sandbox = push_app.create_app(
        credentials.as_tuple(),
        faults,
        callback_url=callback.url if callback else None,
        callback_credentials=callback.credentials if callback else None,
        callback_verify=callback.verify if callback else True,
        # The sandbox's limit is the one its default target config announces (R-RATE-02 is tested at it).
        rate_limit_per_minute=int(defaults.setting("rate_limit_per_minute", 600)),
        delivery_delay=0.005,  # the suite waits for its callbacks: deliver them at once
    )
    server = serve(sandbox, tls="plain-http" not in faults)
    return Embedded(server.base_url, server.ca_bundle, [server])
