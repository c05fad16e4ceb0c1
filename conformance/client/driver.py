"""Walks a scenario's steps: runs the partner's client for each (`--client-command`), or waits for a person.

A step ends
- with a client command: when the command exits (or is stopped at `--step-timeout`);
- by hand: when a request completes it (and, for a step that watches for resends, after a quiet spell), on Enter,
  on `POST /_certify/next`, or at `--step-timeout`.
The whole certification ends after the last step, at `--deadline`, or on Ctrl-C. Each step's outcome goes to the
journal: the judge reads it (a rule whose step never completed was not exercised).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from ..cli.common import printable
from ..report.bundle import KEY_ENV
from ..report.keys import PASSPHRASE_ENV
from .scenarios import Interrupt, Scenario, Seen, Step

OUTPUT_KEPT = 4000  # bytes of a client command's output kept per step (its end: where it failed); the rest is read
SEEN_KEPT = 1000  # exchanges of a step its completion test looks back on (a client in a loop holds no more memory)
POLL = 0.05
# The keys that seal the evidence are the certifier's, never the client's: its output is kept in the reports.
SIGNING_SECRETS = frozenset({PASSPHRASE_ENV, KEY_ENV})


@dataclass
class StepResult:
    id: str
    status: str  # completed | not-completed | timed-out | skipped | interrupted | not-reached
    seconds: float = 0.0
    exit_code: int | None = None  # of the client command
    output: str = ""  # the end of its output, masked


class Driver:
    def __init__(
        self,
        scenario: Scenario,
        out: TextIO,
        *,
        step_timeout: float,
        deadline: float,
        client_command: str | None = None,
        client_env: dict[str, str] | None = None,
        masker: Any = None,
    ) -> None:
        self.scenario, self.out = scenario, out
        self.step_timeout, self.deadline = step_timeout, time.monotonic() + deadline
        self.command = shlex.split(client_command) if client_command else None
        self.client_env = client_env or {}
        self.masker = masker
        self.results: list[StepResult] = []
        self.ended: str | None = None  # why the certification ended early
        self._lock = threading.Lock()
        self._step: Step | None = None
        self._interrupt: Interrupt | None = None
        self._seen: deque[Seen] = deque(maxlen=SEEN_KEPT)
        self._completed = False
        self._last_request = 0.0
        self._skip = threading.Event()

    # --- called by the recording layer (server threads) ------------------------------------------------

    def running(self) -> tuple[str | None, Interrupt | None]:
        step = self._step
        return (step.id if step else None), self._interrupt

    def observe(self, seen: Seen) -> None:
        with self._lock:
            self._last_request = time.monotonic()
            if self._step is None:
                return
            self._seen.append(seen)
            if not self._completed and self._step.completes(list(self._seen)):
                self._completed = True

    def next_step(self) -> None:
        """End the running step (Enter, or the control endpoint)."""
        self._skip.set()

    def status(self) -> dict[str, Any]:
        step = self._step
        return {
            "step": step.id if step else None,
            "number": len(self.results) + 1 if step else None,
            "of": len(self.scenario.steps),
            "completed": self._completed,
            "done": [asdict(result) | {"output": ""} for result in self.results],
        }

    # --- the walk --------------------------------------------------------------------------------------

    def run(self, journal: Any) -> list[StepResult]:
        steps = self.scenario.steps
        if self.command is None:
            self._listen_for_enter()
        try:
            for number, step in enumerate(steps, 1):
                if time.monotonic() >= self.deadline:
                    self.ended = "the deadline (--deadline) was reached"
                    break
                self._begin(step)
                self.out.write(f"\nStep {number}/{len(steps)} [{step.id}]: {step.instruction}\n")
                self.out.flush()
                result = self._by_command(step) if self.command else self._by_hand(step)
                self._end()
                self.results.append(result)
                journal.write({"kind": "step", **asdict(result)})
                self.out.write(f"  step {step.id}: {result.status} ({result.seconds:.1f} s)\n")
        except KeyboardInterrupt:
            running = self._step
            self._end()
            self.ended = "stopped by Ctrl-C"
            if running is not None:
                result = StepResult(running.id, "completed" if self._completed else "interrupted")
                self.results.append(result)
                journal.write({"kind": "step", **asdict(result)})
        for step in steps[len(self.results) :]:
            result = StepResult(step.id, "not-reached")
            self.results.append(result)
            journal.write({"kind": "step", **asdict(result)})
        return self.results

    def _begin(self, step: Step) -> None:
        with self._lock:
            self._step, self._interrupt = step, step.stance() if step.stance else None
            self._seen, self._completed = deque(maxlen=SEEN_KEPT), False
            self._skip.clear()

    def _end(self) -> None:
        with self._lock:
            self._step, self._interrupt = None, None

    def _by_hand(self, step: Step) -> StepResult:
        started = time.monotonic()
        while True:
            time.sleep(POLL)
            now = time.monotonic()
            if self._completed and now - max(self._last_request, started) >= step.quiet:
                return StepResult(step.id, "completed", now - started)
            if self._skip.is_set():
                return StepResult(step.id, "completed" if self._completed else "skipped", now - started)
            if now - started >= self.step_timeout or now >= self.deadline:
                return StepResult(step.id, "completed" if self._completed else "timed-out", now - started)

    def _by_command(self, step: Step) -> StepResult:
        assert self.command is not None
        started = time.monotonic()
        inherited = {name: value for name, value in os.environ.items() if name not in SIGNING_SECRETS}
        env = {**inherited, **self.client_env, "CONFORMANCE_STEP": step.id}
        tail: deque[bytes] = deque()
        try:
            process = subprocess.Popen(
                self.command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
            )
        except OSError as exc:
            return StepResult(step.id, "not-completed", time.monotonic() - started, None, f"cannot start: {exc}")
        reader = threading.Thread(target=_keep_tail, args=(process, tail), name="certify-client-output", daemon=True)
        reader.start()
        try:
            timed_out = self._wait(process, started)
        finally:  # Ctrl-C reaches this process only (the client runs in its own session): stop it too
            if process.poll() is None:
                _stop(process)
        reader.join(timeout=5)
        text = b"".join(tail)[-OUTPUT_KEPT:].decode("utf-8", "replace")
        if self.masker is not None:
            text = self.masker.text(text)
        for line in text.splitlines()[-5:]:
            self.out.write(f"  | {printable(line)}\n")
        status = "completed" if self._completed else "timed-out" if timed_out else "not-completed"
        return StepResult(step.id, status, time.monotonic() - started, process.returncode, text)

    def _wait(self, process: subprocess.Popen[bytes], started: float) -> bool:
        """Wait for the client command; stop its whole process group at the step timeout or deadline."""
        while process.poll() is None:
            now = time.monotonic()
            if now - started >= self.step_timeout or now >= self.deadline or self._skip.is_set():
                _stop(process)
                return True
            time.sleep(POLL)
        return False

    def _listen_for_enter(self) -> None:
        if not sys.stdin or not sys.stdin.isatty():
            return

        def read() -> None:
            for _ in sys.stdin:
                self._skip.set()

        threading.Thread(target=read, name="certify-enter", daemon=True).start()


def _keep_tail(process: subprocess.Popen[bytes], tail: deque[bytes]) -> None:
    """Read the client's output to its end, keeping only its last OUTPUT_KEPT bytes."""
    assert process.stdout is not None
    kept = 0
    for chunk in iter(lambda: process.stdout.read1(65536), b""):  # type: ignore[union-attr]
        tail.append(chunk)
        kept += len(chunk)
        while kept - len(tail[0]) >= OUTPUT_KEPT:
            kept -= len(tail.popleft())
    process.stdout.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the client command and whatever it started (its process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
