"""Grades one submission: load it into a worker, run every exercise's checks, build the report."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import pluggy

from .checking.context import CheckContext
from .diagnoses.credit import settle
from .diagnoses.model import DiagnosisRule, Evidence, diagnose
from .i18n import N_, _, use
from .submission.definitions import Inventory, build_inventory, definition_source
from .specs.exercises import CheckSpec, Exercise
from .submission.handover import Handover, hand_over
from .submission.finding import Search, how_near, search, taken_names
from .loaders.base import Submission, SubmissionError
from .plugins import merged
from .report import CheckResult, Diagnosis, ExerciseResult, Report, SourceSnippet
from .submission.failed_imports import failed_imports
from .submission.book_code import NOT_CREDITED, apply_rule, book_code_lines, index_from, read_book_code
from .submission.helpers import with_helpers
from .submission.missing import missing_message
from .submission.not_run import statements
from .submission.unparsed import Unparsed, unparsed_cells, unparsed_definition
from .worker.client import WorkerClient, WorkerDied
from .specs.assignments import exercises_for

CASES_CHECK = CheckSpec("cases", "cases")
KIND_WORDS = (N_("function"), N_("class"))  # the two kinds of exercise, as named in messages


def grade(path: Path, pm: pluggy.PluginManager, worker: WorkerClient, only: Iterable[str] = (),
          lang: str = "en", exercises: Iterable[Exercise] | None = None, handed: Handover | None = None,
          book_rule: str = NOT_CREDITED, ceiling: Path | None = None) -> Report:
    """Grade ``path`` with messages in ``lang``; ``worker`` may already be started (the CLI starts it first).

    ``exercises``: what to grade (default: the ``chapter4`` assignment, or ``only`` those ids).
    ``handed``: ``path`` already handed over to ``worker`` (:func:`grader.handover.hand_over`, which the
    CLI calls before the rest of the grader is loaded); else it is handed over here, staging nothing
    above ``ceiling`` (grader/submission/repository.py).
    ``book_rule``: the assignment's rule for the book's own code in the submission ("not-credited",
    the default, or "credited"; grader/submission/book_code.py).
    """
    with use(lang):
        return _grade(path, pm, worker, only, lang, exercises, handed, book_rule, ceiling)


def _grade(path: Path, pm: pluggy.PluginManager, worker: WorkerClient, only: Iterable[str], lang: str,
           exercises: Iterable[Exercise] | None, handed: Handover | None, book_rule: str = NOT_CREDITED,
           ceiling: Path | None = None) -> Report:
    from .time_limit import grade_each

    worker.start()
    exercises = list(exercises) if exercises is not None else exercises_for(pm, None, only)
    if handed is None or handed.path != path:
        handed = hand_over(path, pm, worker, {p for exercise in exercises for p in exercise.protected_paths()},
                           ceiling)
    if handed.refused is not None:
        raise handed.refused
    submission, plans, roots = handed.submission, handed.plans, list(handed.roots)
    checks = merged(pm.hook.grader_checks())
    # A check may prepare (expected values) in the waits for the worker: its bites join the worker's idle work.
    for prepare in dict.fromkeys(getattr(c, "prepare", None) for c in checks.values()):
        if callable(prepare):
            worker.idle.extend(prepare(exercises))
    try:
        loaded = worker.finish_load()
    except WorkerDied as exc:
        raise SubmissionError(_("{name}: the submission could not be run at all ({reason})").format(
            name=path.name, reason=exc)) from None
    staging = handed.staging
    submission = with_helpers(submission, loaded["definitions"], roots, staging.files if staging else None,
                              staging.root if staging else None)
    inventory = build_inventory(submission, loaded["definitions"])
    # The names the student's own failed imports should have bound, for the diagnoses (kept on the
    # submission as identifiers() keeps its names: grading reads it, never changes it).
    object.__setattr__(submission, "_failed_imports", failed_imports(submission, loaded, staging))
    reading = read_book_code(submission, book_index(pm))
    inventory = apply_rule(inventory, reading, book_rule)
    rules = [rule for group in reversed(pm.hook.grader_diagnoses()) for rule in group or ()]
    taken = taken_names(exercises, inventory)
    broken = unparsed_cells(loaded, submission)
    results = grade_each(exercises, lambda ex: grade_exercise(ex, inventory, checks, worker, submission, rules,
                                                              taken, broken))
    results = add_dependency_notes(results, exercises, inventory)
    results = [_with_book_listing(r, inventory) for r in results]
    report = Report(str(path), tuple(results), statements(submission.skipped, loaded, submission, plans), lang=lang,
                    isolation=worker.isolation.level if worker.isolation else "",
                    book_code=book_code_lines(reading, inventory), book_rule=book_rule)
    failures = []
    # Each plugin on its own, newest first as pluggy calls them: one that raises (an LMS that is
    # down) costs its own work, not the report, which grade() still returns (PluginHookError).
    for impl in reversed(pm.hook.grader_report_ready.get_hookimpls()):
        try:
            impl.function(report=report)
        except Exception as exc:
            failures.append((impl.plugin_name, f"{type(exc).__name__}: {exc}"))
    if failures:
        raise PluginHookError(report, tuple(failures))
    return report


def book_index(pm: pluggy.PluginManager):
    """The fingerprints of the book's code: every index file the ``grader_book_code`` hook names."""
    paths = [Path(p) for group in reversed(pm.hook.grader_book_code()) for p in group or ()]
    return index_from(paths)


def _with_book_listing(result: ExerciseResult, inventory: Inventory) -> ExerciseResult:
    """Marks a result whose graded definition is the student's own typing of a book listing."""
    if result.graded_name and any(d.book_listing and d.label in result.graded_name for d in inventory.written):
        return replace(result, book_listing=True)
    return result


class PluginHookError(Exception):
    """A plugin's ``grader_report_ready`` raised; ``report`` is the finished report all the same."""

    def __init__(self, report: Report, failures: tuple[tuple[str, str], ...]) -> None:
        super().__init__("; ".join(f"{name}: {error}" for name, error in failures))
        self.report, self.failures = report, failures


def identifiers(submission: Submission) -> tuple[str, ...]:
    """Every name in the student's code (for "did you mean `loss_W`"), found once per submission."""
    cached = submission.__dict__.get("_identifiers")
    if cached is None:
        found = set()
        for cell in submission.cells + submission.helpers:
            found.update(IDENTIFIER.findall(cell.source))
        cached = tuple(sorted(found))
        object.__setattr__(submission, "_identifiers", cached)
    return cached


IDENTIFIER = re.compile(r"\b[^\W\d]\w*\b")


def grade_exercise(exercise: Exercise, inventory: Inventory, checks: dict, worker: WorkerClient,
                   submission: Submission, rules: Iterable[DiagnosisRule] = (),
                   taken: set[str] = frozenset(), broken: tuple[Unparsed, ...] = ()) -> ExerciseResult:
    candidates = inventory.candidates(exercise)
    title = _(exercise.title)
    # Near names (get_mse, numeric_gradient) are looked for when nothing has an accepted name,
    # and for functions also beside one: a broken leftover must not hide a working version.
    found = search(exercise, inventory, worker, taken) if not candidates or exercise.kind == "function" \
        else Search()
    candidates += [d for d in found.accepted if all(d.label != c.label for c in candidates)]
    if not candidates:
        unparsed = unparsed_definition(exercise, broken)
        if unparsed:
            return ExerciseResult(exercise.id, title, exercise.section, "failed", 0.0, exercise.points, "",
                                  message=unparsed)
        return ExerciseResult(exercise.id, title, exercise.section, "missing", 0.0, exercise.points, "",
                              message=missing_message(exercise, inventory, found))
    results, ctx = _run_checks(exercise, candidates, checks, worker, submission)
    alternatives = ""
    if exercise.kind == "class" and len(candidates) > 1 and not all(r.passed or r.skipped for r in results):
        # Several classes could be the exercise (TwoLayerNet and a leftover TwoLayerNet2): the one
        # that earns more is graded, and the report says so.
        best = (_earned(results), 0)
        for position, other in enumerate(candidates[1:MAX_CLASS_CANDIDATES], start=1):
            trial = _run_checks(exercise, [other] + [c for c in candidates if c is not other], checks, worker,
                                submission)
            if _earned(trial[0]) > best[0]:
                best = (_earned(trial[0]), position)
                results, ctx = trial
        if best[1]:
            chosen = candidates[best[1]]
            alternatives = _("Graded `{chosen}`: it earns more than `{other}`.").format(
                chosen=chosen.label, other=candidates[0].label)
            candidates = [chosen] + [c for c in candidates if c is not chosen]
    credited = []
    for r in results:
        if r.passed and not r.skipped and r.graded_by and r.graded_by not in credited:
            credited.append(r.graded_by)
    graded_name = ", ".join(credited) or candidates[0].label
    # The graded code goes with the evidence only when something failed (a rule may look for the cause in it).
    code = tuple(found[0] for d in candidates[:MAX_CLASS_CANDIDATES] if (found := definition_source(submission, d))) \
        if any(not o.passed for o in ctx.observations) else ()
    evidence = Evidence(exercise.id, tuple(ctx.observations), identifiers(submission), code,
                        imports=submission.__dict__.get("_failed_imports") or {})
    # "hard-coded" and "constant-result" are kept only when no rule names a cause (see diagnoses.credit).
    diagnoses = settle(diagnose(evidence, rules, _), evidence)
    if diagnoses:
        # A named mistake explains the failures better than each case's generic hint, which
        # would otherwise send the student after a different cause.
        results = [replace(r, hint="") if not r.passed else r for r in results]
    shown = [d for d in candidates if d.label in credited] or candidates[:1]
    sources = tuple(SourceSnippet(d.label, *snippet) for d in shown
                    if (snippet := definition_source(submission, d)) is not None)
    note = " ".join(n for n in (alternatives, _found_note(exercise, candidates, results, graded_name)) if n)
    result = replace(_summarise(exercise, tuple(results), graded_name), title=title, diagnoses=tuple(diagnoses),
                     sources=sources, message=note)
    if any(d.id == "hard-coded" for d in diagnoses) and result.score > 0:
        # Returning the book's printed numbers is not partly right: it earns nothing.
        result = replace(result, score=0.0, status="failed")
    return result


MAX_CLASS_CANDIDATES = 3


def _run_checks(exercise: Exercise, candidates: list, checks: dict, worker: WorkerClient,
                submission: Submission) -> tuple[list[CheckResult], CheckContext]:
    ctx = CheckContext(exercise, worker, candidates, exercise.load_reference(), submission)
    specs = ([CASES_CHECK] if exercise.cases else []) + list(exercise.checks)
    results: list[CheckResult] = []
    for spec in specs:
        check = checks.get(spec.check)
        if check is None:
            results.append(CheckResult(_(spec.name), False, _("the grader has no check named '{check}' (is the "
                                       "plugin that provides it installed?)").format(check=spec.check),
                                       outcome="grader-error"))
            continue
        produced = check(ctx, _translated(spec))
        results.extend(replace(r, hidden=True) for r in produced) if spec.hidden else results.extend(produced)
    return results, ctx


def _earned(results: list[CheckResult]) -> float:
    return sum(r.weight for r in results if r.passed and not r.skipped)


def _found_note(exercise: Exercise, candidates: list, results: list[CheckResult], graded_name: str) -> str:
    """Says which near-named definition was graded as this exercise, and why."""
    earned: dict[str, int] = {}
    for r in results:
        if r.passed and not r.skipped and r.graded_by:
            earned[r.graded_by] = earned.get(r.graded_by, 0) + 1
    notes = []
    shown = [d for d in candidates if d.found_as and (d.label in earned or
                                                     (not earned and d is candidates[0]))]
    for d in shown:
        if d.kind == "function":
            notes.append(_("Graded `{name}` as {exercise} ({why}; it reproduces the book's example).").format(
                name=d.name, exercise=exercise.names[0], why=d.found_as))
        else:
            notes.append(_("Graded `{name}` as {exercise} ({why}).").format(name=d.name, exercise=exercise.names[0],
                                                                           why=d.found_as))
    exact = [d for d in candidates if not d.found_as]
    for d in shown:
        for other in exact:
            if earned.get(d.label, 0) > earned.get(other.label, 0):
                notes.append(_("`{better}` earns more than `{other}` ({more} checks against {fewer}), so it "
                               "is the one graded where they differ.").format(
                    better=d.name, other=other.name, more=earned.get(d.label, 0), fewer=earned.get(other.label, 0)))
    return " ".join(notes)


def _translated(spec: CheckSpec) -> CheckSpec:
    """A named check's title and hint in the student's language (the check sees them translated)."""
    params = dict(spec.params)
    if params.get("hint"):
        params["hint"] = _(params["hint"])
    return replace(spec, name=_(spec.name), params=params)


def _summarise(exercise: Exercise, checks: tuple[CheckResult, ...], graded_name: str) -> ExerciseResult:
    counted = [c for c in checks if not c.skipped]
    total = sum(c.weight for c in counted) or 1.0
    earned = sum(c.weight for c in counted if c.passed)
    score = round(exercise.points * earned / total, 2)
    failed = [c for c in counted if not c.passed]
    if not failed:
        status = "passed"
    elif earned > 0:
        status = "partial"
    elif any(c.outcome == "timeout" for c in failed):
        status = "timeout"
    elif all(c.outcome in ("error", "crash", "skipped-after-failure") for c in failed):
        status = "error"
    else:
        status = "failed"
    return ExerciseResult(exercise.id, exercise.title, exercise.section, status, score, exercise.points,
                          graded_name, checks)


def add_dependency_notes(results: list[ExerciseResult], exercises: list[Exercise],
                         inventory: Inventory | None = None) -> list[ExerciseResult]:
    """An exercise that fails while one it calls fails too: point the student at the root cause.

    Only when the graded code really calls the student's failing function (its code refers to
    that very definition), and no diagnosis already names a cause of its own.
    """
    by_id = {r.id: r for r in results}
    by_exercise = {e.id: e for e in exercises}
    out = []
    for result, exercise in zip(results, exercises):
        broken = [d for d in exercise.depends_on
                  if d in by_id and by_id[d].status not in ("passed", "missing")]
        # The definitions it really calls (named by their place: the version the code reaches), or
        # without an inventory the exercises themselves.
        called = [label for d in broken for label in _calls(inventory, result, by_exercise.get(d), by_id[d])] \
            if inventory is not None else broken
        if result.status not in ("passed", "missing") and called and not result.diagnoses:
            note = Diagnosis("depends-on-failing", _(
                "{exercise} calls your {dependency}, which fails its own checks: fix {dependency} first, "
                "then grade again.").format(exercise=exercise.id, dependency=_(" and ").join(called)))
            result = replace(result, diagnoses=result.diagnoses + (note,))
        out.append(result)
    return out


def _calls(inventory: Inventory, caller: ExerciseResult, callee: Exercise | None,
           graded: ExerciseResult | None = None) -> list[str]:
    """The labels of the student's definitions of ``callee`` that the graded definition of ``caller``
    calls and that were graded as ``callee`` (``graded``, its result): a case fails only when every
    definition graded for it fails it, so each of them fails its own checks. A name the code shares
    with them (another version, a near name never graded) is not one of them."""
    if callee is None:
        return []
    callers = [d for d in inventory.written if d.label in caller.graded_name]
    uses = {use for d in callers for use in d.uses}
    tried = {c.graded_by for c in graded.checks} | {graded.graded_name} if graded is not None else set()
    tried |= {d.label for d in inventory.candidates(callee)}
    return [d.label for d in inventory.written if (d.name, d.version) in uses and d.label in tried
            and (callee.matches(d.name) or how_near(callee, d.name))]
