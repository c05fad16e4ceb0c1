"""Sessions: `nox -s tests`, `nox -s proofs`, `nox -s lint`, `nox -s specs`, `nox -s conformance [-- API ...]`."""

from __future__ import annotations

import os
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
