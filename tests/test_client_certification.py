"""`conformance certify-client`: the reference clients are certified PASS unattended, each faulty client is caught
on its rule (and only that rule), a person can walk the checklist by hand, and nothing minted leaks."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from conformance.fixtures.clients import imbee_client, push_client
from conformance.profiles import CLIENT_PROFILES, PROFILES
from tests.conftest import CliResult, run_cli, run_here

CLIENTS = {"push": push_client, "imbee": imbee_client}
FAULTS = [(api, fault, rule) for api, module in CLIENTS.items() for fault, rule in module.FAULTS.items()]


def certify(api: str, report_dir: Path, *faults: str, extra: tuple[str, ...] = ()) -> CliResult:
    client = [sys.executable, "-P", "-m", f"conformance.fixtures.clients.{api}_client"]
    client += [f"--fault={fault}" for fault in faults]
    arguments = ["certify-client", api, "--client-command", shlex.join(client), "--step-timeout", "30", *extra]
    return run_here(arguments, report_dir)


def minted(stdout: str) -> list[str]:
    """The credentials the command printed for the person (or client) at the keyboard."""
    return re.findall(r"CONFORMANCE_(?:PASSWORD|IMBEE_AUTH|IMBEE_KEY)=(\S+)", stdout)


def statuses(result: CliResult, api: str) -> dict[str, str]:
    return {r["id"]: r["status"] for r in result.verdict(f"{api}-client")["requirements"]}


@pytest.mark.parametrize("api", sorted(CLIENTS))
def test_the_reference_client_is_certified_unattended(api: str, tmp_path: Path) -> None:
    result = certify(api, tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    verdict = result.verdict(f"{api}-client")
    assert verdict["verdict"] == "pass" and verdict["party"] == "client"
    assert set(statuses(result, api).values()) == {"pass"}, statuses(result, api)
    assert [step["status"] for step in verdict["client"]["steps"]] == ["completed"] * len(verdict["client"]["steps"])
    journal = [json.loads(line) for line in (tmp_path / f"{api}-client.journal.jsonl").read_text().splitlines()]
    exchanges = [entry for entry in journal if entry["kind"] == "exchange"]
    assert exchanges and all(not entry["findings"] for entry in exchanges)
    secrets = minted(result.stdout)
    assert len(secrets) == (1 if api == "push" else 2)
    for path in tmp_path.iterdir():
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not any(secret in text for secret in secrets), f"a minted credential is in {path.name}"


@pytest.mark.parametrize(("api", "fault", "rule"), FAULTS, ids=[f"{api}-{fault}" for api, fault, _ in FAULTS])
def test_a_faulty_client_is_caught_on_its_rule(api: str, fault: str, rule: str, tmp_path: Path) -> None:
    result = certify(api, tmp_path, fault)
    found = statuses(result, api)
    level = CLIENT_PROFILES[api].requirements[rule].level
    assert found[rule] == ("fail" if level == "mandatory" else "warn"), (found, result.stdout[-3000:])
    assert [req for req, status in found.items() if status == "fail"] == ([rule] if level == "mandatory" else [])
    if level == "mandatory":
        assert result.exit_code == 1
    finding = next(r for r in result.verdict(f"{api}-client")["requirements"] if r["id"] == rule)["findings"][0]
    assert finding["exchange"]["curl"].startswith("curl "), "the finding shows the request the client sent"


def test_every_client_rule_has_a_faulty_client() -> None:
    for api, module in CLIENTS.items():
        assert set(module.FAULTS.values()) == set(CLIENT_PROFILES[api].requirements), api


def test_mandatory_client_rules_quote_the_documents_and_mirror_service_rules() -> None:
    for api, profile in CLIENT_PROFILES.items():
        rules = yaml.safe_load(profile.spec_bytes)["x-client-requirements"]
        service = PROFILES[api].requirements
        for req_id, entry in rules.items():
            assert entry["check"] in ("request", "behaviour"), req_id
            assert all(mirrored in service for mirrored in entry.get("mirrors", [])), req_id
            if entry["level"] == "mandatory":
                assert entry.get("quote") and entry.get("mirrors"), f"{req_id}: a mandatory rule quotes its sentence"
                assert not re.search(r"\[(GUESS|SUITE|SDK|3P)|\b[AM]-\d+\b", entry["source"]), req_id


def test_a_client_command_that_cannot_start_is_inconclusive_not_a_pass(tmp_path: Path) -> None:
    arguments = ["certify-client", "imbee", "--client-command", "/nonexistent/client", "--step-timeout", "5"]
    result = run_here(arguments, tmp_path)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    verdict = result.verdict("imbee-client")
    assert verdict["verdict"] == "inconclusive"
    assert any("did not complete step" in fact["text"] for fact in verdict["inconclusive_facts"]), verdict


def test_a_rule_about_an_optional_member_the_client_never_sent_is_not_applicable() -> None:
    """A client that leaves date_limit out follows the documents: "date_limit, when sent, is YYYY-MM-DD" does not
    apply to it (never untested, which would make the certification inconclusive)."""
    from types import SimpleNamespace

    from conformance.client.session import Certification
    from conformance.profiles import CLIENT_PROFILES

    certification = SimpleNamespace(profile=CLIENT_PROFILES["imbee"])
    without = [{"examined": ["C-IMB-01", "C-IMB-06"]}]
    found = Certification.conditional_not_applicable(certification, without)  # type: ignore[arg-type]
    assert list(found) == ["C-IMB-07"] and "date_limit" in found["C-IMB-07"]
    assert Certification.conditional_not_applicable(certification, [{"examined": ["C-IMB-07"]}]) == {}  # type: ignore[arg-type]


def test_a_wrong_listen_address_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["certify-client", "push", "--listen", "nowhere"], tmp_path)
    assert result.exit_code == 2 and "HOST:PORT" in result.stderr and "Traceback" not in result.stderr


def test_the_gate_accepts_a_client_verdict(tmp_path: Path) -> None:
    assert certify("imbee", tmp_path).exit_code == 0
    command = [sys.executable, "-P", "-m", "conformance", "gate", str(tmp_path / "imbee-client.json")]
    gate = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "imbee-client.json (imbee-client): meets the policy" in gate.stdout


# --- by hand: what a person with curl does, step by step ----------------------------------------------


class ByHand:
    """`conformance certify-client push` with no client command, driven as a person would drive it."""

    def __init__(self, report_dir: Path) -> None:
        command = [sys.executable, "-P", "-m", "conformance", "certify-client", "push", "--tls"]
        command += ["--step-timeout", "30", "--report-dir", str(report_dir)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        while not any(line.strip().startswith("1. [") for line in self.lines):
            line = self.process.stdout.readline()
            assert line, "".join(self.lines)
            self.lines.append(line)
        printed = "".join(self.lines)
        self.base_url = re.search(r"sandbox: (\S+)", printed).group(1)
        self.ca = re.search(r"CA file: (\S+)", printed).group(1)
        self.env = dict(re.findall(r"(CONFORMANCE_\w+)=(\S+)", printed))

    def status(self) -> dict:
        return requests.get(f"{self.base_url}/_certify/status", verify=self.ca, timeout=5).json()

    def wait_for(self, step: str) -> None:
        deadline = time.monotonic() + 10
        while self.status()["step"] != step:
            assert time.monotonic() < deadline, f"the sandbox never reached step {step}"
            time.sleep(0.05)

    def skip_to_the_end(self) -> None:
        """End each remaining step through the control endpoint, as a person pressing Enter would."""
        try:
            while (step := self.status()["step"]) is not None:
                requests.post(f"{self.base_url}/_certify/next", verify=self.ca, timeout=5)
                while self.status()["step"] == step:
                    time.sleep(0.05)
        except requests.ConnectionError:
            return  # the last step ended: the sandbox stopped listening

    def send(self, password: str, title: str = "Ваш заказ готов", **extra: object) -> requests.Response:
        body = {
            "pushType": "TRANSACTION",
            "msisdn": int(self.env["CONFORMANCE_MSISDN"]),
            "payload": {"title": title, "message": "Заберите его сегодня", "deeplink": {"target": "card"}},
            **extra,
        }
        auth = (self.env["CONFORMANCE_USERNAME"], password)
        return requests.post(f"{self.base_url}/push/delivery", json=body, auth=auth, verify=self.ca, timeout=5)

    def finish(self) -> tuple[int, str]:
        out, _ = self.process.communicate(timeout=60)
        return self.process.returncode, "".join(self.lines) + out


def test_a_person_walks_the_push_checklist_by_hand(tmp_path: Path) -> None:
    person = ByHand(tmp_path)
    try:
        initial, new = person.env["CONFORMANCE_PASSWORD"], "a-new-password-of-mine-42"
        url, login = person.base_url, person.env["CONFORMANCE_USERNAME"]
        person.wait_for("reset-password")
        reset = requests.put(
            f"{url}/public/user/reset-password", json={"password": new}, auth=(login, initial), verify=person.ca
        )
        assert reset.status_code == 200
        person.wait_for("cyrillic-send")
        assert person.send(new).status_code == 200
        person.wait_for("promo-campaign")
        campaign = {"target": "campaign", "campaignId": "spring-2026"}
        promo = {"pushType": "PROMO", "payload": {"title": "Весна", "message": "Скидки", "deeplink": campaign}}
        assert person.send(new, **promo).status_code == 200
        person.wait_for("batch")
        batch = {"pushType": "SERVICE", "msisdn": [int(n) for n in person.env["CONFORMANCE_MSISDNS"].split(",")]}
        batch |= {"subId": "by-hand-1", "payload": {"title": "Т", "message": "С", "deeplink": {"target": "card"}}}
        answer = requests.post(f"{url}/push/bulk/single", json=batch, auth=(login, new), verify=person.ca)
        assert answer.status_code == 200
        person.wait_for("rate-limited")
        refused = person.send(new)
        assert refused.status_code == 429
        time.sleep(float(refused.headers["Retry-After"]) + 0.2)
        assert person.send(new).status_code == 200
        person.wait_for("unavailable")
        assert person.send(new).status_code == 503
        time.sleep(1.2)
        assert person.send(new).status_code == 200
        person.wait_for("refused")
        assert person.send(new).status_code == 400
        control = requests.post(f"{url}/_certify/next", verify=person.ca, timeout=5)  # no need to wait for quiet
        assert control.status_code == 200
        code, output = person.finish()
    finally:
        person.process.kill()
    assert code == 0, output
    verdict = json.loads((tmp_path / "push-client.json").read_text())
    assert {r["status"] for r in verdict["requirements"]} == {"pass"}, verdict["reasons"]
    journal = (tmp_path / "push-client.journal.jsonl").read_text()
    assert "_certify" not in journal, "the control endpoint is not part of what the client sent"
    assert new not in journal and initial not in journal


def test_a_certification_cut_by_its_deadline_says_so(tmp_path: Path) -> None:
    result = run_cli(["certify-client", "push", "--deadline", "1"], tmp_path)
    assert result.exit_code == 4, result.stdout + result.stderr
    reasons = result.verdict("push-client")["reasons"]
    assert "the client sent no request to the sandbox: no rule was exercised" in reasons
    assert any("deadline" in reason for reason in reasons), reasons


def test_a_hostile_client_is_bounded_escaped_and_recorded(tmp_path: Path) -> None:
    person = ByHand(tmp_path)
    try:
        url, ca = person.base_url, person.ca
        auth = (person.env["CONFORMANCE_USERNAME"], person.env["CONFORMANCE_PASSWORD"])
        escape = requests.post(f"{url}/push/\x1b[31mred", data=b"{}", auth=auth, verify=ca, timeout=10)
        assert escape.status_code == 401  # the initial password: refused before the unknown path is looked up
        huge = requests.post(f"{url}/push/delivery", data=b"x" * (5 * 1024 * 1024), auth=auth, verify=ca, timeout=30)
        assert huge.status_code == 413
        chunked = requests.post(f"{url}/push/delivery", data=iter([b'{"pushType":', b'"PROMO"}']), auth=auth, verify=ca)
        assert chunked.status_code == 401  # the initial password, before any reset: read whole, then refused
        person.skip_to_the_end()
        code, output = person.finish()
    finally:
        person.process.kill()
    assert code in (1, 4) and "Traceback" not in output, output
    assert "\x1b" not in output and "\\x1b[31mred" in output, "control characters are shown escaped"
    journal = [json.loads(line) for line in (tmp_path / "push-client.journal.jsonl").read_text().splitlines()]
    statuses = [entry["response"]["status"] for entry in journal if entry["kind"] == "exchange"]
    assert statuses == [401, 413, 401]
    chunked_entry = [entry for entry in journal if entry["kind"] == "exchange"][2]
    assert chunked_entry["request"]["body"] == '{"pushType":"PROMO"}'


def test_ctrl_c_ends_the_certification_with_its_reports(tmp_path: Path) -> None:
    person = ByHand(tmp_path)
    try:
        person.wait_for("reset-password")
        person.process.send_signal(signal.SIGINT)
        code, output = person.finish()
    finally:
        person.process.kill()
    assert code == 4 and "Traceback" not in output, output
    verdict = json.loads((tmp_path / "push-client.json").read_text())
    assert verdict["client"]["ended"] == "stopped by Ctrl-C"
    assert verdict["client"]["steps"][0]["status"] == "interrupted"
    assert (tmp_path / "push-client.html").exists() and (tmp_path / "push-client.junit.xml").exists()
