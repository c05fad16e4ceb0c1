"""Honest verdicts: a run whose checks never really ran is inconclusive (exit code 4), never a pass, and says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PASSWORD, against, run_cli, start_service, write_config

from conformance.fixtures.server import serve

EXIT_INCONCLUSIVE = 4
OPTIONS = ["--max-examples", "3", "--seed", "11"]


def outage_app(environ: dict, start_response) -> list[bytes]:
    """A service that is down: every answer is a 503, in the documented error shape."""
    body = json.dumps({"code": "503", "description": "Сервис недоступен"}).encode()
    start_response("503 Service Unavailable", [("Content-Type", "application/json; charset=utf-8")])
    return [body]


@pytest.mark.slow
def test_wrong_credentials_make_the_run_inconclusive_not_failed(tmp_path: Path) -> None:
    with start_service("loyalty") as server:
        result = run_cli(
            [*against(server), *OPTIONS],
            tmp_path,
            env={"CONFORMANCE_PASSWORD": PASSWORD + "-typo"},
        )
    verdict = result.verdict()
    assert result.exit_code == EXIT_INCONCLUSIVE, result.stdout
    assert verdict["verdict"] == "inconclusive"
    assert verdict["reasons"][0].startswith("every request made with the configured credentials was refused")
    assert "check CONFORMANCE_USERNAME / CONFORMANCE_PASSWORD" in result.stdout


@pytest.mark.slow
def test_a_target_answering_only_server_errors_fails_the_availability_rule(tmp_path: Path) -> None:
    with serve(outage_app) as server:
        result = run_cli([*against(server), *OPTIONS], tmp_path)
    assert result.exit_code == 1, result.stdout  # 503 is no documented answer: a failure, never "inconclusive"
    assert result.status_of("R-LOY-07") == "fail"


@pytest.mark.slow
def test_an_untested_mandatory_requirement_keeps_a_clean_run_from_passing(tmp_path: Path) -> None:
    target = write_config(tmp_path, "loyalty", without=("blocked",), blocked_card="refused")
    result = run_cli(["run", "loyalty", "--target-config", target, *OPTIONS], tmp_path)
    verdict = result.verdict()
    assert result.exit_code == EXIT_INCONCLUSIVE, result.stdout
    assert verdict["counts"]["fail"] == 0
    assert verdict["reasons"] == [
        "mandatory requirement R-LOY-20 was not tested: the target config has no [identities.blocked]"
    ]
