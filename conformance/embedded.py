"""The embedded default target: the reference service of an API, started on a free loopback port over HTTPS.

Most APIs need one server. The Push API needs two: the sandbox, and a callback receiver that the
sandbox's account reports delivery statuses to, so the suite can observe the callbacks it sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.fixtures.server import RunningServer

    from .profiles import Profile
    from .target import Credentials


@dataclass
class Embedded:
    base_url: str
    ca_bundle: str | None
    servers: list[RunningServer] = field(default_factory=list)
    callbacks: Any = None  # what the suite's callback receiver got, when the API sends callbacks

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_reference(profile: Profile, credentials: Credentials, faults: tuple[str, ...] = ()) -> Embedded:
    from conformance.fixtures.server import serve

    server = serve(profile.reference_app(credentials.as_tuple(), faults), tls="plain-http" not in faults)
    return Embedded(server.base_url, server.ca_bundle, [server])


def start_push_sandbox(profile: Profile, credentials: Credentials, faults: tuple[str, ...] = ()) -> Embedded:
    """The Push API sandbox, with its account's callback URL pointing at a reference callback receiver."""
    import secrets

    from conformance.fixtures.push import app as push_app
    from conformance.fixtures.push_callback import app as receiver_app
    from conformance.fixtures.server import serve

    from .target import TargetConfig

    defaults = TargetConfig.parse(profile.default_target_config(), "default", profile.target_settings)
    callback_credentials = ("koshelek-callbacks", secrets.token_urlsafe(12))
    receiver = receiver_app.create_app(callback_credentials)
    receiver_server = serve(receiver)
    sandbox = push_app.create_app(
        credentials.as_tuple(),
        faults,
        callback_url=receiver_server.base_url,
        callback_credentials=callback_credentials,
        callback_verify=receiver_server.ca_bundle or True,
        # The sandbox's limit is the one its default target config announces (R-RATE-02 is tested at it).
        rate_limit_per_minute=int(defaults.setting("rate_limit_per_minute", 600)),
    )
    sandbox_server = serve(sandbox, tls="plain-http" not in faults)
    return Embedded(
        sandbox_server.base_url,
        sandbox_server.ca_bundle,
        [sandbox_server, receiver_server],
        callbacks=receiver.extensions["callbacks"],
    )
