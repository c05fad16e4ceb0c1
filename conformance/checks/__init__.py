"""Custom schemathesis checks. Each check names the rules it enforces; a profile maps rules to requirement ids.

Conventions (schemathesis' own, made explicit):
- a check that does not apply to an answer returns `True` ("skipped" in schemathesis): it is no evidence;
- a check that examined the answer and found nothing returns `None`: evidence for each of its rules;
- a breach raises `RuleViolation` (a schemathesis `Failure`); several breaches on one answer raise them all
  together (`report`), so one defect never hides another;
- a softer breach, one the documents leave room for, raises `RuleWarning`: the suite records it as a
  warning and schemathesis never counts it as a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from schemathesis.core.failures import Failure
from schemathesis.errors import FailureGroup

NOT_APPLICABLE = True  # what a check returns when the answer is none of its business

F = TypeVar("F", bound=Callable[..., Any])


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
        return f"{self.rule}:{self.title}"


class RuleWarning(RuleViolation):
    """A breach of a rule the documents leave room for: recorded as a warning, never a failure."""

    kind_title = "Conformance advice"


def report(found: Sequence[RuleViolation]) -> None:
    """Raise every breach found on one answer (none: return)."""
    if len(found) == 1:
        raise found[0]
    if found:
        raise FailureGroup(list(found), "\n".join(f.title for f in found))


def rules(*names: str) -> Callable[[F], F]:
    """Declare the rules a check enforces: an examining, passing check is evidence for each of them."""

    def mark(func: F) -> F:
        func.rules = names  # type: ignore[attr-defined]
        return func

    return mark
