"""The judge, table-driven: every kind of record and run fact, with the requirement status, the verdict and the
exit code it must give. The CLI, the reports and the gate only ever read what this function returns."""

from __future__ import annotations

import pytest

from conformance.judge import RunFacts, inconclusive_facts, judge
from conformance.outcomes import ERROR, FAIL, PASS, SKIP, WARN, Record
from conformance.requirements import Requirement

CATALOGUE = {
    "M-1": Requirement("M-1", "a documented rule", "mandatory"),
    "M-2": Requirement("M-2", "another documented rule", "mandatory"),
    "A-1": Requirement("A-1", "the suite's reading", "advisory"),
    "O-1": Requirement("O-1", "an opt-in rule", "optional"),
}
ANSWERED = RunFacts(answered=10)
BOTH_PASS = [Record(("M-1",), PASS, "t1", "check"), Record(("M-2",), PASS, "t2", "check")]


def record(req: str, status: str, test: str = "t", check: str = "check", reason: str = "why") -> Record:
    return Record((req,), status, test, check, reason=reason)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "records, facts, statuses, verdict, exit_code",
    [
        pytest.param(BOTH_PASS, ANSWERED, {"M-1": "pass", "M-2": "pass"}, "pass", 0, id="all-pass"),
        pytest.param(
            [*BOTH_PASS, record("M-1", FAIL)], ANSWERED, {"M-1": "fail"}, "fail", 1, id="a-failure-beats-passes"
        ),
        pytest.param(
            [*BOTH_PASS, record("A-1", FAIL)], ANSWERED, {"A-1": "warn"}, "pass", 0, id="advisory-failure-warns"
        ),
        pytest.param([*BOTH_PASS, record("O-1", FAIL)], ANSWERED, {"O-1": "fail"}, "fail", 1, id="optional-fails"),
        pytest.param(
            [*BOTH_PASS, record("M-1", WARN)], ANSWERED, {"M-1": "warn"}, "pass", 0, id="a-warning-on-mandatory"
        ),
        pytest.param(
            [record("M-1", PASS), record("M-2", ERROR, check="setup", reason="setup failed: fixture raised")],
            ANSWERED,
            {"M-2": "error"},
            "inconclusive",
            4,
            id="setup-error-is-no-pass",
        ),
        pytest.param(
            [record("M-1", PASS), record("M-2", PASS), record("M-2", ERROR, reason="no usable answer: timeout")],
            ANSWERED,
            {"M-2": "error"},
            "inconclusive",
            4,
            id="an-error-beside-a-pass",
        ),
        pytest.param(
            [record("M-1", PASS), record("M-2", ERROR), record("M-2", FAIL)],
            ANSWERED,
            {"M-2": "fail"},
            "fail",
            1,
            id="a-failure-beats-an-error",
        ),
        pytest.param(
            [record("M-1", PASS)], ANSWERED, {"M-2": "not-tested"}, "inconclusive", 4, id="check-not-applicable"
        ),
        pytest.param(
            [record("M-1", PASS), record("M-2", SKIP, reason="the target config has no [identities.blocked]")],
            ANSWERED,
            {"M-2": "not-tested"},
            "inconclusive",
            4,
            id="skipped-mandatory",
        ),
        pytest.param(
            [record("M-1", PASS)],
            RunFacts(answered=10, out_of_reach={"M-2": "1,000,000 per minute cannot be sent"}),
            {"M-2": "not-tested"},
            "pass",
            0,
            id="out-of-reach-is-declared-not-inconclusive",
        ),
        pytest.param(
            [record("M-1", PASS)],
            RunFacts(answered=10, not_applicable={"M-2": "it binds API version 1.0.0; the run claims 1.1.0"}),
            {"M-2": "not-applicable"},
            "pass",
            0,
            id="another-version",
        ),
        pytest.param(
            [record("M-1", FAIL, check="availability", reason="got no answer: timeout")],
            RunFacts(answered=0, unanswered=3, unanswered_causes={"timeout": 3}),
            {"M-1": "fail"},
            "error",
            3,
            id="nothing-answered",
        ),
        pytest.param(
            [*BOTH_PASS, record("M-1", FAIL, check="availability", reason="got no answer: timeout")],
            RunFacts(answered=10, unanswered=2, unanswered_causes={"timeout": 2}),
            {"M-1": "fail"},
            "fail",
            1,
            id="some-unanswered-fails-availability",
        ),
        pytest.param(
            [*BOTH_PASS, record("M-1", FAIL, check="not_a_server_error")],
            RunFacts(answered=10, credentialed_statuses={503: 10}),
            {"M-1": "fail"},
            "fail",
            1,
            id="only-5xx-fails",
        ),
        pytest.param(
            [record("M-1", FAIL), record("M-2", PASS)],
            RunFacts(answered=10, credentialed_statuses={401: 10}, credential_env=("USER", "PASS")),
            {"M-1": "inconclusive"},
            "inconclusive",
            4,
            id="every-credentialed-request-refused",
        ),
        pytest.param(
            BOTH_PASS,
            RunFacts(answered=10, operations_without_success=("GET /v1/card",)),
            {},
            "inconclusive",
            4,
            id="an-operation-never-succeeded",
        ),
        pytest.param(
            [record("M-1", PASS), record("M-2", FAIL)],
            RunFacts(answered=10, not_applicable={"M-2": 'the target config declares blocked_card = "issued"'}),
            {"M-2": "not-applicable"},
            "pass",
            0,
            id="a-rule-a-declared-option-does-not-bind-is-not-applicable-whatever-its-records",
        ),
        pytest.param(
            [record("M-1", FAIL), record("M-2", FAIL)],
            RunFacts(answered=20, documented_statuses={404: 18, 422: 2}),
            {"M-1": "inconclusive", "M-2": "inconclusive"},
            "inconclusive",
            4,
            id="nearly-every-documented-path-404-is-a-wrong-base-url",
        ),
        pytest.param(
            [record("M-1", FAIL), record("M-2", PASS)],
            RunFacts(answered=20, documented_statuses={404: 19, 200: 1}),
            {"M-1": "fail"},
            "fail",
            1,
            id="404s-beside-a-success-are-the-services-own",
        ),
        pytest.param(
            [record("M-1", FAIL), record("M-2", PASS)],
            RunFacts(answered=20, documented_statuses={404: 10, 422: 10}),
            {"M-1": "fail"},
            "fail",
            1,
            id="404s-on-half-the-requests-are-the-services-own",
        ),
        pytest.param(
            [record("M-1", FAIL), record("M-2", PASS)],
            RunFacts(answered=20, documented_statuses={503: 20}),
            {"M-1": "fail"},
            "fail",
            1,
            id="an-outage-is-no-wrong-base-url",
        ),
        pytest.param(BOTH_PASS, RunFacts(answered=10, leaks=("loyalty.html",)), {}, "error", 5, id="leak-found"),
        pytest.param([], RunFacts(), {"M-1": "not-tested"}, "inconclusive", 4, id="nothing-sent"),
        pytest.param(
            BOTH_PASS, RunFacts(answered=10, deadline_reached="deadline"), {}, "inconclusive", 4, id="deadline"
        ),
    ],
)
def test_judge(records, facts, statuses, verdict, exit_code) -> None:
    result = judge(records, CATALOGUE, facts)
    assert result.verdict == verdict
    assert result.exit_code == exit_code
    for req_id, status in statuses.items():
        assert result.requirements[req_id].status == status, req_id


def test_a_record_naming_no_requirement_or_an_unknown_one_is_a_suite_bug() -> None:
    with pytest.raises(ValueError, match="names no requirement"):
        judge([Record((), FAIL, "t", "check")], CATALOGUE, ANSWERED)
    with pytest.raises(ValueError, match="catalogue lacks"):
        judge([Record(("X-9",), FAIL, "t", "check")], CATALOGUE, ANSWERED)


def test_the_reasons_name_what_failed_and_why_it_is_inconclusive() -> None:
    failed = judge([*BOTH_PASS, record("M-2", FAIL)], CATALOGUE, ANSWERED)
    assert failed.reasons == ["requirements failed: M-2"]
    unsure = judge([record("M-1", PASS), record("M-2", SKIP, reason="no identity")], CATALOGUE, ANSWERED)
    assert unsure.reasons == ["mandatory requirement M-2 was not tested: no identity"]
    assert judge(BOTH_PASS, CATALOGUE, ANSWERED).reasons == []


def test_findings_keep_the_most_serious_first_and_passes_are_counted() -> None:
    records = [record("M-1", WARN), record("M-1", FAIL), Record(("M-1",), PASS, "t", "c", count=3)]
    result = judge(records, CATALOGUE, ANSWERED).requirements["M-1"]
    assert [f.status for f in result.findings] == [FAIL, WARN]
    assert result.passes == 3


def test_a_rule_not_applicable_says_why_and_keeps_no_finding() -> None:
    why = 'the target config declares blocked_card = "issued"; the rule binds blocked_card = "refused"'
    result = judge(
        [record("M-1", PASS), record("M-2", FAIL)], CATALOGUE, RunFacts(answered=2, not_applicable={"M-2": why})
    )
    assert result.requirements["M-2"].why_untested == why and result.requirements["M-2"].findings == []


def test_a_wrong_base_url_is_named_with_what_to_check() -> None:
    advice = "it ends in /v1 and the spec adds /v1 (requests went to /v1/v1/card); try --base-url https://host"
    facts = RunFacts(answered=16, documented_statuses={404: 16}, base_url_advice=advice)
    result = judge([record("M-1", FAIL)], CATALOGUE, facts)
    assert result.reasons == [
        f"16 of 16 requests to documented paths got 404 and none succeeded: is the base URL right? {advice}"
    ]


# --- inconclusive facts are kept whatever the verdict ---------------------------------------------------------


def test_a_failed_run_still_carries_what_made_it_inconclusive() -> None:
    facts = RunFacts(answered=10, deadline_reached="the run deadline was reached", operations_without_success=("P",))
    verdict = judge([*BOTH_PASS, record("M-1", FAIL)], CATALOGUE, facts)
    assert verdict.verdict == "fail"
    assert [fact.text for fact in verdict.inconclusive][:1] == ["the run deadline was reached"]
    assert any(fact.operation == "P" for fact in verdict.inconclusive)


def test_an_untested_mandatory_rule_is_a_fact_that_names_it_whatever_the_verdict() -> None:
    verdict = judge([record("M-1", FAIL)], CATALOGUE, ANSWERED)  # M-2: no record at all
    assert verdict.verdict == "fail"
    assert [(fact.requirement, "not tested" in fact.text) for fact in verdict.inconclusive] == [("M-2", True)]


def test_an_interrupted_run_is_inconclusive_and_says_so_without_blaming_the_service() -> None:
    facts = RunFacts(answered=10, interrupted="the run was interrupted (Ctrl-C)", operations_without_success=("P",))
    verdict = judge([*BOTH_PASS, record("M-1", FAIL)], CATALOGUE, facts)
    assert (verdict.verdict, verdict.exit_code, verdict.reasons) == ("inconclusive", 4, [facts.interrupted])
    assert [f.text for f in verdict.inconclusive if f.operation] == ["P was not reached before the run was interrupted"]


def test_a_rule_that_does_not_apply_to_the_declared_options_is_not_applicable_with_its_reason() -> None:
    facts = RunFacts(answered=10, not_applicable={"M-2": "no request sent date_limit (optional)"})
    verdict = judge([record("M-1", PASS)], CATALOGUE, facts)
    assert verdict.verdict == "pass" and verdict.requirements["M-2"].status == "not-applicable"


# --- the verdict's words, and what every verdict keeps ----------------------------------------------------------


def test_every_verdict_keeps_its_requirements_and_its_inconclusive_facts() -> None:
    facts = dict(answered=10, operations_without_success=("POST /p",))
    for extra, verdict in [
        ({"leaks": ("a.html", "b.json")}, "error"),
        ({"interrupted": "the run was interrupted (Ctrl-C)"}, "inconclusive"),
        ({"answered": 0, "unanswered_causes": {"timeout": 2}}, "error"),
        ({"answered": 0}, "inconclusive"),
        ({"credentialed_statuses": {401: 3}}, "inconclusive"),
        ({"documented_statuses": {404: 5}}, "inconclusive"),
        ({}, "fail"),
    ]:
        result = judge([*BOTH_PASS, record("M-1", FAIL)], CATALOGUE, RunFacts(**(facts | extra)))
        assert result.verdict == verdict, extra
        assert set(result.requirements) == set(CATALOGUE), extra
        assert [fact.operation for fact in result.inconclusive] == ["POST /p"], extra


@pytest.mark.parametrize(
    "facts, reasons",
    [
        (
            RunFacts(answered=10, leaks=("a.html", "b.json")),
            ["a credential was found in a.html, b.json: the artefacts were withheld; please report this"],
        ),
        (
            RunFacts(answered=0, unanswered_causes={"timeout": 1, "connection reset": 2}),  # by cause, not count
            ["the target answered nothing (2 x connection reset, 1 x timeout)"],
        ),
        (RunFacts(answered=0), ["no request reached the target: the tests did not run"]),
        (
            RunFacts(answered=0, client=True, deadline_reached="the run deadline (60 s) was reached"),
            ["the client sent no request to the sandbox: no rule was exercised", "the run deadline (60 s) was reached"],
        ),
        (
            RunFacts(answered=8, credentialed_statuses={403: 5, 401: 3}, credential_env=("USER", "PASS")),
            ["every request made with the configured credentials was refused (3 x 401, 5 x 403): check USER / PASS"],
        ),
        (
            RunFacts(answered=8, credentialed_statuses={403: 8}),
            ["every request made with the configured credentials was refused (8 x 403)"],
        ),
        (
            RunFacts(answered=3, documented_statuses={404: 3}),
            ["3 of 3 requests to documented paths got 404 and none succeeded: is the base URL right?"],
        ),
        (
            RunFacts(answered=5, documented_statuses={404: 4, 422: 1}),  # exactly the share: misdirected
            ["4 of 5 requests to documented paths got 404 and none succeeded: is the base URL right?"],
        ),
        (
            RunFacts(answered=10, documented_statuses={404: 9, 300: 1}),  # a redirect is no success
            ["9 of 10 requests to documented paths got 404 and none succeeded: is the base URL right?"],
        ),
    ],
    ids=[
        "leak",
        "nothing-answered",
        "nothing-sent",
        "client-sent-nothing",
        "refused",
        "refused-403",
        "3-of-3-404",
        "share",
        "redirect",
    ],
)
def test_the_reasons_say_why_the_run_is_no_evidence(facts: RunFacts, reasons: list[str]) -> None:
    assert judge([record("M-1", FAIL), record("M-2", PASS)], CATALOGUE, facts).reasons == reasons


def test_a_few_404s_or_one_success_are_the_services_own() -> None:
    for statuses in ({404: 2}, {404: 19, 299: 1}, {404: 3, 422: 1}):
        facts = RunFacts(answered=20, documented_statuses=statuses)
        assert judge([record("M-1", FAIL), record("M-2", PASS)], CATALOGUE, facts).verdict == "fail", statuses


def test_a_failed_run_names_every_failed_requirement() -> None:
    result = judge([record("M-1", FAIL), record("M-2", FAIL)], CATALOGUE, ANSWERED)
    assert result.reasons == ["requirements failed: M-1, M-2"]


def test_the_facts_that_keep_a_run_from_being_evidence_say_each_what_it_is() -> None:
    catalogue = {"A-1": CATALOGUE["A-1"], **CATALOGUE}  # an advisory rule first: every mandatory one is still weighed
    facts = RunFacts(
        answered=10,
        deadline_reached="the run deadline was reached",
        incomplete_steps=("the client did not complete step 2: it exited with 1",),
        operations_without_success=("POST /p",),
    )
    records = [record("M-1", ERROR, reason="setup failed: no identity")]  # M-2: nothing at all
    result = judge(records, catalogue, facts)
    assert [(f.text, f.requirement, f.operation) for f in result.inconclusive] == [
        ("the run deadline was reached", None, None),
        ("the client did not complete step 2: it exited with 1", None, None),
        ("POST /p never answered a request with success, so its answers were never checked", None, "POST /p"),
        ("mandatory requirement M-1 could not be established: setup failed: no identity", "M-1", None),
        ("mandatory requirement M-2 was not tested", "M-2", None),
    ]
    assert result.reasons == [fact.text for fact in result.inconclusive]


def test_an_error_with_no_finding_to_quote_is_still_named() -> None:
    results = judge([record("M-1", PASS), record("M-2", PASS)], CATALOGUE, ANSWERED).requirements
    results["M-2"].status, results["M-2"].findings = ERROR, []
    facts = inconclusive_facts(results, ANSWERED)
    assert [f.text for f in facts] == ["mandatory requirement M-2 could not be established: an error"]


def test_a_result_says_which_tests_spoke_for_it_and_why_it_went_untested() -> None:
    records = [record("M-1", PASS, test="t2"), record("M-1", PASS, test="t1"), record("M-1", WARN, test="t2")]
    facts = RunFacts(answered=2, out_of_reach={"M-2": "1,000,000 requests a minute"})
    result = judge(records, CATALOGUE, facts)
    assert result.requirements["M-1"].tests == ["t1", "t2"]
    assert result.requirements["M-1"].why_untested is None
    assert result.requirements["M-2"].why_untested == "out of reach: 1,000,000 requests a minute"


def test_a_verdict_counts_its_requirements_by_status() -> None:
    result = judge([record("M-1", FAIL), record("A-1", FAIL), record("M-2", PASS)], CATALOGUE, ANSWERED)
    assert result.counts() == {
        "pass": 1,
        "fail": 1,
        "warn": 1,
        "error": 0,
        "not-tested": 1,
        "not-applicable": 0,
        "inconclusive": 0,
    }
    assert result.ids_with("fail") == ["M-1"] and result.ids_with("not-tested") == ["O-1"]
