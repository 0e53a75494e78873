"""The ``cases`` check: call the student's function on each case and compare with the reference.

A student may have several candidates for one exercise (``CEE`` for one-hot labels
and ``CEE2`` for integer labels, or three successive versions of
``cross_entropy_error``); each case is credited to the first candidate that gets it
right, and the report says which one did. A candidate with a switch the book does not have
(``one_hot_label=True``) is also called as the student's code calls it (see .keywords).

Credit goes only to what was computed: a candidate that gives one answer whatever the input
(``return np.zeros_like(init_x)``) earns nothing for the cases that answer happens to fit.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .comparisons import as_numeric, compare, unchanged
from .context import CheckContext, call_text, materialize, right_value, wrong_value
from .display import to_jsonable, value_text
from .keywords import keyword_settings
from .reproduce import snippet
from ..specs.instructor_secret import current_secret
from ..submission.definitions import arrange
from ..specs.exercises import Case, CheckSpec, Exercise
from ..diagnoses.model import Observation
from ..hookspecs import hookimpl
from ..i18n import _
from ..report import CheckResult
from ..worker.client import Reply, call_op


def _first_if_tuple(value: Any) -> Any:
    """``gradient_descent`` may return ``x`` or the common ``(x, x_history)``."""
    if isinstance(value, (tuple, list)) and value and not isinstance(value[0], (int, float)):
        return value[0]
    return value


def reference_names(reference: Any) -> tuple[str, ...]:
    """The reference function's parameter names, the book's (``f, init_x, lr, step_num``)."""
    import inspect
    try:
        return tuple(inspect.signature(reference).parameters)
    except (TypeError, ValueError):
        return ()


@dataclass
class _Answer:
    """What one candidate (called one way) returned on one case, and what it was credited."""

    group: tuple[str, str]  # (candidate label, the extra keywords it was called with, as text)
    expected: Any
    actual: Any
    observation: Observation | None = None  # the one recorded for this call, if any
    result: CheckResult | None = None  # the value check it passed
    companion: CheckResult | None = None  # and that check's "input left unchanged"


def run_cases(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]:
    results: list[CheckResult] = []
    given_up: dict[str, str] = {}  # candidate label -> why later cases do not call it again
    answered = _first_candidate_replies(ctx)
    answers: list[_Answer] = []
    for index, case in enumerate(ctx.exercise.cases):
        results.extend(_run_case(ctx, case, index, given_up, answered, answers))
    return _take_back_constants(ctx, results, answers)


# Answers needed before a candidate's sameness says anything: called plainly on every case, three
# (two cases of a kind can share an answer); called with a switch, the two cases it was tried on.
CONSTANT_AFTER = {False: 3, True: 2}


def _same_answer(a: Any, b: Any) -> bool:
    """Exactly the same numbers, or zeros both (of whatever shape: ``np.zeros_like(x)``)."""
    x, y = as_numeric(a), as_numeric(b)
    if x is None or y is None:
        return False
    if x.size and y.size and not np.any(x) and not np.any(y):
        return True
    return x.shape == y.shape and bool(np.array_equal(x, y, equal_nan=True))


def _agree(a: Any, b: Any) -> bool:
    """Two right answers that are the same (then one answer for both computes nothing wrong)."""
    x, y = as_numeric(a), as_numeric(b)
    return x is not None and y is not None and x.shape == y.shape and bool(
        np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))


def _take_back_constants(ctx: CheckContext, results: list[CheckResult], answers: list[_Answer]) -> list[CheckResult]:
    """A candidate whose answers are all the same while the right answers differ computes nothing
    from its inputs: the cases it matched are taken back, and its evidence says so (``constant``)."""
    groups: dict[tuple[str, str], list[_Answer]] = {}
    for answer in answers:
        groups.setdefault(answer.group, []).append(answer)
    swaps: dict[int, CheckResult] = {}
    for (label, keywords), items in groups.items():
        if len(items) < CONSTANT_AFTER[bool(keywords)] or \
                not all(_same_answer(item.actual, items[0].actual) for item in items) or \
                all(_agree(item.expected, items[0].expected) for item in items):
            continue
        for item in items:
            if item.observation is not None:  # the evidence: failed, and why
                seen, count = item.observation, len(items)
                ctx.observations[:] = [replace(o, passed=False, outcome="wrong", extra={**o.extra, "constant": count})
                                       if o is seen else o for o in ctx.observations]
            if item.result is not None:
                message = _("{call} returned {actual}, the same as for every other input: it matches the expected "
                            "{expected} here by chance, so it is not credited.").format(
                    call=item.result.call, actual=value_text(item.actual), expected=value_text(item.expected))
                swaps[id(item.result)] = replace(item.result, passed=False, message=message, outcome="wrong")
            if item.companion is not None and item.companion.passed:
                swaps[id(item.companion)] = replace(item.companion, passed=False, outcome="wrong", message=_(
                    "not credited: {call} left its input as it was, but leaving the input alone counts only when "
                    "the value is right.").format(call=item.companion.call))
    return [swaps.get(id(r), r) for r in results] if swaps else results


def _call_arguments(ctx: CheckContext, candidate, case: Case) -> tuple[tuple, dict]:
    # Arguments the unchanged check reads back stay positional (the worker returns those).
    return arrange(candidate, reference_names(ctx.reference), case.args,
                   max(case.unchanged) + 1 if case.unchanged else 0)


def _first_candidate_replies(ctx: CheckContext) -> dict[int, Reply]:
    """The first candidate's reply to every case, from one stream of calls (one round trip, not
    one per case: the worker computes while the grader judges). Each call is the one the case
    would send, with its seed; a call that hangs or crashes ends the stream, and the cases after
    it call as before (the candidate is given up there, so only other candidates are called)."""
    if not ctx.candidates or len(ctx.exercise.cases) < 2:
        return {}
    candidate = ctx.candidates[0]
    ops = []
    for index, case in enumerate(ctx.exercise.cases):
        args, kwargs = _call_arguments(ctx, candidate, case)
        ops.append(call_op(candidate.target, args, kwargs=kwargs, seed=case.seed if case.seed is not None else index,
                           return_args=bool(case.unchanged)))
    return dict(enumerate(ctx.worker.stream(ops)))


def _expected(exercise: Exercise, reference: Any, case: Case, index: int) -> Any:
    """The reference's value on the case: computed ahead by :func:`prepare_expected`, else now."""
    ahead = _AHEAD.get((id(exercise), index))
    if ahead is not None and ahead[0] is exercise:
        return ahead[1]
    expected = reference(*materialize(case.args))  # on copies: the case's own inputs are never touched
    return _first_if_tuple(expected) if exercise.unpack_tuple else expected


# Expected values computed ahead: (id of the Exercise, case index) -> (that Exercise, value). The entry
# keeps its Exercise alive, so the id cannot be reused by another while the entry exists.
_AHEAD: dict[tuple[int, int], tuple[Exercise, Any]] = {}
# Whose references are known to be pure functions of their (copied) inputs: only they may run ahead
# of their turn (see prepare_expected).
PURE_REFERENCE_PLUGINS = {"grader.specs.builtin_exercises"}


def prepare_expected(exercises: list[Exercise]) -> list:
    """The cases' expected values as bites of work for the waits for the worker (one case each):
    the references (a gradient descent of a hundred numerical gradients) then cost no time of
    the grading's own. Only pure references run out of their turn: one that drew from NumPy's
    global random state would make the report depend on when the waits came."""
    current = {id(e) for e in exercises}
    for key, (exercise, _value) in list(_AHEAD.items()):  # values of exercises no longer graded go
        if id(exercise) not in current:
            _AHEAD.pop(key, None)
    bites = []
    for exercise in exercises:
        if exercise.cases and exercise.plugin in PURE_REFERENCE_PLUGINS:
            bites += [lambda exercise=exercise, index=index: _compute_ahead(exercise, index)
                      for index in range(len(exercise.cases))]
    return bites


def _compute_ahead(exercise: Exercise, index: int) -> None:
    key = (id(exercise), index)
    if key not in _AHEAD:
        _AHEAD[key] = (exercise, _expected(exercise, exercise.load_reference(), exercise.cases[index], index))


run_cases.prepare = prepare_expected


def case_title(case: Case) -> str:
    title = _(case.name)
    return _("{name} (seed {seed})").format(name=title, seed=case.seed) if case.seed is not None else title


def _run_case(ctx: CheckContext, case: Case, index: int, given_up: dict[str, str],
              answered: dict[int, Reply], answers: list[_Answer]) -> list[CheckResult]:
    expected = _expected(ctx.exercise, ctx.reference, case, index)
    title, hint, book = case_title(case), _(case.hint or ctx.exercise.hint), case.book_value is not None
    before = len(answers)
    results = _run_case_calls(ctx, case, index, given_up, expected, title, hint, book, answered.get(index), answers)
    # Under an instructor's secret a seeded case's inputs and answer are the secret's: shown, they
    # could be copied into the next submission (a Gradescope resubmission sees the same seeds).
    if not case.hidden and not (case.seed is not None and current_secret()):
        return results
    hidden = {id(r): replace(r, hidden=True) for r in results}
    for answer in answers[before:]:  # the answers keep pointing at the results reported
        answer.result = hidden.get(id(answer.result), answer.result)
        answer.companion = hidden.get(id(answer.companion), answer.companion)
    return [hidden[id(r)] for r in results]


def _run_case_calls(ctx: CheckContext, case: Case, index: int, given_up: dict[str, str], expected: Any,
                    title: str, hint: str, book: bool, answered: Reply | None = None,
                    answers: list[_Answer] | None = None) -> list[CheckResult]:
    """The case's value check, and its "input left unchanged" check when the spec asks for one.

    Every case costs the same checks whatever happens: a call that raises, times out or
    returns a wrong value loses the value check *and* its unchanged check. Leaving an input
    alone is only worth something in a function that computes the right value: a stub that
    returns zeros leaves its input alone too (issue 12: such stubs earned 6/15).
    """
    first_failure: CheckResult | None = None
    companion: CheckResult | None = None  # the unchanged check that goes with first_failure
    first_seen: Observation | None = None
    seed = case.seed if case.seed is not None else index
    answers = answers if answers is not None else []
    facts = {"seeded": True} if case.seed is not None else {}
    # The grader's own copy of the inputs, taken before anything is sent: whether an input was
    # changed is judged against this, never against a value the worker reports as the input.
    pristine = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in case.args)
    for position, candidate in enumerate(ctx.candidates):
        args, kwargs = _call_arguments(ctx, candidate, case)
        call = call_text(candidate.name, args, kwargs=kwargs)
        if candidate.label in given_up:
            failure = CheckResult(title, False, _("{call} was not run: {why}").format(call=call, why=given_up[candidate.label]),
                                  to_jsonable(expected), None, call, hint, candidate.label,
                                  outcome="skipped-after-failure", weight=case.weight)
            first_failure = first_failure or failure
            continue
        reply = answered if position == 0 and answered is not None else \
            ctx.worker.call(candidate.target, args, kwargs, seed=seed, return_args=bool(case.unchanged))
        actual = _value(ctx, reply) if reply.ok else None
        verdict = compare(expected, actual, case.rtol, case.atol) if reply.ok else None
        if reply.status == "error" or (verdict is not None and not verdict.ok):
            switched = _with_switches(ctx, candidate, case, args, kwargs, seed, expected, title, pristine, answers,
                                      facts, book)
            if switched:
                return switched
        if not reply.ok:
            message, outcome = ctx.failure_text(call, reply)
            if outcome in ("timeout", "crash"):
                why = _("{name} timed out on an earlier case.") if outcome == "timeout" \
                    else _("{name} crashed on an earlier case.")
                given_up[candidate.label] = why.format(name=candidate.name)
            failure = CheckResult(title, False, message, to_jsonable(expected), None, call, hint, candidate.label,
                                  outcome=outcome, weight=case.weight)
            first_failure = first_failure or failure
            first_seen = first_seen or Observation("cases", case.args, expected, None, False, outcome, reply.error,
                                                   book, facts)
            continue
        if verdict.ok:
            seen = Observation("cases", case.args, expected, actual, True, book=book, extra=facts)
            ctx.observe(seen)
            passed = right_value(title, call, expected, actual, graded_by=candidate.label, weight=case.weight)
            kept = _unchanged_check(ctx, case, pristine, title, call, reply, candidate.label) \
                if case.unchanged else None
            answers.append(_Answer((candidate.label, ""), expected, actual, seen, passed, kept))
            return [passed] + ([kept] if kept else [])
        answer = _Answer((candidate.label, ""), expected, actual)
        answers.append(answer)
        if first_failure is None:
            first_failure = wrong_value(title, call, expected, actual, verdict.problem, hint=hint,
                                        graded_by=candidate.label, weight=case.weight, book_value=case.book_value)
            first_seen = answer.observation = Observation("cases", case.args, expected, actual, False, "wrong", None,
                                                          book, facts)
            if case.unchanged:
                companion = _unchanged_check(ctx, case, pristine, title, call, reply, candidate.label,
                                             value_right=False)
    if first_seen is not None:
        ctx.observe(first_seen)
    if first_failure.outcome in ("wrong", "error"):
        first_failure = _with_snippet(ctx, case, title, expected, first_failure)
    results = [first_failure]
    if case.unchanged:
        # No call returned the right value: the unchanged check is lost with it, at the same
        # weight and with the same outcome, so a call that raises costs what a wrong value costs.
        results.append(companion or CheckResult(
            _unchanged_title(title), False, _("not checked: the call did not return a value"), None, None,
            first_failure.call, "", first_failure.graded_by, weight=case.weight, outcome=first_failure.outcome))
    return results


def _with_snippet(ctx: CheckContext, case: Case, title: str, expected: Any, failure: CheckResult) -> CheckResult:
    """``failure`` with the code that rebuilds its call (the first candidate's, as graded)."""
    candidate = ctx.candidates[0]
    args, kwargs = _call_arguments(ctx, candidate, case)
    code = snippet(ctx.exercise.id, title, candidate.name, args, kwargs, reference_names(ctx.reference), expected)
    return replace(failure, reproduce=code) if code else failure


def _value(ctx: CheckContext, reply: Reply) -> Any:
    return _first_if_tuple(reply.value) if ctx.exercise.unpack_tuple else reply.value


def _with_switches(ctx: CheckContext, candidate, case: Case, args: tuple, kwargs: dict, seed: int, expected: Any,
                   title: str, pristine: tuple, answers: list[_Answer], facts: dict, book: bool) -> list[CheckResult]:
    """The case's checks passed by calling ``candidate`` with a setting of a parameter the book does not
    have (``one_hot_label=False``), as the student's code calls it or with its other True/False value;
    [] when no setting gives the right value. Found once per candidate, and only for a case its
    plain call got wrong: a correct submission never pays for it."""
    cache = ctx.memo.setdefault("keyword_settings", {})
    if candidate.label not in cache:
        cache[candidate.label] = keyword_settings(ctx.submission, candidate, len(reference_names(ctx.reference)))
    for keywords, seen_in_code in cache[candidate.label]:
        settings = {**kwargs, **keywords}
        call = call_text(candidate.name, args, kwargs=settings)
        reply = ctx.worker.call(candidate.target, args, settings, seed=seed, return_args=bool(case.unchanged))
        if not reply.ok:
            continue
        actual = _value(ctx, reply)
        group = (candidate.label, ", ".join(f"{k}={v!r}" for k, v in keywords.items()))
        if not compare(expected, actual, case.rtol, case.atol).ok:
            answers.append(_Answer(group, expected, actual))
            continue
        seen = Observation("cases", case.args, expected, actual, True, book=book, extra={**facts, "keywords": keywords})
        ctx.observe(seen)
        why = _("It was called with {keywords}, as your own code calls it.") if seen_in_code else \
            _("It was called with {keywords}, the other value of that parameter: with its default it gives "
              "another answer.")
        passed = right_value(title, call, expected, actual, graded_by=candidate.label, weight=case.weight)
        passed = replace(passed, message=f"{passed.message} {why.format(keywords=group[1])}")
        kept = _unchanged_check(ctx, case, pristine, title, call, reply, candidate.label) if case.unchanged else None
        answers.append(_Answer(group, expected, actual, seen, passed, kept))
        return [passed] + ([kept] if kept else [])
    return []


def _unchanged_title(title: str) -> str:
    return _("{name}: input left unchanged").format(name=title)


def _changed_argument(ctx: CheckContext, case: Case, pristine: tuple, reply: Reply) -> tuple[int, Any, str] | None:
    """(position, what came back, problem) for the first input the call changed, else None.

    ``pristine`` is the grader's own copy. What the worker reports as the argument after the
    call is the only evidence of a change there is (the call ran in the worker), and a lying
    worker can report an untouched copy. That lie is worth nothing: the unchanged check is
    credited only beside a right value (see :func:`_unchanged_check`'s callers), and a
    function able to return the right value can equally compute it on ``x.copy()`` and leave
    its input alone honestly. A report that is not the arguments sent (another count, another
    kind, another shape) counts as a changed input.
    """
    reported = reply.args if isinstance(reply.args, tuple) else ()
    for position in case.unchanged:
        before = pristine[position]
        after = reported[position] if position < len(reported) else None
        verdict = unchanged(before, after)
        ctx.observe(Observation("cases.unchanged", case.args, before, after, verdict.ok))
        if not verdict.ok:
            return position, after, verdict.problem
    return None


def _unchanged_check(ctx: CheckContext, case: Case, pristine: tuple, title: str, call: str, reply: Reply,
                     graded_by: str, value_right: bool = True) -> CheckResult:
    """The unchanged check of a call that returned. Credited only when its value was right;
    beside a wrong value it still says when the input was changed, often why the value is wrong."""
    changed = _changed_argument(ctx, case, pristine, reply)
    if changed is not None:
        position, after, problem = changed
        message = _("after {call}, argument {position} was not what was passed in: {problem}. "
                    "The function must leave its inputs as it found them.")
        return CheckResult(_unchanged_title(title), False, message.format(call=call, position=position + 1,
                                                                          problem=problem),
                           to_jsonable(pristine[position]), to_jsonable(after), call, "", graded_by, outcome="wrong",
                           weight=case.weight)
    if not value_right:
        return CheckResult(_unchanged_title(title), False,
                           _("not credited: {call} left its input as it was, but leaving the input alone counts "
                             "only when the value is right.").format(call=call),
                           None, None, call, "", graded_by, outcome="wrong", weight=case.weight)
    return CheckResult(_unchanged_title(title), True, _("{call} left its input as it was.").format(call=call), None,
                       None, call, "", graded_by, weight=case.weight)


@hookimpl
def grader_checks() -> dict:
    return {"cases": run_cases}
