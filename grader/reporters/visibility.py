"""What a student may see of a check: a hidden case shows its name and verdict, nothing more.

Every format ``grade`` writes (terminal, JSON, HTML, Markdown, JUnit, Gradescope) shows checks
through :func:`student_view`: a student runs ``grade -f json`` on their own machine, and a
hidden case's call and expected value there would be a table of answers to hard-code. Only
the class run's own records (``grade class``: the gradebook's report data) keep everything,
for the instructor.
"""
from __future__ import annotations

from dataclasses import replace

from ..i18n import N_, _
from ..report import CheckResult, Report

HIDDEN_PASSED = N_("Hidden case: passed.")
HIDDEN_FAILED = N_("Hidden case: failed. Hidden cases check the same exercise on inputs that are not shown; "
                   "make sure your code works for every input, not only the examples.")


def student_view(check: CheckResult) -> CheckResult:
    if not check.hidden:
        return check
    return replace(check, message=_(HIDDEN_PASSED if check.passed else HIDDEN_FAILED), call="", expected=None,
                   actual=None, reproduce="")


def student_report(report: Report) -> Report:
    """The report with every check as :func:`student_view` shows it."""
    return replace(report, exercises=tuple(replace(e, checks=tuple(student_view(c) for c in e.checks))
                                           for e in report.exercises))
