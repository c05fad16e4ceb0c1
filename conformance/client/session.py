"""One certification of a partner's client: the minted credentials, the sandbox behind the recording layer, the
journal, the walk through the steps; then the `Run` the client suite judges the journal in.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..judge import RunFacts
from ..profiles import CLIENT_PROFILES, Profile
from ..report.masking import Masker
from ..target import Credentials
from .driver import Driver, StepResult
from .journal import Journal, read
from .recording import Recording
from .scenarios import SCENARIOS, Scenario

if TYPE_CHECKING:
    from conformance.fixtures.server import RunningServer

    from ..run import Run, RunOptions


@dataclass
class CertifyOptions:
    api: str
    journal: Path
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = False
    client_command: str | None = None
    step_timeout: float = 300.0
    deadline: float = 1800.0


@dataclass
class Certification:
    options: CertifyOptions
    profile: Profile  # the client profile (`push-client`): its catalogue is the spec's x-client-requirements
    scenario: Scenario
    masker: Masker
    out: TextIO
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="conformance-certify-")))
    server: RunningServer | None = None
    results: list[StepResult] = field(default_factory=list)
    ended: str | None = None
    started: float = field(default_factory=time.time)
    journal: Journal | None = None
    _driver: Driver | None = None
    _exchanges: list[dict[str, Any]] | None = None

    @classmethod
    def create(cls, options: CertifyOptions, out: TextIO) -> Certification:
        scenario = SCENARIOS[options.api]()
        masker = Masker.for_credentials(Credentials(*scenario.credentials), basic=options.api == "push")
        if options.api == "imbee":
            masker.add(scenario.credentials[0])
        return cls(options, CLIENT_PROFILES[options.api], scenario, masker, out)

    base_url: str = ""  # where the sandbox listened (kept once it stops: the reports name it)

    @property
    def client_env(self) -> dict[str, str]:
        """What the client (or the person) is told: where, trusting what, with which credentials and test data."""
        state = self.scratch / "client-state"
        state.mkdir(exist_ok=True)
        return {
            "CONFORMANCE_BASE_URL": self.base_url,
            "CONFORMANCE_CA_BUNDLE": (self.server.ca_bundle or "") if self.server else "",
            "CONFORMANCE_STATE_DIR": str(state),
            **self.scenario.client_env(),
        }

    def start(self) -> None:
        """The sandbox behind the recording layer, listening; the journal opened with the session's header."""
        from conformance.fixtures.server import serve

        journal = self.journal = Journal(self.options.journal, self.masker)
        self._driver = Driver(
            self.scenario,
            self.out,
            step_timeout=self.options.step_timeout,
            deadline=self.options.deadline,
            client_command=self.options.client_command,
            masker=self.masker,
        )
        recording = Recording(self.scenario, self.profile.spec, journal, self.masker, self._driver, self.out)
        self.server = serve(recording, host=self.options.host, port=self.options.port, tls=self.options.tls)
        self.base_url = self.server.base_url
        self._driver.client_env = self.client_env
        journal.write(
            {
                "kind": "session",
                "api": self.options.api,
                "base_url": self.base_url,
                "client_command": self.options.client_command or None,
                "steps": [{"id": step.id, "instruction": step.instruction} for step in self.scenario.steps],
            }
        )

    def run_steps(self) -> None:
        assert self._driver is not None and self.journal is not None
        self.results = self._driver.run(self.journal)
        self.ended = self._driver.ended
        self.journal.write({"kind": "end", "ended": self.ended, "dropped": self.journal.dropped})

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.journal is not None:
            self.journal.close()
        push_state = self.scenario.app.extensions.get("push")
        if push_state is not None:
            push_state.close()  # its callback worker
        shutil.rmtree(self.scratch, ignore_errors=True)

    # --- what the client suite and the judge read ----------------------------------------------------------

    def entries(self) -> list[dict[str, Any]]:
        return list(read(self.options.journal))

    def exchanges(self) -> list[dict[str, Any]]:
        """The exchanges of the journal, read back from the file once the steps are over (what is judged is what
        was written)."""
        if self._exchanges is None:
            self._exchanges = [entry for entry in self.entries() if entry.get("kind") == "exchange"]
        return self._exchanges

    def facts(self) -> RunFacts:
        """The judge's other inputs: what the client sent. Nothing here was sent *to* a target: no refusal of the
        suite's credentials, no operation that must succeed."""
        exchanges = self.exchanges()
        return RunFacts(
            answered=len(exchanges) + (self.journal.dropped if self.journal else 0),
            credential_env=self.profile.credential_env,
            deadline_reached=self.ended if self.ended and "deadline" in self.ended else None,
            client=True,
            not_applicable=self.conditional_not_applicable(exchanges),
            incomplete_steps=tuple(
                f"the client did not complete step {result.id} ({result.status})"
                for result in self.results
                if result.status != "completed"
            ),
            interrupted="the certification was interrupted (Ctrl-C): its reports cover the steps done so far"
            if self.ended and "Ctrl-C" in self.ended
            else None,
        )

    def conditional_not_applicable(self, exchanges: list[dict[str, Any]]) -> dict[str, str]:
        """Rules about a member "when sent" (`applies-when-sent` in x-client-requirements) that no request sent: the
        client followed the documents by leaving the optional member out, so the rule does not apply to it."""
        found = {}
        for req_id, requirement in self.profile.requirements.items():
            member = requirement.applies_when_sent
            if member and not any(req_id in entry.get("examined", ()) for entry in exchanges):
                found[req_id] = f"no request the client sent carried {member} (optional): the rule did not apply"
        return found

    def describe(self) -> dict[str, Any]:
        return {
            "sandbox": self.base_url,
            "client_command": self.masker.text(self.options.client_command) if self.options.client_command else None,
            "steps": [
                {"id": r.id, "status": r.status, "seconds": round(r.seconds, 1), "exit_code": r.exit_code}
                for r in self.results
            ],
            "ended": self.ended,
        }

    def run_for_suite(self, options: RunOptions) -> Run:
        """The `Run` the client suite's pytest session works in: the journal is its only input."""
        from ..recorder import Recorder
        from ..run import Run
        from ..target import Target, TargetConfig
        from ..transport import Breakers, Limits

        profile = self.profile
        config = TargetConfig.parse(profile.default_target_config(), "default", profile.config_settings)
        target = Target(self.base_url, Credentials(*self.scenario.credentials), config, profile.spec_version, True)
        limits = Limits(timeout=options.timeout, max_body=options.max_body)
        return Run(
            profile,
            target,
            options,
            0,
            None,  # type: ignore[arg-type]  # nothing is generated: the client sent the requests
            None,  # type: ignore[arg-type]
            self.masker,
            limits,
            Breakers(limits),
            Recorder(profile, self.masker, target, Path(options.artefacts) if options.artefacts else None),
            client=self,
            _scratch=Path(tempfile.mkdtemp(prefix="conformance-run-")),
        )
