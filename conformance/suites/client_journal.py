"""Helpers for the client suites: their only input is the journal of what the partner's client sent.

- `request_rules`: the parameters of the per-request rules (judged as each request arrived, `check: request`);
- `judge_request_rule`: a rule passes on the requests that were subject to it, fails on the first that broke it;
- `in_step`, `cite`: the exchanges of one step, and the one a finding points at (shown with its curl line).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from ..plugin import run_params
from ..report.exchange import record as exchange_record
from ..run import Run

Entry = dict[str, Any]


def exchanges(run: Run) -> list[Entry]:
    return run.client.exchanges()


def in_step(run: Run, step: str, operations: tuple[str, ...]) -> list[Entry]:
    return [entry for entry in exchanges(run) if entry["step"] == step and entry["operation"] in operations]


def request_rules() -> pytest.MarkDecorator:
    """Parametrize a test with every per-request client rule of the run's catalogue, each marked with its id."""

    def build(run: Run) -> list[Any]:
        return [
            pytest.param(req_id, marks=pytest.mark.requirement(req_id), id=req_id)
            for req_id, requirement in run.profile.requirements.items()
            if requirement.check == "request"
        ]

    return run_params("rule", build)


def judge_request_rule(run: Run, rule: str) -> None:
    subject = [entry for entry in exchanges(run) if rule in entry["examined"]]
    if not subject:
        pytest.skip(f"no request the client sent was subject to {rule}")
    run.recorder.examined(f"{len(subject)} request(s) the client sent that were subject to {rule}")
    broken = [(entry, f) for entry in subject for f in entry["findings"] if f["rule"] == rule]
    if broken:
        entry, finding = broken[0]
        cite(run, entry)
        where = f" at {finding['pointer']}" if finding["pointer"] else ""
        raise AssertionError(
            f"{len({id(e) for e, _ in broken})} of {len(subject)} requests broke {rule}; the first, "
            f"#{entry['n']} {entry['request']['method']} {entry['request']['path']} (step {entry['step']}){where}: "
            f"{finding['message']}"
        )


def cite(run: Run, entry: Entry) -> None:
    """Make `entry` the exchange the running test's finding points at (as the HTTP layer does for a service)."""
    shown = entry["request"]
    url = run.target.base_url + shown["path"] + (f"?{shown['query']}" if shown["query"] else "")
    body = shown["body"].encode("utf-8", "surrogatepass") if shown["body"] else None
    headers = {name: value for name, value in shown["headers"].items() if name.lower() != "host"}  # curl sets it
    prepared = requests.Request(shown["method"], url, headers=headers, data=body).prepare()
    answer = entry["response"]
    recorder = run.recorder
    recorder.last_exchange = exchange_record(
        prepared,
        answer["status"],
        answer["headers"],
        answer["body"].encode("utf-8", "surrogatepass"),
        run.masker,
        recorder.replay,
        sidecar=recorder.sidecar,
        note=f"exchange #{entry['n']} of the journal, step {entry['step']}",
    )


def resent_unchanged(run: Run, step: str, operations: tuple[str, ...]) -> None:
    """After the step's refusal (the sandbox's stance), the same request bytes must not come again."""
    sent = in_step(run, step, operations)
    refused = next((entry for entry in sent if entry["stance"]), None)
    if refused is None:
        pytest.skip(f"the {step} step never refused a request: the client sent none there with good credentials")
    run.recorder.examined(f"the requests of the {step} step after the refusal #{refused['n']}")
    again = [e for e in sent if e["n"] > refused["n"] and e["request"]["sha256"] == refused["request"]["sha256"]]
    if again:
        cite(run, again[0])
        raise AssertionError(
            f"the request refused with {refused['response']['status']} (#{refused['n']}) was sent again unchanged "
            f"{len(again)} time(s): it will be refused again; fix it instead"
        )
