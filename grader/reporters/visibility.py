"""What a student may see of a check: a hidden case shows its name and verdict, nothing more.

The JSON report is for instructors and keeps everything; every student-facing format
(terminal, HTML, Markdown, JUnit, Gradescope) shows checks through :func:`student_view`.
"""
from __future__ import annotations

from dataclasses import replace

from ..i18n import N_, _
from ..report import CheckResult

HIDDEN_PASSED = N_("Hidden case: passed.")
HIDDEN_FAILED = N_("Hidden case: failed. Hidden cases check the same exercise on inputs that are not shown; "
                   "make sure your code works for every input, not only the examples.")


def student_view(check: CheckResult) -> CheckResult:
    if not check.hidden:
        return check
    return replace(check, message=_(HIDDEN_PASSED if check.passed else HIDDEN_FAILED), call="", expected=None,
                   actual=None)
