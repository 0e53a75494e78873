"""`grade class --assignment-file`: the file's exercises, points and book-code rule reach every
student's grading, on this machine and on a Dask worker alike (they travel as data in
GradingOptions), and changing them grades everyone again."""
from __future__ import annotations

import argparse
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT

SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
WEEK4 = (("sum_squares_error", 5.0), ("numerical_diff", 7.0))


def options(tmp_path: Path, **changes):
    from grader.classroom.grading import GradingOptions

    return replace(GradingOptions(tmp_path / "download", tmp_path / "graded", assignment_id="week4",
                                  assignment_points=WEEK4, book_code="credited"), **changes)


def test_the_files_exercises_and_points_are_what_a_class_grades(tmp_path):
    from grader.classroom.grading import class_exercises
    from grader.plugins import make_manager

    pm = make_manager(entry_points=False)
    ident, exercises = class_exercises(pm, options(tmp_path))
    assert ident == "week4" and [(e.id, e.points) for e in exercises] == list(WEEK4)
    # Without a file: the seven exercises of chapter 4 at their specs' points.
    ident, exercises = class_exercises(pm, options(tmp_path, assignment_id="", assignment_points=()))
    assert ident == "chapter4" and len(exercises) == 7 and sum(e.points for e in exercises) == 100


def test_every_students_grading_gets_the_files_exercises_points_and_book_rule(tmp_path, monkeypatch, class_isolation):
    import grader.session
    from grader.classroom.grading import Job, SlotGrader
    from grader.classroom.roster import read_roster

    (tmp_path / "download").mkdir()
    shutil.copy(SUBMISSIONS / "correct.py", tmp_path / "download" / "kim.py")
    (tmp_path / "graded").mkdir()
    (tmp_path / "slot").mkdir()
    calls = []
    real = grader.session.grade

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(grader.session, "grade", recording)
    roster = read_roster(tmp_path / "download")
    slot = SlotGrader(options(tmp_path), tmp_path / "slot", ())
    try:
        result = slot.grade(Job(roster.students[0], "h"))
    finally:
        slot.close()
    assert calls and calls[0]["book_rule"] == "credited"
    assert [(e.id, e.points) for e in calls[0]["exercises"]] == list(WEEK4)
    assert not result.error, result.error
    assert result.score == 12.0 and [(e.id, e.max_score) for e in result.exercises] == list(WEEK4)
    assert result.report.assignment == "week4" and result.report.book_rule == "credited"


def test_changing_the_files_points_or_book_rule_grades_everyone_again(tmp_path):
    from grader.classroom.roster import read_roster
    from grader.classroom.run import ClassRun

    (tmp_path / "download").mkdir()
    shutil.copy(SUBMISSIONS / "correct.py", tmp_path / "download" / "kim.py")

    def fingerprint(text: str | None) -> str:
        file = None
        if text is not None:
            file = tmp_path / "week4.toml"
            file.write_text(text, encoding="utf-8")
        args = argparse.Namespace(submissions=tmp_path / "download", output=tmp_path / "graded", plugin=[],
                                  exercises=[], only=[], lang=None, markdown=False, timeout=5.0,
                                  assignment_file=file, due=None, late_policy=None, times=None,
                                  times_from_mtime=False, overrides=None)
        return ClassRun(read_roster(tmp_path / "download"), args).fingerprint()

    points = 'id = "week4"\n[points]\nsum_squares_error = 5\nnumerical_diff = 7\n'
    first = fingerprint(points)
    assert fingerprint(points) == first  # the same file: nobody graded again
    assert fingerprint(points.replace("= 7", "= 8")) != first
    assert fingerprint('book_code = "credited"\n' + points) != first
    assert fingerprint(None) != first
    # Only the due date changes: laid over the graded results, nobody graded again.
    assert fingerprint('due = 2026-10-05T23:59:00+09:00\n' + points) == first


def test_an_assignment_file_counting_an_unknown_exercise_stops_the_run_before_outdir_is_made(tmp_path):
    from conftest import run_grade

    (tmp_path / "download").mkdir()
    shutil.copy(SUBMISSIONS / "correct.py", tmp_path / "download" / "kim.py")
    (tmp_path / "week4.toml").write_text('id = "week4"\n[points]\nsum_squares_eror = 5\n', encoding="utf-8")
    run = run_grade("class", str(tmp_path / "download"), "-o", str(tmp_path / "graded"),
                    "--assignment-file", str(tmp_path / "week4.toml"), timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "sum_squares_eror" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "graded").exists()  # no folder, no secret to clean up
