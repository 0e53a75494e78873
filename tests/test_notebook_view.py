"""The inline view of `%grade` (grader/notebook/view.py), and what `grade` itself never loads."""
from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT, SUBMISSIONS
from grader.notebook.view import ROOT as VIEW_CLASS, Graded, render_html, render_text
from grader.report import CheckResult, ExerciseResult, Report

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HISTORY = Graded("history", "chapter4.ipynb", 9)


def _report(*exercises: ExerciseResult) -> Report:
    return Report("chapter4.ipynb", exercises, isolation="namespaces+seccomp")


def _exercise(status: str, checks: tuple[CheckResult, ...], score: float = 10.0) -> ExerciseResult:
    return ExerciseResult("sum_squares_error", "Sum of squares error", "4.2.1", status, score, 10.0,
                          "sum_squares_error (In [3], line 2)", checks)


def test_a_hidden_case_shows_only_its_name_and_verdict_and_no_all_passed_while_it_failed():
    secret_call = "sum_squares_error(np.array([0.123456789]))"
    report = _report(_exercise("partial", (
        CheckResult("book example", True, "ok"),
        CheckResult("hidden case 1", False, "expected 0.42 from " + secret_call, expected=0.42, actual=1.0,
                    call=secret_call, hint="the secret hint", hidden=True)), score=5))
    for shown in (render_html(report, HISTORY), render_text(report, HISTORY)):
        assert "hidden case 1" in shown and "0.123456789" not in shown and "0.42" not in shown
        assert "All checks passed" not in shown
    assert "the secret hint" not in render_html(report, HISTORY)


def test_all_passed_is_never_said_while_a_check_did_not_run():
    report = _report(_exercise("passed", (CheckResult("book example", True, "ok"),
                                          CheckResult("hidden case 1", False, "", hidden=True, skipped=True))))
    assert "All checks passed" not in render_html(report, HISTORY)
    everything = _report(_exercise("passed", (CheckResult("book example", True, "ok"),)))
    assert "All checks passed" in render_html(everything, HISTORY)


def test_every_student_string_is_escaped_in_the_view():
    report = _report(_exercise("failed", (CheckResult(HOSTILE, False, HOSTILE, call=HOSTILE, hint=HOSTILE),),
                               score=0))
    report = Report(HOSTILE, report.exercises, error=HOSTILE)
    shown = render_html(report, Graded("file", HOSTILE))
    assert "<script>" not in shown and "<img" not in shown and "&lt;script&gt;" in shown


def test_the_views_styles_reach_only_the_view():
    shown = render_html(_report(_exercise("passed", ())), HISTORY)
    style = re.search(r"<style>(.*?)</style>", shown, re.S).group(1)
    selectors = [s.strip() for rule in re.findall(r"([^{}]+)\{[^{}]*\}", style) for s in rule.split(",")]
    assert selectors and all(s.startswith(f".{VIEW_CLASS}") for s in selectors)
    assert shown.startswith(f'<div class="{VIEW_CLASS}">')


def test_the_plain_text_form_is_the_terminal_report_with_its_score_line():
    report = _report(_exercise("partial", (CheckResult("a", True, "ok"), CheckResult("b", False, "wrong")),
                               score=7.2222))
    text = render_text(report, Graded("file", "chapter4.ipynb"))
    assert "Score: 7.22 / 10" in text.splitlines() and "saved notebook chapter4.ipynb" in text


def test_grade_does_not_load_ipython():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader.cli", str(SUBMISSIONS / "correct.py"),
                           "-f", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
    assert "grader.cli.main" in imported and not any(name.split(".")[0] == "IPython" for name in imported)
