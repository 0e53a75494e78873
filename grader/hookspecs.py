"""The grader's hook API (pluggy project name ``grader``).

Every built-in exercise folder, generator, check, loader and reporter is registered
through these hooks, exactly as a third-party plugin's would be (DESIGN.md
principle 3). A plugin is a module or object with functions decorated with
``@grader.hookimpl`` and named after the hooks below.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from .loaders.base import Loader
    from .report import Report

hookspec = pluggy.HookspecMarker("grader")
hookimpl = pluggy.HookimplMarker("grader")


@hookspec
def grader_exercise_dirs() -> list[Path]:
    """Folders of exercise spec files (``*.toml``) this plugin provides.

    Called once when the exercises are loaded. Each folder's specs name their
    reference objects by import path (``package.module:object``), so the plugin's
    package must be importable in the grading process.
    """


@hookspec
def grader_exercise_checks(exercise: Any) -> list[Any]:
    """More checks for an exercise, built-in or not: a list of :class:`grader.specs.exercises.CheckSpec`.

    Called once per exercise when the exercises are loaded, with the
    :class:`grader.specs.exercises.Exercise`. Each returned spec names a check registered
    through ``grader_checks``; its results count towards the exercise like its own.
    """


@hookspec
def grader_generators() -> dict[str, Callable[..., tuple]]:
    """Named input generators for random cases: ``name -> fn(rng, **params) -> args``.

    Called once before the exercise specs are read; a spec's ``[[random]]`` table
    names one of them.
    """


@hookspec
def grader_checks() -> dict[str, Callable[..., list[Any]]]:
    """Named checks: ``name -> fn(ctx: CheckContext, spec: CheckSpec) -> list[CheckResult]``.

    Called once per grading. A spec's ``[[check]]`` table names one of them; the
    check ``cases`` runs an exercise's cases. A check talks to the student's code
    only through ``ctx.worker`` and compares in the trusted process.
    """


@hookspec
def grader_diagnoses() -> list[Any]:
    """Known mistakes: a list of :class:`grader.diagnoses.model.DiagnosisRule`.

    Called once per grading. After each exercise is graded, every rule whose
    ``exercises`` names it (or ``"*"``) gets the evidence its checks observed and says
    whether the mistake shows; its message (English, translated through the catalogs
    when it has a translation) goes into the report's ``diagnoses`` with its ``id``.
    """


@hookspec
def grader_loaders() -> list["Loader"]:
    """Submission loaders, each saying which paths it accepts and turning one into code cells.

    Called once per grading; the first loader whose ``accepts(path)`` is true reads it.
    """


@hookspec
def grader_reporters() -> dict[str, Callable[..., str]]:
    """Output formats: ``name -> render(report, tty=False) -> str`` (``--format NAME``).

    ``tty`` is true when the text goes straight to an interactive terminal (colour and
    width may follow it). A reporter reads only the report object it is given
    (DESIGN.md principle 4).
    """


@hookspec
def grader_report_ready(report: "Report") -> None:
    """Called with each finished report, before it is rendered (e.g. to post it to an LMS)."""


@hookspec
def grader_assignments() -> list[Path]:
    """Assignment files (``*.toml``), or folders of them, this plugin provides.

    Called when ``--assignment`` is resolved and by ``--list-assignments``. An assignment
    names the exercises a grade counts and their points (see :mod:`grader.specs.assignments`);
    exercises a plugin adds count only in an assignment that names them.
    """


@hookspec
def grader_catalogs() -> list[Path]:
    """Folders of gettext catalogs (``ko.po``, ``ja.po``, ``zh.po``) for this plugin's messages.

    Called once when the plugin manager is built. Messages are keyed by their English
    text, as the grader's own; a message the grader's catalog already translates keeps
    the grader's translation.
    """


@hookspec
def grader_class_report(class_report: Any, outdir: Path) -> list[Path] | None:
    """Called once a class has been graded by ``grade class``, with every student's result.

    ``class_report`` is a :class:`grader.classroom.results.ClassReport`: each student's
    :class:`~grader.classroom.results.StudentResult` holds their score, each exercise's status,
    score and diagnoses, or the error that kept them from being graded, and
    ``class_report.report_of(student)`` reads their full report back from OUTDIR (one at a time,
    so that memory does not grow with the class); ``outdir`` is the ``-o`` folder. Called in the grading
    process (never in a worker), after every student's own reports are written, and also when
    a run is interrupted (``class_report.complete`` is then false). Return the paths of the
    files written, if any, so that ``grade class`` can list them. The gradebook
    (``gradebook.csv``, ``gradebook.json``) and the class overview (``index.html``) are
    built-in implementations; an LMS upload or an extra overview page is a plugin like them.
    """


@hookspec
def grader_class_grading_started(outdir: Path) -> None:
    """Called once when ``grade class`` starts grading students (not when every one is up to date),
    in the grading process, before the first student; ``outdir`` is the ``-o`` folder.

    A class-level plugin whose report needs slow preparation (imports, fonts, templates) may
    start it here in a background daemon thread, so that it overlaps the grading: the grading
    process mostly waits for the workers then. It must return at once; an exception is said on
    the terminal and costs only this plugin's preparation.
    """


@hookspec
def grader_book_code() -> list[Path]:
    """Index files of published code that is not the student's work (the book's two public
    repositories; an instructor's handout code), made by ``python -m grader.submission.book_index
    build``. A submission's file or helper that matches one is graded as that code, not as the
    student's (see grader/submission/book_code.py). Every plugin's files are used together.
    """
