"""Loading every plugin's exercises (the ``grader_exercise_dirs`` hook), once per plugin manager.

Here rather than in session.py: the assignments (which exercises a grade counts) need the loaded
exercises, and grading needs the assignments; with loading in the spec package neither imports the other.
"""
from __future__ import annotations

import weakref
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import pluggy

from ..i18n import _
from ..loaders.base import SubmissionError
from ..plugins import merged
from .exercises import Exercise, load_exercise_dir
from .instructor_secret import current_secret


def load_exercises(pm: pluggy.PluginManager, only: Iterable[str] = ()) -> list[Exercise]:
    """Every plugin's exercises, in registration order; a later plugin's exercise replaces an
    earlier one with the same id. Each remembers the plugin it came from.

    Loaded once per plugin manager, secret and state of the spec files: a class is graded by a
    few long-lived processes, which then parse the specs and draw the random cases once, not once
    per student (and the same Exercise objects keep their expected values, see checking.cases).
    """
    folders = [(impl.plugin_name, Path(folder)) for impl in pm.hook.grader_exercise_dirs.get_hookimpls()
               for folder in impl.function() or ()]  # registration order: built-ins first
    key = (current_secret(), tuple((name, str(folder), _specs_state(folder)) for name, folder in folders))
    cached = _LOADED.get(pm)
    if cached is None or cached[0] != key:
        cached = _LOADED[pm] = (key, _load_exercises(pm, folders))
    exercises = list(cached[1])
    wanted = set(only)
    if wanted:
        unknown = wanted - {e.id for e in exercises}
        if unknown:
            raise SubmissionError(_("no exercise with id {ids}; known: {known}").format(
                ids=", ".join(sorted(unknown)), known=", ".join(e.id for e in exercises)))
        exercises = [e for e in exercises if e.id in wanted]
    return exercises


_LOADED: "weakref.WeakKeyDictionary[pluggy.PluginManager, tuple]" = weakref.WeakKeyDictionary()


def _specs_state(folder: Path) -> tuple:
    """What must be unchanged for loaded specs to stand: each spec file's name, size and time."""
    try:
        return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.toml")))
    except OSError:
        return ()


def _load_exercises(pm: pluggy.PluginManager, folders: list[tuple[str, Path]]) -> tuple[Exercise, ...]:
    generators = merged(pm.hook.grader_generators())
    by_id: dict[str, Exercise] = {}
    for plugin_name, folder in folders:
        for exercise in load_exercise_dir(folder, generators):
            by_id[exercise.id] = replace(exercise, plugin=plugin_name)
    exercises = []
    for exercise in by_id.values():
        extra = [spec for group in pm.hook.grader_exercise_checks(exercise=exercise) for spec in group or ()]
        exercises.append(replace(exercise, checks=exercise.checks + tuple(extra)) if extra else exercise)
    return tuple(exercises)
