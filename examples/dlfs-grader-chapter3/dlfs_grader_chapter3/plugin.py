"""The hook implementations of the chapter-3 plugin.

dlfs-grader finds this module through the entry point group ``grader`` (see
``pyproject.toml``), or with ``grade --plugin dlfs_grader_chapter3.plugin`` when the
package is importable but not installed. It adds:

* ``grader_exercise_dirs``: the package's ``exercises/`` folder (three specs);
* ``grader_generators``: ``ch3_points`` and ``ch3_logits``, the seeded inputs of the
  specs' ``[[random]]`` cases;
* ``grader_diagnoses``: the mistakes students make in chapter 3, each with a stable id;
* ``grader_assignments``: ``chapter3`` (``grade sub.py --assignment chapter3``);
* ``grader_catalogs``: Korean, Japanese and Chinese for every message above (``locale/``,
  refreshed with ``python -m grader.i18n.extract --plugin dlfs_grader_chapter3``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader.diagnoses import DiagnosisRule, Evidence, close, error_text, non_finite, normalised_over_whole_batch
from grader.hookspecs import hookimpl

HERE = Path(__file__).resolve().parent
EXERCISES = HERE / "exercises"

#: np.exp(x) is inf for x above this (about 709.78).
EXP_OVERFLOWS_ABOVE = float(np.log(np.finfo(np.float64).max))


# ---- generators -----------------------------------------------------------------------------

def ch3_points(rng: np.random.Generator, shape: list[int] | tuple[int, ...] = (6,), low: float = -5.0,
               high: float = 5.0, zeros: int = 0) -> tuple:
    """An array ``x`` of the given shape, uniform in [low, high] and rounded to 3 decimals.

    ``zeros`` entries are set to exactly 0, where ``x > 0`` and ``x >= 0`` disagree.
    """
    x = np.round(rng.uniform(float(low), float(high), size=tuple(shape)), 3)
    if zeros:
        flat = x.reshape(-1)
        flat[rng.choice(flat.size, size=min(int(zeros), flat.size), replace=False)] = 0.0
    return (x,)


def ch3_logits(rng: np.random.Generator, batch: int = 0, classes: int = 10, scale: float = 3.0,
               offset: float = 0.0) -> tuple:
    """Scores ``a`` for softmax: one sample (``batch = 0``, shape ``(classes,)``) or a batch of rows.

    ``offset`` is added to every score: with ``offset = 1000`` a softmax that does not
    subtract the maximum first overflows.
    """
    shape = (int(classes),) if int(batch) == 0 else (int(batch), int(classes))
    return (np.round(rng.normal(scale=float(scale), size=shape), 3) + float(offset),)


# ---- diagnoses ------------------------------------------------------------------------------

def _first_arg(o: Any) -> np.ndarray:
    return np.asarray(o.args[0], dtype=float)


def _returns_bool(e: Evidence) -> bool:
    for o in e.failed("cases"):
        if isinstance(o.actual, bool) or (isinstance(o.actual, np.ndarray) and o.actual.dtype == np.bool_):
            return True
    return False


def _if_on_array(e: Evidence) -> bool:
    return any(o.error is not None and o.error.type == "ValueError" and "truth value of an array" in o.error.message
               for o in e.failed("cases"))


def _math_exp_on_array(e: Evidence) -> bool:
    return any(o.error is not None and o.error.type == "TypeError" and
               "converted to Python scalars" in o.error.message for o in e.failed("cases"))


def _sigmoid_precedence(e: Evidence) -> bool:
    for o in e.failed("cases"):
        x = _first_arg(o)
        with np.errstate(all="ignore"):
            variants = (1 / 1 + np.exp(-x), 1 / 1 + np.exp(x))
        if any(close(o.actual, v, rtol=1e-9) for v in variants):
            return True
    return False


def _softmax_overflow(e: Evidence) -> bool:
    """Scores past ~709 make np.exp overflow: the result is nan (inf / inf) or an overflow error."""
    for o in e.failed("cases"):
        if np.max(_first_arg(o)) > EXP_OVERFLOWS_ABOVE and (non_finite(o.actual) or "overflow" in error_text(o)):
            return True
    return False


def _softmax_whole_batch(e: Evidence) -> bool:
    return any(normalised_over_whole_batch(o.actual) for o in e.failed("cases"))


def _without_keepdims(a: np.ndarray) -> list[np.ndarray]:
    """softmax of a 2-D batch with keepdims=True left out of the max, the sum or both."""
    variants = []
    for max_keep, sum_keep in ((False, True), (True, False), (False, False)):
        with np.errstate(all="ignore"):
            try:
                exp_a = np.exp(a - np.max(a, axis=1, keepdims=max_keep))
                variants.append(exp_a / np.sum(exp_a, axis=1, keepdims=sum_keep))
            except ValueError:  # does not broadcast: only a square batch gives a (wrong) result
                continue
    return variants


def _softmax_missing_keepdims(e: Evidence) -> bool:
    for o in e.failed("cases"):
        a = _first_arg(o)
        if a.ndim != 2:
            continue
        if "could not be broadcast" in error_text(o):
            return True
        if any(close(o.actual, v, rtol=1e-9) for v in _without_keepdims(a)):
            return True
    return False


def _changes_input(e: Evidence) -> bool:
    return bool(e.failed("cases.unchanged"))


RULES = [
    DiagnosisRule("step-function-returns-bool", ("step_function",),
                  "Your step function returns True/False: x > 0 gives an array of bools. The book converts "
                  "it to integers, np.array(x > 0, dtype=np.int64) or (x > 0).astype(np.int64), so that "
                  "h(x) is 0 or 1 (book 3.2.2).", _returns_bool),
    DiagnosisRule("step-function-scalar-only", ("step_function",),
                  "`if x > 0:` works for one number but not for a NumPy array, whose comparison gives an "
                  "array of True/False values. Compare the whole array at once (x > 0) and convert the "
                  "result to integers (book 3.2.2).", _if_on_array),
    DiagnosisRule("math-exp-on-array", ("sigmoid", "softmax"),
                  "math.exp takes one number, not an array: use np.exp, which works element-wise on "
                  "NumPy arrays (book 3.2.4).", _math_exp_on_array),
    DiagnosisRule("sigmoid-operator-precedence", ("sigmoid",),
                  "Your result is 1 + exp(-x): `1 / 1 + np.exp(-x)` divides before it adds. Put the "
                  "denominator in parentheses: 1 / (1 + np.exp(-x)) (book 3.2.4).", _sigmoid_precedence),
    DiagnosisRule("softmax-no-max-subtraction", ("softmax",),
                  "With scores around 1000, np.exp overflows to inf and inf / inf gives nan. Subtract the "
                  "largest score before np.exp (c = np.max(a); np.exp(a - c)): the result is the same and "
                  "np.exp never overflows (book 3.5.2).", _softmax_overflow),
    # The same English text as the built-in rule for TwoLayerNet, so the grader's catalogs
    # already translate it; the plugin's own catalogs (locale/) translate the others.
    DiagnosisRule("softmax-batch-as-whole", ("softmax",),
                  "The output sums to 1 over the whole batch instead of over each row: for a batch, softmax "
                  "normalises every sample (row) on its own, so take the max and the sum along the last axis "
                  "with keepdims=True (book 3.5).", _softmax_whole_batch),
    DiagnosisRule("softmax-missing-keepdims", ("softmax",),
                  "For a batch, np.max(a, axis=1) and np.sum(..., axis=1) drop the axis they reduce, so the "
                  "result does not line up with the rows of a (an error, or a silently wrong result when the "
                  "batch is square). Pass keepdims=True to both so every row uses its own max and sum.",
                  _softmax_missing_keepdims),
    DiagnosisRule("softmax-changes-input", ("softmax",),
                  "Your softmax changes the array it is given (for example with a -= np.max(a)), so the "
                  "caller's scores are changed too. Compute a new array instead: exp_a = np.exp(a - c).",
                  _changes_input),
]


# ---- hooks ----------------------------------------------------------------------------------

@hookimpl
def grader_exercise_dirs() -> list[Path]:
    return [EXERCISES]


@hookimpl
def grader_generators() -> dict:
    return {"ch3_points": ch3_points, "ch3_logits": ch3_logits}


@hookimpl
def grader_diagnoses() -> list[DiagnosisRule]:
    return RULES


@hookimpl
def grader_assignments() -> list[Path]:
    return [HERE / "assignments"]


@hookimpl
def grader_catalogs() -> list[Path]:
    return [HERE / "locale"]
