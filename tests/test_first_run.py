"""A partner's first run cannot mislead: no silent defaults, a template for every API, misconfiguration told apart
from non-conformance, and the small things a first run trips over (plain HTTP to HTTPS, a waiver that waives
nothing, a CI example that refers to a file it lacks)."""

from __future__ import annotations

import dataclasses
import re
import shlex
import subprocess
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import yaml
from conftest import PASSWORD, USERNAME, run_here, start_service

from conformance.cli import main
from conformance.fixtures.imbee.app import ImbeeRegistry
from conformance.fixtures.server import serve
from conformance.profiles import PROFILES, get_profile

ROOT = Path(__file__).parent.parent
FAST = ["--max-examples", "2", "--seed", "8"]


def test_a_partner_url_without_a_target_config_stops_and_names_the_template(tmp_path: Path) -> None:
    result = run_here(["run", "loyalty", "--base-url", "https://partner.example"], tmp_path)
    assert result.exit_code == 2
    assert "--base-url needs --target-config FILE" in result.stderr
    assert "`conformance init loyalty FILE`" in result.stderr and "fixtures/loyalty/target.toml" in result.stderr
    assert "--reference-data" in result.stderr
    assert not (tmp_path / "loyalty.json").exists()  # nothing ran, nothing was reported


def init(api: str, path: Path) -> int:
    return main(["init", api, str(path)])


def test_init_writes_the_commented_template_and_never_overwrites(tmp_path: Path, capsys) -> None:
    target = tmp_path / "mine.toml"
    assert init("loyalty", target) == 0
    assert target.read_text(encoding="utf-8") == get_profile("loyalty").default_target_config()
    assert "REQUIRED" in target.read_text(encoding="utf-8")
    target.write_text("my own values", encoding="utf-8")
    assert init("loyalty", target) == 2 and "exists" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "my own values"


@pytest.mark.parametrize("api", sorted(PROFILES))
def test_every_template_is_shipped_and_named_in_the_readme(api: str) -> None:
    resource = PROFILES[api].target_config_resource  # conformance.fixtures/<resource>, in the wheel
    package, _, name = f"conformance.fixtures.{resource}".rpartition("/")
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert package.replace("/", ".") in data["packages"] and "*.toml" in data["package-data"][package]
    assert resources.files(package).joinpath(name).is_file()
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Testing a service")[1].split("\n## ")[0]
    assert f"fixtures/{resource}" in section and f"conformance init {api} " in section


def misdirected_loyalty() -> object:
    """The reference Loyalty service as a framework serves it: an undocumented path gets 404."""
    reference = get_profile("loyalty").reference_app((USERNAME, PASSWORD))

    def app(environ: dict, start_response) -> list[bytes]:
        if environ["PATH_INFO"].startswith("/v1/v1/"):
            start_response("404 Not Found", [("Content-Type", "text/html")])
            return [b"<h1>Not Found</h1>"]
        return reference(environ, start_response)

    return app


@pytest.mark.slow
def test_a_base_url_that_repeats_the_specs_prefix_is_inconclusive_with_the_fix(tmp_path: Path) -> None:
    with serve(misdirected_loyalty()) as server:
        url = f"{server.base_url}/v1"
        result = run_here(
            ["run", "loyalty", "--base-url", url, "--ca-bundle", server.ca_bundle, "--reference-data", *FAST], tmp_path
        )
    verdict = result.verdict()
    assert result.exit_code == 4 and verdict["verdict"] == "inconclusive", result.stdout
    (reason,) = verdict["reasons"]
    missed = r"\d+ of \d+ requests to documented paths got 404 and none succeeded: is the base URL right\?"
    assert re.match(missed, reason), reason
    assert f"it ends in /v1 and the spec adds /v1 (requests went to /v1/v1/card); try --base-url {server.base_url}" in (
        reason
    )
    assert verdict["counts"]["fail"] == 0  # no failure is blamed on the service


def test_plain_http_to_an_https_service_asks_whether_https_was_meant(tmp_path: Path) -> None:
    with start_service("loyalty") as server:  # HTTPS only
        url = server.base_url.replace("https://", "http://")
        result = run_here(["run", "loyalty", "--base-url", url, "--reference-data"], tmp_path)
    assert result.exit_code == 3
    message = result.stderr.strip().splitlines()[-1]
    assert f"did you mean {server.base_url.replace('http://', 'https://')}/v1/card?" in message, message
    assert "RemoteDisconnected" not in message and message.count("(") == message.count(")")


@pytest.mark.slow
def test_the_imbee_template_passes_a_service_whose_default_date_limit_is_its_own(tmp_path: Path) -> None:
    # A real service's default date limit is not the documents' illustrative 2000-01-01.
    registry = dataclasses.replace(ImbeeRegistry.load(), default_date_limit="2031-01-31")
    auth, key = "imbee-auth-token-test", "imbee-corporate-key-test"
    template = tmp_path / "imbee-target.toml"
    assert init("imbee", template) == 0
    with serve(get_profile("imbee").reference_app((auth, key), registry=registry)) as server:
        result = run_here(
            [
                *("run", "imbee", "--base-url", server.base_url, "--ca-bundle", server.ca_bundle),
                *("--target-config", str(template), *FAST),
            ],
            tmp_path / "reports",
            env={"CONFORMANCE_IMBEE_AUTH": auth, "CONFORMANCE_IMBEE_KEY": key},
        )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.status_of("R-IMB-39", "imbee") == "pass"


def test_the_github_actions_example_refers_only_to_files_it_has(tmp_path: Path) -> None:
    """Every file a step of the workflow reads is in the checkout it makes (this repository) or written by an
    earlier step; and the step that writes the target config does write it."""
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions-conformance.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["conformance"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout")
    written: set[str] = set()
    for step in steps:
        script = step.get("run", "")
        for option in ("--target-config", "--policy"):
            for path in re.findall(rf"{option} (\S+)", script):
                assert (ROOT / path).is_file() or path in written, f"{step.get('name')}: {path} is in no checkout"
        written.update(re.findall(r"> (\S+)", script))
        if "nox -s" in script:
            session = re.search(r"nox -s (\S+)", script).group(1)
            assert f"def {session}(" in (ROOT / "noxfile.py").read_text(encoding="utf-8")
    writer = next(step for step in steps if "> rc-target.toml" in step.get("run", ""))
    template = get_profile("loyalty").default_target_config()
    env = {"TARGET_CONFIG": template, "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", "-e", "-c", writer["run"]], cwd=tmp_path, env=env, check=True)
    assert (tmp_path / "rc-target.toml").read_text(encoding="utf-8") == template + "\n"
    gate = next(step["run"] for step in steps if "conformance gate" in step.get("run", ""))
    assert shlex.split(gate)[-1] == "policies/release-gate.toml"
