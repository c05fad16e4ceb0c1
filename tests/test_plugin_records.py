"""What the plugin records for each kind of test outcome, seen through the judge: a raising fixture is an error,
never a pass; a check that does not apply leaves no evidence; a test without a requirement is a suite bug; a test
whose own assertions held is evidence even when checks failed on its answers."""

from __future__ import annotations

import contextlib
import io
import textwrap
import uuid
from pathlib import Path

import pytest

from conformance.plugin import Outcome

HEADER = """
import pytest
from conformance.suites.support import Run, send
"""


def run_suite(tmp_path: Path, body: str, *extra: str) -> tuple[int, Outcome]:
    # A name of its own: pytest keeps imported test modules by name for the rest of this process.
    probe = tmp_path / f"test_probe_{uuid.uuid4().hex}.py"
    probe.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not this repository's -n 2
    outcome = Outcome()
    arguments = [
        str(probe),
        "-c",
        str(tmp_path / "pytest.ini"),
        "-p",
        "conformance.plugin",
        "--conformance-api",
        "loyalty",
        "--conformance-max-examples",
        "3",
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "-q",
        *extra,
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        code = int(pytest.main(arguments, plugins=[outcome]))
    return code, outcome


def records_of(outcome: Outcome, requirement: str) -> list:
    return [record for record in outcome.records if requirement in record.requirements]


def test_a_raising_fixture_is_an_error_and_the_run_cannot_pass(tmp_path: Path) -> None:
    _, outcome = run_suite(
        tmp_path,
        """
        @pytest.fixture
        def broken():
            raise RuntimeError("the fixture could not build its identity")

        @pytest.mark.requirement("R-LOY-01")
        def test_https(broken):
            pass
        """,
    )
    assert outcome.verdict is not None
    assert outcome.verdict.requirements["R-LOY-01"].status == "error"
    assert "the fixture could not build its identity" in outcome.verdict.requirements["R-LOY-01"].findings[0].reason
    assert outcome.verdict.verdict != "pass"


def test_a_check_that_does_not_apply_leaves_no_evidence(tmp_path: Path) -> None:
    _, outcome = run_suite(
        tmp_path,
        """
        @pytest.mark.requirement("R-LOY-18")
        def test_no_match(run: Run, http):
            response = send(run, http, "findCard", query={"msisdn": "79000000000"})
            assert response.status_code == 200
        """,
    )
    assert records_of(outcome, "R-LOY-19") == []  # one card at most: nothing was found, so nothing was counted
    assert outcome.verdict.requirements["R-LOY-19"].status == "not-tested"
    assert outcome.verdict.requirements["R-LOY-18"].status == "pass"


def test_checks_failing_on_a_tests_answers_fail_their_own_rules_and_the_test_still_counts(tmp_path: Path) -> None:
    _, outcome = run_suite(
        tmp_path,
        """
        @pytest.mark.requirement("R-LOY-24")
        def test_unknown_card(run: Run, http):
            response = send(run, http, "updateCommunication", path_parameters={"cardNumber": "000"},
                            body={"allow": ["sms"], "deny": []})
            assert response.status_code == 422
        """,
        "--conformance-fault",
        "html-errors",
    )
    verdict = outcome.verdict
    assert verdict.requirements["R-LOY-32"].status == "fail"  # the HTML error page, recorded by the check
    assert verdict.requirements["R-LOY-24"].status == "pass"  # the test's own assertion held
    assert verdict.verdict == "fail"


def test_an_assertion_on_an_advisory_rule_only_warns(tmp_path: Path) -> None:
    _, outcome = run_suite(
        tmp_path,
        """
        @pytest.mark.requirement("R-LOY-24")
        def test_unknown_card(run: Run, http):
            assert False, "the suite prefers something else"
        """,
    )
    assert outcome.verdict.requirements["R-LOY-24"].status == "warn"


def test_a_test_naming_no_requirement_is_a_suite_bug(tmp_path: Path) -> None:
    code, outcome = run_suite(
        tmp_path,
        """
        def test_unmarked(run: Run):
            pass
        """,
    )
    assert code == pytest.ExitCode.INTERNAL_ERROR and outcome.verdict is None


def test_a_test_naming_an_unknown_requirement_is_a_suite_bug(tmp_path: Path) -> None:
    code, outcome = run_suite(
        tmp_path,
        """
        @pytest.mark.requirement("R-LOY-99")
        def test_unknown(run: Run):
            pass
        """,
    )
    assert code == pytest.ExitCode.INTERNAL_ERROR and outcome.verdict is None


def test_a_test_that_examined_nothing_is_not_tested_and_one_that_says_what_it_examined_passes(tmp_path: Path) -> None:
    _, outcome = run_suite(
        tmp_path,
        """
        from conformance.suites.support import examined, prefer

        @pytest.mark.requirement("R-LOY-01")
        def test_vacuous(run):
            for callback in []:  # nothing came: the loop never ran
                assert callback

        @pytest.mark.requirement("R-LOY-03")
        def test_with_evidence(run):
            examined(run, "two callbacks a fixture gathered")

        @pytest.mark.requirement("R-LOY-39")
        def test_prefer_over_nothing(run):
            prefer(run, "R-LOY-39", True, "", over=[])
        """,
    )
    results = outcome.verdict.requirements
    assert results["R-LOY-01"].status == "not-tested" and "examined nothing" in (results["R-LOY-01"].why_untested or "")
    assert results["R-LOY-03"].status == "pass"
    assert [r.reason for r in records_of(outcome, "R-LOY-03") if r.status == "pass"] == [
        "examined: two callbacks a fixture gathered"
    ]
    assert not [r for r in records_of(outcome, "R-LOY-39") if r.status == "pass"], "a preference over nothing is none"


def test_a_check_that_breaks_its_contract_stops_the_run_as_a_suite_bug(tmp_path: Path) -> None:
    _, outcome = run_suite(
        tmp_path,
        """
        from conformance.checks import rules
        from conformance.suites.support import operation, make_case, validate

        @rules("single-card")
        def forgetful(ctx, response, case):
            return None  # neither examined(...) nor NOT_APPLICABLE

        @pytest.mark.requirement("R-LOY-19")
        def test_checked(run, http):
            op = operation(run, "findCard")
            response = http.get(run.target.base_url + "/v1/card", params={"msisdn": "70000000000"})
            validate(run, make_case(op), response, checks=(forgetful,))
        """,
    )
    assert outcome.verdict is None, "no verdict stands on a suite that broke its own contract"
    assert "ended without saying whether it examined" in outcome.broken


def test_an_advisory_failure_is_reported_as_a_warning_not_a_failure(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    _, outcome = run_suite(
        tmp_path,
        """
        @pytest.mark.requirement("R-LOY-39")
        def test_advice(run, http):
            http.get(run.target.base_url + "/v1/card", params={"msisdn": "70000000000"})
            assert False, "the suite prefers an empty body"
        """,
        "--junitxml",
        str(junit),
    )
    assert outcome.verdict.requirements["R-LOY-39"].status == "warn"
    assert 'failures="0"' in junit.read_text("utf-8") and "the suite prefers an empty body" in junit.read_text("utf-8")
