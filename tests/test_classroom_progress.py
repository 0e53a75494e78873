"""Progress of a class run: plain lines in a log, a rich bar with done/total, rate, ETA and errors on a terminal."""
from __future__ import annotations

import io
import re

from grader.classroom.progress import PlainProgress, RichProgress, make_progress
from grader.classroom.results import ExerciseSummary, StudentResult


def result(name: str, error: str = "") -> StudentResult:
    exercises = () if error else (ExerciseSummary("sum_squares_error", "passed", 10.0, 10.0),
                                  ExerciseSummary("numerical_diff", "failed", 0.0, 10.0))
    return StudentResult(name, name, (f"{name}.py",), "plain", "h", seconds=0.25, exercises=exercises,
                         error=error, error_kind="unreadable" if error else "")


def test_a_log_gets_one_plain_line_per_student():
    stream = io.StringIO()
    progress = make_progress(2, stream)
    assert isinstance(progress, PlainProgress)
    with progress:
        progress.advance(result("kim"))
        progress.advance(result("lee", "lee.py: syntax error at line 3"))
    assert stream.getvalue().splitlines() == [
        "[1/2] kim: 10/20 (0.25 s)",
        "[2/2] lee: error (unreadable): lee.py: syntax error at line 3 (0.25 s)"]
    assert progress.errors == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_done_total_rate_eta_and_errors():
    stream = Terminal()
    progress = make_progress(3, stream)
    assert isinstance(progress, RichProgress)
    progress.console.width = 120
    with progress:
        progress.advance(result("kim"))
        progress.advance(result("[red]lee[/]", "broken"))
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", stream.getvalue())
    assert "2/3" in text and "/s" in text and "ETA" in text and "1 errors" in text
    assert "[red]lee[/]" in text  # a student's name is shown as written, never as markup
