"""Answers that were not computed (DESIGN.md principle 8): printed numbers, harvested tables, constants.

``hard-coded``: right on the book's examples, wrong elsewhere, with answers that ignore the
input. With the instructor's secret, the seeded random cases are inputs no student has
seen: a function that gets every book example and none of them, answering those with
nothing computed (a lookup that fails, a placeholder, a printed answer), is a table.

``constant-result``: the same answer whatever the input (the ``cases`` check takes back the
credit of a case such a constant happens to match, see grader.checking.cases).

Both are fallbacks: a rule that names a cause in the code explains the answers better, and
:func:`settle` keeps them only when nothing else does, except a table found under the secret.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..checking.comparisons import as_numeric
from ..specs.instructor_secret import current_secret
from ..report import Diagnosis
from .model import DiagnosisRule, Evidence, Observation, close
from ..i18n import N_

FUNCTION_EXERCISES = ("sum_squares_error", "cross_entropy_error", "numerical_diff", "numerical_gradient",
                      "gradient_descent")
FALLBACKS = ("hard-coded", "constant-result")
LOOKUP_ERRORS = ("KeyError", "LookupError")


def _hard_coded(e: Evidence) -> bool:
    """Right on (some of) the book's examples, wrong elsewhere, with answers that ignore the input."""
    if harvested(e):
        return True
    book = [o for o in e.observations if o.book and (o.passed or _printed_constant(o))]
    fresh = [o for o in e.failed() if o.actual is not None and o.outcome == "wrong"]
    if not book or not fresh:
        return False
    printed = [o.actual for o in book]
    answers = [o.actual for o in fresh]
    repeats = sum(any(close(a, p, rtol=1e-12) for p in printed) for a in answers)
    constant = len(answers) >= 2 and all(close(a, answers[0], rtol=1e-12) for a in answers)
    # Zeros of whatever shape was asked for (`table.get(x, np.zeros_like(x))`) while the book's
    # own cases come out right: a lookup of the printed answers with a placeholder elsewhere.
    numeric = [as_numeric(a) for a in answers]
    placeholder = len(answers) >= 2 and all(a is not None and a.size and not np.any(a) for a in numeric)
    return constant or placeholder or (repeats >= min(2, len(answers)) and 2 * repeats >= len(answers))


def _printed_constant(o: Observation) -> bool:
    """A book case matched by an answer given to every input (its credit taken back), which is the
    printed number itself, not merely near it (zeros are near the book's 6e-10)."""
    return bool(o.extra.get("constant")) and close(o.actual, o.expected, rtol=1e-6, atol=1e-12)


def harvested(e: Evidence) -> bool:
    """Under the instructor's secret: every book example right, no seeded random case right, and
    nothing in the answers to those computed from their input."""
    if not current_secret():
        return False
    cases = [o for o in e.observations if o.check == "cases"]
    book = [o for o in cases if o.book]
    seeded = [o for o in cases if o.extra.get("seeded")]
    if not book or not seeded or not all(o.passed for o in book) or any(o.passed for o in seeded):
        return False
    printed = [o.actual for o in book]
    return all(_not_computed(o, printed, seeded) for o in seeded)


def _not_computed(o: Observation, printed: list, answers: list[Observation]) -> bool:
    """A lookup that failed, no value, a placeholder of zeros, a printed answer, or the answer given
    to another input."""
    if o.outcome == "error":
        return o.error is not None and o.error.type in LOOKUP_ERRORS
    if o.outcome != "wrong":
        return False
    if o.actual is None:
        return True
    value = as_numeric(o.actual)
    if value is not None and value.size and not np.any(value):
        return True
    return any(close(o.actual, p, rtol=1e-12) for p in printed) or any(
        other is not o and other.actual is not None and close(o.actual, other.actual, rtol=1e-12) for other in answers)


def _constant(e: Evidence) -> Observation | None:
    return next((o for o in e.failed("cases") if o.extra.get("constant")), None)


def _constant_result(e: Evidence) -> bool:
    # The book's printed answer returned for every input is the more telling name: hard-coded.
    return _constant(e) is not None and not _hard_coded(e)


def _constant_result_details(e: Evidence) -> dict[str, Any]:
    from ..checking.display import value_text
    o = _constant(e)
    return {"value": value_text(o.actual), "count": o.extra["constant"]}


def settle(found: Iterable[Diagnosis], evidence: Evidence) -> list[Diagnosis]:
    """The diagnoses to report: a fallback (hard-coded, constant-result) only when no rule names a
    cause; a named mistake also explains answers that look fixed (x = lr * grad tends to 0 whatever
    the start). A table found under the instructor's secret is called so whatever else is found."""
    found = list(found)
    if not any(d.id not in FALLBACKS for d in found):
        return found
    keep = ("hard-coded",) if any(d.id == "hard-coded" for d in found) and harvested(evidence) else ()
    return [d for d in found if d.id not in FALLBACKS or d.id in keep]


RULES = [
    DiagnosisRule("hard-coded", FUNCTION_EXERCISES + ("simple_net", "two_layer_net"), N_(
        "Right on the book's examples but wrong on new inputs, with answers that do not depend on "
        "the input: the code seems to return the book's printed numbers rather than compute them."),
                  _hard_coded),
    DiagnosisRule("constant-result", FUNCTION_EXERCISES, N_(
        "Your function returned {value} for each of {count} different inputs: its result does not depend "
        "on its arguments, so a case it matches is matched by chance and earns nothing. Compute the result "
        "from the arguments it is given."), _constant_result, _constant_result_details,
                  summary=N_("The function returns the same value whatever its arguments: its result does not "
                      "depend on its input.")),
]
