"""Assignments: which exercises a grade counts, and what each is worth (DESIGN.md principle 2).

An assignment is data, a TOML file::

    id = "my_course_week4"
    title = "Week 4: loss functions and gradients"

    book_code = "not-credited"  # the book's own code in a submission: "not-credited" (default) or "credited"

    [points]                  # exercise id = points, in the order the report lists them
    sum_squares_error = 20
    cross_entropy_error = 30
    softmax = 50              # an exercise a plugin provides

``chapter4`` (the seven built-in exercises, 100 points) is the default. Plugins add
assignments through the ``grader_assignments`` hook; an instructor names a file with
``--assignment my_course.toml``. Installing a plugin never changes what an assignment
counts: its exercises are graded only in an assignment that names them (or with ``--only``).

``book_code``: whether the book's own code found in a submission (a copied ``common/``, the book's
``two_layer_net.py``; known by fingerprint, grader/submission/book_code.py) is graded as the
student's work. By default it is not; a course that asks students to type the book's code itself
says ``"credited"``. Every report says which rule it applied.

``due`` and ``[late_policy]``: when the work is due and what lateness costs (grader/specs/late_policy.py);
``grade class`` applies them (grader/classroom/late.py).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import datetime
import importlib
from pathlib import Path
from typing import Iterable

import pluggy

from .exercises import Exercise, SpecError
from .loading import load_exercises
from ..hookspecs import hookimpl
from ..i18n import _
from ..loaders.base import SubmissionError
from .late_policy import LatePolicy, PolicyError, parse_due, policy_from_table

DEFAULT = "chapter4"
_FIELDS = {"id", "title", "points", "book_code", "due", "late_policy"}
BOOK_RULES = ("not-credited", "credited")


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    points: tuple[tuple[str, float], ...]  # (exercise id, points) in report order
    source: str = ""  # the TOML file
    plugin: str = ""  # who provided it
    book_code: str = "not-credited"  # the rule for the book's own code: "not-credited" or "credited"
    due: datetime | None = None  # when the work is due (with its time zone)
    late_policy: LatePolicy | None = None  # what lateness costs; None: nothing

    @property
    def total(self) -> float:
        return sum(points for _id, points in self.points)


def load_assignment(path: Path) -> Assignment:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{where}: {exc}") from None
    extra = sorted(set(data) - _FIELDS)
    if extra:
        raise SpecError(f"{where}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(_FIELDS))}")
    ident, title, points = data.get("id", path.stem), data.get("title", ""), data.get("points")
    if not isinstance(ident, str) or not ident or not isinstance(title, str):
        raise SpecError(f"{where}: id and title must be strings")
    if not isinstance(points, dict) or not points:
        raise SpecError(f"{where}: [points] must list at least one exercise id = points")
    for key, value in points.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise SpecError(f"{where}: points.{key}: expected a number of points >= 0, got {value!r}")
    book_code = data.get("book_code", BOOK_RULES[0])
    if book_code not in BOOK_RULES:
        raise SpecError(f"{where}: book_code: expected one of {', '.join(map(repr, BOOK_RULES))}, got {book_code!r}")
    try:
        due = parse_due(data["due"], f"{where}: due") if "due" in data else None
        table = data.get("late_policy")
        if table is not None and not isinstance(table, dict):
            raise PolicyError(f"{where}: late_policy must be a table ([late_policy])")
        policy = policy_from_table(table, due, f"{where}: late_policy") if table is not None else None
    except PolicyError as exc:
        raise SpecError(str(exc)) from None
    return Assignment(ident, title, tuple((k, float(v)) for k, v in points.items()), where, book_code=book_code,
                      due=due, late_policy=policy)


def installed(pm: pluggy.PluginManager) -> dict[str, Assignment]:
    """Every plugin's assignments by id; a later plugin's replaces an earlier one of the same id."""
    found: dict[str, Assignment] = {}
    for impl in pm.hook.grader_assignments.get_hookimpls():  # registration order: built-ins first
        for entry in impl.function() or ():
            entry = Path(entry)
            for path in sorted(entry.glob("*.toml")) if entry.is_dir() else [entry]:
                assignment = load_assignment(path)
                found[assignment.id] = replace(assignment, plugin=impl.plugin_name)
    return found


def resolve(pm: pluggy.PluginManager, name: str | None) -> Assignment:
    """``--assignment NAME`` (an installed assignment's id) or ``--assignment FILE.toml``."""
    name = name or DEFAULT
    known = installed(pm)
    if name in known:
        return known[name]
    path = Path(name)
    if name.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise SpecError(_("--assignment {name}: no such file").format(name=name))
        return replace(load_assignment(path), plugin="--assignment")
    raise SpecError(_("no assignment named '{name}'; known: {known} (or give a .toml file)").format(
        name=name, known=", ".join(sorted(known)) or "-"))


def select(assignment: Assignment, exercises: Iterable[Exercise], only: Iterable[str] = ()) -> list[Exercise]:
    """The exercises to grade, with the assignment's points.

    Without ``only``: the assignment's exercises, in its order. With ``only``: exactly those
    (an exercise outside the assignment keeps its spec's points: it was asked for by name).
    """
    by_id = {e.id: e for e in exercises}
    points = dict(assignment.points)
    wanted = list(dict.fromkeys(only)) or list(points)
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        if only:
            raise SubmissionError(_("no exercise with id {ids}; known: {known}").format(
                ids=", ".join(unknown), known=", ".join(by_id)))
        raise SpecError(_("assignment {name} counts {ids}, which no loaded plugin provides (is the plugin that "
                          "provides it installed, or given with --plugin?)").format(
            name=assignment.id, ids=", ".join(unknown)))
    if only:  # keep the book's (the loaded) order
        chosen = [e for e in by_id.values() if e.id in set(wanted)]
    else:
        chosen = [by_id[i] for i in wanted]
    return [replace(e, points=points[e.id]) if e.id in points else e for e in chosen]


@hookimpl
def grader_assignments() -> list[Path]:
    return [Path(importlib.import_module("grader.specs._exercises").__path__[0]) / "assignments"]


def exercises_for(pm: pluggy.PluginManager, assignment: str | None = None, only: Iterable[str] = ()) -> list[Exercise]:
    """The exercises ``grade`` grades: the assignment's (default ``chapter4``), or ``only`` those."""
    return select(resolve(pm, assignment), load_exercises(pm), only)
