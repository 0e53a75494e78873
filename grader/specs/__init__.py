"""The spec model: exercises, assignments (points, due date, late policy, book-code rule) and the
instructor's secret, read from data files (DESIGN.md principle 2).

A plugin that adds checks to an exercise (the ``grader_exercise_checks`` hook) builds them with
``from grader.specs import CheckSpec``. The names load on first use: the submission's hand-over
imports :mod:`grader.specs.files` before NumPy, which the model needs, is loaded.
"""
from __future__ import annotations

__all__ = ["Assignment", "Case", "CheckSpec", "Exercise", "SpecError"]

_HOMES = {"Case": "exercises", "CheckSpec": "exercises", "Exercise": "exercises", "SpecError": "exercises",
          "Assignment": "assignments"}


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(name)
