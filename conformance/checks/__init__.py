"""Custom schemathesis checks. Each check names the rules it enforces; a profile maps rules to requirement ids.

A check fails by raising `RuleViolation` (a schemathesis `Failure`, so it shows in schemathesis'
own failure report) and flags a softer breach with `warnings.warn(RuleWarning(...))`, which pytest
records against the running test.
"""

from __future__ import annotations

from schemathesis.core.failures import Failure


class RuleViolation(Failure):
    """A custom check's failure, tagged with the rule it breaks."""

    code = "ST901"
    kind_title = "Conformance rule violated"
    __slots__ = ("rule",)

    def __init__(self, rule: str, title: str, message: str, *, operation: str | None = None) -> None:
        super().__init__(operation=operation, title=title, message=message)
        self.rule = rule

    @property
    def _unique_key(self) -> str:
        return self.rule


class RuleWarning(UserWarning):
    """A breach that the documents leave room for: reported as a warning, never a failure."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"[{rule}] {message}")
        self.rule = rule
        self.message = message


def rules(*names: str):  # noqa: ANN201 - a decorator factory
    """Declare the rules a check enforces: a passing check is evidence for each of them."""

    def mark(func):  # noqa: ANN001, ANN202
        func.rules = names
        return func

    return mark
