"""The ``cases`` check: call the student's function on each case and compare with the reference.

A student may have several candidates for one exercise (``CEE`` for one-hot labels
and ``CEE2`` for integer labels, or three successive versions of
``cross_entropy_error``); each case is credited to the first candidate that gets it
right, and the report says which one did.
"""
from __future__ import annotations

from typing import Any

from .checks import compare, unchanged
from .context import CheckContext, call_text, materialize, right_value, wrong_value
from .display import to_jsonable
from .exercises import Case, CheckSpec
from .hookspecs import hookimpl
from .report import CheckResult
from .worker.client import Reply


def _first_if_tuple(value: Any) -> Any:
    """``gradient_descent`` may return ``x`` or the common ``(x, x_history)``."""
    if isinstance(value, (tuple, list)) and value and not isinstance(value[0], (int, float)):
        return value[0]
    return value


def run_cases(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    results: list[CheckResult] = []
    given_up: dict[str, str] = {}  # candidate label -> why later cases do not call it again
    for index, case in enumerate(ctx.exercise.cases):
        results.extend(_run_case(ctx, case, index, given_up))
    return results


def _run_case(ctx: CheckContext, case: Case, index: int, given_up: dict[str, str]) -> list[CheckResult]:
    expected = ctx.reference(*materialize(case.args))
    if ctx.exercise.unpack_tuple:
        expected = _first_if_tuple(expected)
    first_failure: CheckResult | None = None
    unchanged_result: CheckResult | None = None
    seed = case.seed if case.seed is not None else index
    for candidate in ctx.candidates:
        call = call_text(candidate.name, case.args)
        if candidate.label in given_up:
            failure = CheckResult(case.name, False, f"{call} was not run: {given_up[candidate.label]}", to_jsonable(expected),
                                  None, call, case.hint, candidate.label, outcome="skipped-after-failure",
                                  weight=case.weight)
            first_failure = first_failure or failure
            continue
        reply = ctx.worker.call(candidate.target, case.args, seed=seed, return_args=bool(case.unchanged))
        if not reply.ok:
            message, outcome = ctx.failure_text(call, reply)
            if outcome in ("timeout", "crash"):
                given_up[candidate.label] = f"{candidate.name} {'timed out' if outcome == 'timeout' else 'crashed'} on an earlier case."
            failure = CheckResult(case.name, False, message, to_jsonable(expected), None, call, case.hint,
                                  candidate.label, outcome=outcome, weight=case.weight)
            first_failure = first_failure or failure
            continue
        actual = _first_if_tuple(reply.value) if ctx.exercise.unpack_tuple else reply.value
        verdict = compare(expected, actual, case.rtol, case.atol)
        this_unchanged = _unchanged_check(case, call, reply, candidate.label) if case.unchanged else None
        unchanged_result = unchanged_result or this_unchanged
        if verdict.ok:
            passed = right_value(case.name, call, expected, actual, graded_by=candidate.label, weight=case.weight)
            return [passed, this_unchanged] if this_unchanged else [passed]
        first_failure = first_failure or wrong_value(case.name, call, expected, actual, verdict.problem,
                                                     hint=case.hint or ctx.exercise.hint, graded_by=candidate.label,
                                                     weight=case.weight, book_value=case.book_value)
    results = [first_failure]
    if case.unchanged:
        # A call that did not return is already counted as a failure: do not count it twice.
        results.append(unchanged_result or CheckResult(
            f"{case.name}: input left unchanged", False, "not checked: the call did not return a value", None,
            None, first_failure.call, skipped=True, weight=case.weight, outcome="not-run"))
    return results


def _unchanged_check(case: Case, call: str, reply: Reply, graded_by: str) -> CheckResult:
    for position in case.unchanged:
        before = case.args[position]
        after = reply.args[position] if reply.args and position < len(reply.args) else None
        verdict = unchanged(before, after)
        if not verdict.ok:
            return CheckResult(f"{case.name}: input left unchanged", False,
                               f"after {call}, argument {position + 1} was not what was passed in: {verdict.problem}. "
                               "Put every element back (x[idx] = tmp_val) after computing f(x+h) and f(x-h).",
                               to_jsonable(before), to_jsonable(after), call, "", graded_by, outcome="wrong",
                               weight=case.weight)
    return CheckResult(f"{case.name}: input left unchanged", True, f"{call} left its input as it was.", None, None,
                       call, "", graded_by, weight=case.weight)


@hookimpl
def grader_checks() -> dict:
    return {"cases": run_cases}
