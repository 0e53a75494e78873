"""The teacher's rules of a ``grade class`` run, read from its options and checked before anyone is graded:
the due date and late policy (``--assignment-file``, ``--due``, ``--late-policy``), the hand-in times
(``--times``, ``--times-from-mtime``) and the overrides (``--overrides``, or the ones kept in OUTDIR)."""
from __future__ import annotations

import argparse
from typing import Iterable

from ..specs.late_policy import PolicyError, parse_due, policy_from_option
from .adjusting import ClassRules
from .late import read_times_file
from .outcome import UsageError
from .overrides import check_overrides, keep, read_overrides
from .roster import Roster


def check_early(args: argparse.Namespace, roster: Roster) -> None:
    """The rules' options that can be wrong, checked before OUTDIR or its secret is made: a mistyped
    date, policy or exercise id costs the teacher one line, not a folder to clean up."""
    _dates(args)
    _assignment_exercises(args)
    _times(args, roster)
    source = getattr(args, "overrides", None)
    if source is not None and not source.is_file():
        raise UsageError(f"--overrides {source}: no such file")


def class_assignment(args: argparse.Namespace):
    """The ``--assignment-file`` (its exercises, points, book-code rule, due date and late policy), or None."""
    assignment_file = getattr(args, "assignment_file", None)
    if assignment_file is None:
        return None
    from ..specs.assignments import load_assignment
    from ..specs.exercises import SpecError

    if not assignment_file.is_file():
        raise UsageError(f"--assignment-file {assignment_file}: no such file")
    try:
        return load_assignment(assignment_file)
    except SpecError as exc:
        raise UsageError(str(exc)) from None


def _assignment_exercises(args: argparse.Namespace) -> None:
    """Every exercise the assignment file counts is one the plugins provide (the run would stop later)."""
    assignment = class_assignment(args)
    if assignment is None:
        return
    from ..loaders.base import SubmissionError
    from ..plugins import PluginError, make_manager
    from ..specs.assignments import select
    from ..specs.exercises import SpecError
    from ..specs.loading import load_exercises

    try:
        pm = make_manager(extra=getattr(args, "plugin", []), exercise_dirs=getattr(args, "exercises", []))
        select(assignment, load_exercises(pm), getattr(args, "only", ()))
    except (PluginError, SpecError, SubmissionError) as exc:
        raise UsageError(str(exc)) from None


def _dates(args: argparse.Namespace) -> tuple:
    due, policy = None, None
    assignment = class_assignment(args)
    if assignment is not None:
        due, policy = assignment.due, assignment.late_policy
    try:
        if getattr(args, "due", None):
            due = parse_due(args.due, "--due")
        if getattr(args, "late_policy", None):
            policy = policy_from_option(args.late_policy, due)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    if policy is not None and due is None:
        raise UsageError("--late-policy needs a due date: --due 2026-10-05T23:59+09:00 (or due = ... in the "
                         "assignment file)")
    return due, policy


def _times(args: argparse.Namespace, roster: Roster) -> dict:
    times = read_times_file(args.times) if getattr(args, "times", None) else {}
    unknown = sorted(set(times) - {s.id for s in roster.students})
    if unknown:
        raise UsageError(f"--times {args.times}: no student {', '.join(unknown)} in this class (see --list)")
    return times


def class_rules(args: argparse.Namespace, roster: Roster, exercises: Iterable) -> ClassRules:
    due, policy = _dates(args)
    times = _times(args, roster)
    source = getattr(args, "overrides", None)
    if source is not None and not source.is_file():
        raise UsageError(f"--overrides {source}: no such file")
    # Checked before it is kept: a malformed file never replaces the overrides of earlier runs.
    path = source if source is not None else keep(None, args.output)
    overrides = ()
    if path is not None:
        overrides = read_overrides(path)
        check_overrides(overrides, {s.id for s in roster.students}, {e.id: e.points for e in exercises}, path)
    keep(source, args.output)
    return ClassRules(due, policy, tuple(sorted(times.items())), bool(getattr(args, "times_from_mtime", False)),
                      overrides)
