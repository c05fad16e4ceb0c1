"""Every per-request client rule, on every request the client sent that was subject to it (judged as it arrived)."""

from ..client_journal import judge_request_rule, request_rules
from ..support import Run


@request_rules()
def test_request_rule(run: Run, rule: str) -> None:
    judge_request_rule(run, rule)
