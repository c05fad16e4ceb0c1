"""Findings over time: stable finding keys, `conformance diff`, baselines, waivers by key, and `conformance rerun`.

The runs are of the embedded Loyalty reference with two defects of R-LOY-10 turned on (a number deep in the found
card, and a number in the communication call's answer, which also breaks R-LOY-25), then with the first fixed.
They are made once per test session (shared by the xdist workers) and read by every test here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, USERNAME, run_here

from conformance.baseline import Baseline
from conformance.cli import main
from conformance.diff import compare
from conformance.findings import FindingKey, normalise
from conformance.fixtures.server import serve
from conformance.gate import Policy, decide
from conformance.profiles import get_profile
from conformance.rerun import Finding, request_of

BOTH = ("number-deep", "numeric-success-body")  # two defects of R-LOY-10, on two operations
FIXED_ONE = ("numeric-success-body",)  # number-deep fixed
OPTIONS = ["--max-examples", "2"]
TODAY = dt.date(2026, 11, 23)
TITLE = "Non-string scalar in the response body"  # the title of both R-LOY-10 findings
REFERENCE_TARGETS = "allow_reference_targets = true\n"  # these verdicts are of the embedded reference


def _faults(names: tuple[str, ...]) -> list[str]:
    return [argument for name in names for argument in ("--fault", name)]


def _make_runs(root: Path) -> None:
    for name, faults, seed in (("a1", BOTH, "1"), ("a2", BOTH, "2")):
        result = run_here(["run", "loyalty", *_faults(faults), *OPTIONS, "--seed", seed], root / name)
        assert result.exit_code == 1, result.stdout + result.stderr
    # b's baseline is a1's verdict, placed where b writes its own: the run keeps it as loyalty.previous.json.
    (root / "b").mkdir()
    shutil.copy(root / "a1" / "loyalty.json", root / "b" / "loyalty.json")
    baseline = str(root / "b" / "loyalty.json")
    result = run_here(
        ["run", "loyalty", *_faults(FIXED_ONE), *OPTIONS, "--seed", "3", "--baseline", baseline], root / "b"
    )
    assert result.exit_code == 1, result.stdout + result.stderr


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Path]:
    """The verdicts of the three runs: a1 and a2 (both defects, seeds 1 and 2), b (one fixed, seed 3, a1 as its
    baseline). Under xdist the first worker makes them and the others wait for it (a lock in the shared temp dir)."""
    if worker_id == "master":
        root = tmp_path_factory.getbasetemp() / "over-time"
        _make_runs(root)
    else:
        root = tmp_path_factory.getbasetemp().parent / "over-time"
        with open(tmp_path_factory.getbasetemp().parent / "over-time.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / "done").exists():
                _make_runs(root)
                (root / "done").touch()
    return {name: root / name / "loyalty.json" for name in ("a1", "a2", "b")}


def _command(args: list[str]) -> tuple[int, str, str]:
    """A command that takes no --report-dir (diff, gate), in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def _verdict(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _findings(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        finding["key"]: {**finding, "requirement": requirement["id"]}
        for requirement in document["requirements"]
        for finding in requirement["findings"]
        if finding["status"] in ("fail", "error", "warn")
    }


# --- keys -------------------------------------------------------------------------------------------------


def test_two_runs_with_different_seeds_give_the_same_keys(runs: dict[str, Path]) -> None:
    first, second = _verdict(runs["a1"]), _verdict(runs["a2"])
    assert first["seed"] != second["seed"]
    keys = _findings(first)
    assert keys.keys() == _findings(second).keys()
    assert {(f["requirement"], f["key_parts"]["operation"]) for f in keys.values()} == {
        ("R-LOY-10", "GET /v1/card"),
        ("R-LOY-10", "PUT /v1/card/{cardNumber}/communication"),
        ("R-LOY-25", "PUT /v1/card/{cardNumber}/communication"),
    }
    for key, finding in keys.items():  # the key is the hash of its readable parts, and nothing else
        assert key == FindingKey(**finding["key_parts"]).id and len(key) == 12


def test_a_signature_keeps_the_rule_and_drops_what_a_run_varies() -> None:
    assert normalise("searching by msisdn='79216668899' alone answered 500", own_words=True) == (
        "searching by msisdn=… alone answered #"
    )
    assert normalise("the processed answer lacks ['apikey']: '{\"time\": 17}'", own_words=True) == (
        "the processed answer lacks […]"
    )
    assert normalise("messageId 0b7f0a56-1c1e-4a43-9a4e-8f6f3f0f9a11 is unknown") == "messageId <uuid> is unknown"
    assert normalise("Content-Type lacks charset=utf-8 on R-LOY-04 (UTF-8, EAN_13)") == (
        "Content-Type lacks charset=utf-8 on R-LOY-04 (UTF-8, EAN_13)"
    )


# --- diff ---------------------------------------------------------------------------------------------------


def test_a_diff_of_a_faulty_and_a_fixed_run_names_exactly_the_fixed_findings(runs: dict[str, Path]) -> None:
    faulty, fixed = _verdict(runs["a1"]), _verdict(runs["b"])
    changes = compare(faulty, fixed)
    fixed_keys = {k for k, f in _findings(faulty).items() if f["key_parts"]["operation"] == "GET /v1/card"}
    assert len(fixed_keys) == 1
    assert {entry["key"] for entry in changes["gone"]} == fixed_keys
    assert {entry["key"] for entry in changes["still_present"]} == set(_findings(fixed))
    assert changes["new_findings"] == [] and changes["not_seen"] == [] and changes["new_failures"] == 0
    assert any("faulty variants changed" in reason for reason in changes["partial"])
    code, out, err = _command(["diff", str(runs["a1"]), str(runs["b"])])
    assert code == 0 and "1 gone" in out, out + err
    code, out, _ = _command(["diff", str(runs["b"]), str(runs["a1"]), "--json"])
    assert code == 1  # the defect comes back: a new failure
    assert {entry["key"] for entry in json.loads(out)["new_findings"]} == fixed_keys


def test_a_finding_the_new_run_did_not_examine_is_not_seen_never_gone() -> None:
    parts = {"requirement": "R-LOY-20", "operation": "GET /v1/card", "check": "test", "test": "t.py::test_blocked"}
    finding = {"key": FindingKey(**parts, signature="x").id, "key_parts": parts, "status": "fail", "title": "x"}
    old = {"api": "loyalty", "requirements": [{"id": "R-LOY-20", "status": "fail", "findings": [finding]}]}
    old["requirements"][0]["examined_by"] = ["t.py::test_blocked"]
    skipped = {"api": "loyalty", "requirements": [{"id": "R-LOY-20", "status": "not-tested", "findings": []}]}
    skipped["requirements"][0]["examined_by"] = []
    passed = {"api": "loyalty", "requirements": [{"id": "R-LOY-20", "status": "pass", "findings": []}]}
    passed["requirements"][0]["examined_by"] = ["t.py::test_blocked"]
    assert [e["key"] for e in compare(old, skipped)["not_seen"]] == [finding["key"]]
    assert compare(old, skipped)["gone"] == []
    assert [e["key"] for e in compare(old, passed)["gone"]] == [finding["key"]]


def test_diff_refuses_what_it_cannot_compare(runs: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "push.json"
    other.write_text(json.dumps({**_verdict(runs["b"]), "api": "push"}), encoding="utf-8")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("[1, 2", encoding="utf-8")
    unkeyed = tmp_path / "unkeyed.json"  # a verdict written before findings had keys
    document = _verdict(runs["b"])
    for requirement in document["requirements"]:
        requirement.pop("examined_by")
        for finding in requirement["findings"]:
            finding.pop("key")
    unkeyed.write_text(json.dumps(document), encoding="utf-8")
    for old, new in ((runs["a1"], other), (runs["a1"], garbage), (unkeyed, runs["a1"])):
        code, _, err = _command(["diff", str(old), str(new)])
        assert code == 2 and err.startswith("conformance: error:"), err


# --- baselines and the gate ---------------------------------------------------------------------------------------


def test_a_run_with_a_baseline_marks_its_findings_and_shows_what_changed(runs: dict[str, Path]) -> None:
    document = _verdict(runs["b"])
    assert {f["baseline"]["state"] for f in _findings(document).values()} == {"known"}
    section = document["baseline"]
    assert section["kind"] == "verdict" and section["counts"] == {"new": 0, "known": 2, "expired": 0}
    previous = runs["b"].parent / "loyalty.previous.json"  # the verdict this run wrote over, kept and read
    assert section["file"] == str(previous) and previous.read_bytes() == runs["a1"].read_bytes()
    gone = [entry["key"] for entry in section["diff"]["gone"]]
    assert len(gone) == 1
    page = (runs["b"].parent / "loyalty.html").read_text(encoding="utf-8")
    assert "Since the baseline" in page and gone[0] in page and "KNOWN" in page


def test_a_waived_key_does_not_hide_a_second_defect_of_the_same_requirement(runs: dict[str, Path]) -> None:
    fixed, faulty = _verdict(runs["b"]), _verdict(runs["a1"])
    waivers = "".join(
        f'[[waivers]]\nkey = "{key}"\nreason = "fix scheduled"\nexpires = 2027-01-31\n' for key in _findings(fixed)
    )
    policy = Policy.parse(REFERENCE_TARGETS + waivers, "test policy")
    assert decide(fixed, policy, TODAY).passes
    blocked = decide(faulty, policy, TODAY)
    second = next(k for k, f in _findings(faulty).items() if f["key_parts"]["operation"] == "GET /v1/card")
    assert blocked.blocking == [
        f"R-LOY-10 failed: finding(s) not waived {second} (Non-string scalar in the response body)"
    ]
    # A waiver of the whole requirement (the only kind there used to be) would have let the second defect through.
    by_requirement = "".join(
        f'[[waivers]]\nrequirement = "{req}"\nreason = "x"\nexpires = 2027-01-31\n' for req in ("R-LOY-10", "R-LOY-25")
    )
    assert decide(faulty, Policy.parse(REFERENCE_TARGETS + by_requirement, "test policy"), TODAY).passes


def test_an_expired_baseline_entry_blocks_again(runs: dict[str, Path], tmp_path: Path) -> None:
    expires = dt.date(2027, 1, 31)
    curated = tmp_path / "baseline.toml"
    curated.write_text(
        "".join(
            f'[[known]]\nkey = "{key}"\nowner = "crm-team"\nreason = "fixed in the March release"\n'
            f"expires = {expires}\n"
            for key in _findings(_verdict(runs["b"]))
        ),
        encoding="utf-8",
    )
    document = _verdict(runs["b"])
    Baseline.load(str(curated), "loyalty").apply(document, TODAY)
    policy = Policy.parse(REFERENCE_TARGETS + 'block = "new"\n', "test policy")
    within = decide(document, policy, expires)
    assert within.passes, within.blocking
    assert any("known in the baseline until 2027-01-31, crm-team" in note for note in within.notes)
    after = decide(document, policy, expires + dt.timedelta(days=1))
    put = next(k for k, f in _findings(document).items() if f["requirement"] == "R-LOY-10")
    assert after.blocking == [f"R-LOY-10 failed: finding(s) neither known to the baseline nor waived {put} ({TITLE})"]
    assert any(f"finding {put} expired on 2027-01-31" in note for note in after.notes)
    # The same policy on the faulty run blocks only on what the baseline does not know: the second defect.
    faulty = _verdict(runs["a1"])
    Baseline.load(str(curated), "loyalty").apply(faulty, TODAY)
    second = next(k for k, f in _findings(faulty).items() if f["key_parts"]["operation"] == "GET /v1/card")
    assert decide(faulty, policy, TODAY).blocking == [
        f"R-LOY-10 failed: finding(s) neither known to the baseline nor waived {second} ({TITLE})"
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[known]]\nkey = "abc"\nowner = "x"\nreason = "y"\nexpires = 2027-01-01\n', "12 hex digits"),
        ('[[known]]\nkey = "0123456789ab"\nreason = "y"\nexpires = 2027-01-01\n', "lacks owner"),
        ('[[known]]\nkey = "0123456789ab"\nowner = "x"\nreason = "y"\nexpires = "soon"\n', "must be a date"),
        ('api = "push"\nknown = []\n', "is for push"),
        ("verdict = 1\n", "neither a verdict JSON nor a curated baseline"),
    ],
)
def test_a_bad_baseline_is_a_usage_error_before_anything_is_sent(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text(text, encoding="utf-8")
    result = run_here(["run", "loyalty", "--baseline", str(path)], tmp_path)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "loyalty.json").exists()


# --- rerun ------------------------------------------------------------------------------------------------------


def _rerun(runs: dict[str, Path], tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_here(["rerun", str(runs["a1"]), *extra], tmp_path)
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    return result.exit_code, json.loads((tmp_path / "loyalty.rerun.json").read_text(encoding="utf-8"))


def test_a_rerun_of_a_defect_that_fails_every_time_says_reproducible(runs: dict[str, Path], tmp_path: Path) -> None:
    original = hashlib.sha256(runs["a1"].read_bytes()).hexdigest()
    code, document = _rerun(runs, tmp_path, "--times", "2")
    assert code == 1
    assert {entry["key"] for entry in document["findings"]} == set(_findings(_verdict(runs["a1"])))
    for entry in document["findings"]:
        assert entry["classification"] == "reproducible" and entry["how"] == "exchange replayed", entry
        assert [attempt["outcome"] for attempt in entry["attempts"]] == ["reproduced", "reproduced"]
        assert all(attempt["exchange"]["response"]["status"] == 200 for attempt in entry["attempts"])
    assert document["rerun_of"]["sha256"] == original == hashlib.sha256(runs["a1"].read_bytes()).hexdigest()
    text = (tmp_path / "loyalty.rerun.json").read_text(encoding="utf-8")
    page = (tmp_path / "loyalty.rerun.html").read_text(encoding="utf-8")
    assert PASSWORD not in text and PASSWORD not in page and "REPRODUCIBLE" in page


def test_a_rerun_against_the_fixed_service_says_fixed(runs: dict[str, Path], tmp_path: Path) -> None:
    app = get_profile("loyalty").reference_app((USERNAME, PASSWORD))
    with _served(app) as server:
        code, document = _rerun(
            runs, tmp_path, "--times", "2", "--base-url", server.base_url, "--ca-bundle", server.ca_bundle
        )
    assert code == 0
    assert {entry["classification"] for entry in document["findings"]} == {"fixed"}
    assert document["target"]["base_url"] == server.base_url


class OneAnswerInThree:
    """A service whose defect comes and goes: every third request is answered by the faulty variant."""

    def __init__(self, good: Any, faulty: Any) -> None:
        self.good, self.faulty, self.count, self.lock = good, faulty, 0, threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.lock:
            self.count += 1
            app = self.faulty if self.count % 3 == 0 else self.good
        return app(environ, start_response)


def test_a_rerun_against_a_service_that_fails_one_answer_in_three_says_flaky(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    profile = get_profile("loyalty")
    app = OneAnswerInThree(
        profile.reference_app((USERNAME, PASSWORD)), profile.reference_app((USERNAME, PASSWORD), BOTH)
    )
    with _served(app) as server:
        code, document = _rerun(
            runs, tmp_path, "--times", "3", "--base-url", server.base_url, "--ca-bundle", server.ca_bundle
        )
    assert code == 1
    for entry in document["findings"]:
        assert entry["classification"] == "flaky" and entry["reproduced"] == 1, entry
        assert len(entry["attempts"]) == 3 and all(attempt["exchange"] for attempt in entry["attempts"])


def test_a_test_s_own_finding_is_tried_again_by_running_the_test(tmp_path: Path) -> None:
    faulty = run_here(["run", "loyalty", "--fault", "and-semantics", *OPTIONS, "--seed", "4"], tmp_path / "run")
    assert faulty.exit_code == 1, faulty.stdout
    report = tmp_path / "run" / "loyalty.json"
    result = run_here(["rerun", str(report), "--times", "1"], tmp_path / "rerun")
    document = json.loads((tmp_path / "rerun" / "loyalty.rerun.json").read_text(encoding="utf-8"))
    [entry] = document["findings"]
    assert entry["how"] == "test run again" and entry["classification"] == "reproducible", entry
    assert result.exit_code == 1


def test_a_request_holding_a_masked_value_that_is_no_credential_is_not_replayable() -> None:
    exchange = {
        "request": {
            "method": "POST",
            "url": "https://old.example/v1/chat",
            "headers": {"Authorization": "***", "X-WOOS-KEY": "***"},
            "body": "{}",
            "from_environment": ["Authorization"],
        }
    }
    finding = Finding("0123456789ab", "R-IMB-01", {"check": "x"}, "t", "fail", exchange, [])
    own = {"Authorization": "token", "X-WOOS-KEY": "corporate"}
    assert "X-WOOS-KEY header held a value the report masks" in str(
        request_of(finding, "https://old.example", "https://new.example", own)
    )
    exchange["request"]["from_environment"] = ["Authorization", "X-WOOS-KEY"]
    request = request_of(finding, "https://old.example", "https://new.example", own)
    assert request.url == "https://new.example/v1/chat" and request.headers["X-WOOS-KEY"] == "corporate"


@contextlib.contextmanager
def _served(app: Any) -> Iterator[Any]:
    server = serve(app, tls=True)
    try:
        yield server
    finally:
        server.stop()
