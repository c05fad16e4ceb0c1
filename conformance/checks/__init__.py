"""Custom schemathesis checks, and the contract each one keeps. A profile maps each check's rules to requirement ids.

A check ends in one of three explicit acts:
- `return NOT_APPLICABLE`: the answer is none of its business (a card check on a search that found nothing, a
  barcode rule for a kind that has none): no record, no evidence either way;
- `return examined("what held")`: it examined the answer and its rules held: one pass record for each rule, which
  says what was examined;
- raise `RuleViolation` (several on one answer through `report`, so one defect never hides another), or
  `RuleWarning` for a rule the documents leave room for: a failure, or a warning that never fails the run.

Falling off the end, returning anything else, or raising a rule the check did not declare with `@rules` is a suite
bug (`SuiteBug`, exit 5), never a pass: `@rules` holds every check to this contract.

A check of the suite is defined undecorated and registered right below its body (`name = check(name, "rule", ...)`):
mutation testing (`nox -s mutants`) leaves decorated functions alone, and a check's body is what decides its passes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.errors import FailureGroup

from ..outcomes import SuiteBug

NOT_APPLICABLE = True  # what a check returns when the answer is none of its business ("skipped" to schemathesis)

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


@dataclass(frozen=True)
class Examined:
    """What a check examined on an answer whose rules held: the evidence its pass records name."""

    what: str


def examined(what: str) -> Examined:
    return Examined(what)


_notes = threading.local()  # check name -> what it examined on the answer being validated (this thread's)


def examined_by(check: str) -> str:
    """What `check` said it examined on the answer just validated (taken: each answer's checks say it anew)."""
    notes: dict[str, str] = getattr(_notes, "by_check", {})
    return notes.pop(check, "")


def _declared(check: str, names: tuple[str, ...], exc: BaseException) -> None:
    leaves = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
    for leaf in leaves:
        rule = getattr(leaf, "rule", None)
        if isinstance(leaf, RuleViolation) and rule not in names:
            raise SuiteBug(f"check {check} raised rule {rule!r}, which it does not declare (@rules{names})") from exc


def rules(*names: str) -> Callable[[F], F]:
    """Declare the rules a check enforces, and hold it to the contract above."""

    def mark(func: F) -> F:
        def contract(ctx: Any, response: Any, case: Any) -> bool | None:
            return _held_to_contract(func, names, ctx, response, case)

        functools.update_wrapper(contract, func)
        contract.rules = names  # type: ignore[attr-defined]
        return contract  # type: ignore[return-value]

    return mark


def check(func: F, *names: str) -> F:
    """Register `func` with schemathesis as a check of the rules `names`, held to the contract above."""
    return schemathesis.check(rules(*names)(func))


def _held_to_contract(
    func: Callable[..., Any], names: tuple[str, ...], ctx: Any, response: Any, case: Any
) -> bool | None:
    """Run a check on an answer: `NOT_APPLICABLE` is schemathesis' skip, `examined(...)` its success (what was
    examined noted for the pass records), a declared rule its failure; anything else a suite bug."""
    try:
        outcome = func(ctx, response, case)
    except (RuleViolation, FailureGroup) as exc:
        _declared(func.__name__, names, exc)
        raise
    if outcome is NOT_APPLICABLE:
        return True
    if isinstance(outcome, Examined):
        if not hasattr(_notes, "by_check"):
            _notes.by_check = {}
        _notes.by_check[func.__name__] = outcome.what
        return None
    raise SuiteBug(
        f"check {func.__name__} ended without saying whether it examined the answer (it returned "
        f"{outcome!r}): a check ends in `return examined(...)`, `return NOT_APPLICABLE`, or a raised rule"
    )
