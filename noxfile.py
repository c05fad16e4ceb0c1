"""Sessions: `nox -s tests`, `nox -s proofs`, `nox -s lint`, `nox -s specs`, `nox -s conformance [-- API ...]`,
`nox -s mutants [-- MODULE ...]`."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import time
from pathlib import Path

import nox

nox.options.sessions = ["lint", "specs", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests: specs valid, reference passes, every faulty variant caught, no secret leaks."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def proofs(session: nox.Session) -> None:
    """The slow proofs CI's default run leaves out (tests marked `proof`): large example budgets, load."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-m", "proof", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session
def specs(session: nox.Session) -> None:
    """Validate every OpenAPI document with openapi-spec-validator."""
    session.install("openapi-spec-validator")
    session.run("openapi-spec-validator", *sorted(str(path) for path in Path("specs").glob("*.yaml")))


@nox.session
def conformance(session: nox.Session) -> None:
    """Run conformance suites: against $CONFORMANCE_BASE_URL when set, else the embedded reference services.

    `nox -s conformance -- loyalty` picks the APIs; extra options go after `--` too, e.g. `-- loyalty --seed 7`.
    """
    session.install(".")
    options = list(session.posargs)
    apis = []
    while options and not options[0].startswith("-"):  # leading words name APIs, the rest are options
        apis.append(options.pop(0))
    base_url = os.environ.get("CONFORMANCE_BASE_URL")
    if base_url and not apis:
        session.error("name the API that CONFORMANCE_BASE_URL serves: nox -s conformance -- loyalty")
    for api in apis or ["all"]:
        extra = ["--base-url", base_url] if base_url else []
        session.run("conformance", "run", api, "--report-dir", "reports", *extra, *options)


@nox.session(name="certify-client")
def certify_client(session: nox.Session) -> None:
    """Certify a client of the Push or Imbee API in its sandbox (default: the reference Push client).

    `nox -s certify-client -- imbee --client-command "python my_client.py"`; without a command, follow the checklist.
    """
    session.install(".")
    arguments = list(session.posargs) or [
        "push",
        "--client-command",
        "python -m conformance.fixtures.clients.push_client",
    ]
    session.run("conformance", "certify-client", *arguments, "--report-dir", "reports")


# What `nox -s mutants` judges: each module with the mutants it counts. mutmut names a mutant after the function it
# changes (conformance.transport.xǁBreakersǁrefusal__mutmut_3); of transport.py only its bounds count: the 429
# back-off, the breakers, the answer's deadline and its watchdog, the body cap.
MUTATION_TARGETS: dict[str, tuple[str, ...]] = {
    "checks": ("conformance.checks.*",),
    "judge": ("conformance.judge.*",),
    "gate": ("conformance.gate.*",),
    "masking": ("conformance.report.masking.*",),
    "views": ("conformance.report.views.*",),
    "leaks": ("conformance.report.leaks.*",),
    "ingest": ("conformance.ingest.*",),
    "transport": tuple(
        f"conformance.transport.{function}*"
        for function in (
            "x_retry_after",
            "xǁBreakersǁ",
            "xǁWatchdogǁ",
            "x__hold",
            "x__cut",
            "x__shut",
            "xǁBoundedSessionǁsend",
            "xǁBoundedSessionǁ_read_body",
        )
    ),
    "traceability": ("conformance.traceability.*",),
    "client-rules": ("conformance.client.rules.*",),
    # Of the plugin, the functions that turn check results and test phases into records.
    "bridge": tuple(
        f"conformance.plugin.schemathesis_bridge.{function}__mutmut_*"
        for function in (
            "x__filter_failure",
            "x__after_validate",
            "x__advisory_only",
            "x_applies",
            "x_pass_requirements",
            "x_failure_requirements",
            "x__record",
            "x__drop",
            "x__breached",
        )
    ),
    "phases": tuple(
        f"conformance.plugin.phases.{function}__mutmut_*"
        for function in ("x__classify", "x__suite_bug", "x__record_phase")
    ),
}
# mutmut's exit codes of a mutant's test run. A timeout counts as killed (as mutmut counts it): the tests noticed.
MUTANT_STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests"}
MUTANT_STATUS |= dict.fromkeys((36, 24, -24, 152, 255), "timeout")
MUTATION_FLOOR = 0.9  # the share of mutants the tests must kill; every survivor is listed in the README


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing (mutmut, configured in pyproject.toml): does a fast test notice each small change of the code
    that decides verdicts, bounds the transport and keeps secrets out? Not part of CI's default run.

    `nox -s mutants -- masking transport` judges those modules (default: all of MUTATION_TARGETS), one after the
    other, and prints each one's figures and surviving mutants (`mutmut show NAME` shows what one changes).
    """
    session.install("-e", ".[dev]", "mutmut>=3.8,<4")
    modules = list(session.posargs) or list(MUTATION_TARGETS)
    unknown = [module for module in modules if module not in MUTATION_TARGETS]
    if unknown:
        session.error(f"unknown module {', '.join(unknown)}; one of: {', '.join(MUTATION_TARGETS)}")
    shutil.rmtree("mutants", ignore_errors=True)  # fresh: results cached by an earlier run may predate the tests
    seconds = {}
    for module in modules:
        started = time.monotonic()
        session.run("mutmut", "run", *MUTATION_TARGETS[module], silent=True)  # its progress output is one line a mutant
        seconds[module] = time.monotonic() - started
    results = mutant_results()
    total = killed = 0
    for module in modules:
        statuses = {name: status for name, status in results.items() if _targets(name, MUTATION_TARGETS[module])}
        counted = sum(status in ("killed", "timeout") for status in statuses.values())
        total, killed = total + len(statuses), killed + counted
        session.log(
            f"{module}: {len(statuses)} mutants, {counted} killed ({100 * counted / max(len(statuses), 1):.1f} %), "
            f"{seconds[module]:.0f} s"
        )
        for name, status in sorted(statuses.items()):
            if status not in ("killed", "timeout"):
                session.log(f"    {status}: {name}")
    session.log(f"all: {total} mutants, {killed} killed ({100 * killed / max(total, 1):.1f} %)")
    if killed < MUTATION_FLOOR * total:
        session.error(f"fewer than {MUTATION_FLOOR:.0%} of the mutants were killed: add the tests that kill them")


def mutant_results() -> dict[str, str]:
    """Each mutant of the last `mutmut run` and what became of it (killed, survived, no tests, timeout, ...)."""
    results = {}
    for meta in Path("mutants").rglob("*.py.meta"):
        for name, code in json.loads(meta.read_text("utf-8"))["exit_code_by_key"].items():
            results[name] = MUTANT_STATUS.get(code, "not run" if code is None else f"exit code {code}")
    return results


def _targets(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
