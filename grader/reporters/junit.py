"""``--format junit``: JUnit XML, one testsuite per exercise and one testcase per check.

CI systems (GitHub Actions, GitLab, Jenkins) read this shape: ``<testsuites>`` with
``tests``/``failures``/``errors``/``skipped`` counts, each ``<testcase>`` holding a
``<failure>`` (a wrong value), an ``<error>`` (an exception, a timeout, a crash) or
``<skipped>``. A missing exercise is one failing testcase, so it is never silently green.
"""
from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..i18n import _, use
from ..report import CheckResult, ExerciseResult, Report
from . import labels
from .adjustment_notes import adjustment_note
from .safe_text import displayable
from .visibility import student_view

if TYPE_CHECKING:  # xml.etree loads only when a JUnit report is written
    import xml.etree.ElementTree as ET

ERROR_OUTCOMES = {"error", "timeout", "crash", "grader-error", "skipped-after-failure"}


def _case(suite: "ET.Element", exercise: ExerciseResult, check: CheckResult, seconds: float, file: str) -> str:
    import xml.etree.ElementTree as ET  # only when a JUnit report is asked for
    case = ET.SubElement(suite, "testcase", classname=f"dlfs.{exercise.id}", name=check.name,
                         time=f"{seconds:.3f}", file=file)
    details = "\n".join(part for part in (check.message, f"{_(labels.HINT)} {check.hint}" if check.hint else "")
                        if part)
    if check.skipped:
        ET.SubElement(case, "skipped", message=check.message)
        return "skipped"
    if check.passed:
        return "passed"
    kind = "error" if check.outcome in ERROR_OUTCOMES else "failure"
    element = ET.SubElement(case, kind, message=check.message[:500], type=check.outcome)
    element.text = details
    return kind


def render(report: Report, tty: bool = False) -> str:
    import xml.etree.ElementTree as ET  # only when a JUnit report is asked for
    report = displayable(report)  # XML 1.0 cannot hold most control characters at all
    with use(report.lang):
        name = PurePath(report.submission).name or report.submission
        # JUnit's timestamp has no time zone; graded_at is UTC.
        timestamp = report.graded_at[:19]
        root = ET.Element("testsuites", name=f"dlfs-grader: {name}", time=f"{report.duration:.3f}")
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for exercise in report.exercises:
            suite = ET.SubElement(root, "testsuite", name=exercise.id, timestamp=timestamp,
                                  time=f"{exercise.duration:.3f}")
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            checks = [student_view(c) for c in exercise.checks]
            if exercise.status == "missing" or (not checks and exercise.status != "passed"):
                # Missing, not loadable or not graded in time: one failing case, never a silently green suite.
                outcome = "wrong" if exercise.status == "missing" else exercise.status
                checks = [CheckResult(exercise.title, False, exercise.message, outcome=outcome)]
            # Checks are timed per exercise: each case gets an equal share of its exercise's time.
            share = exercise.duration / max(len(checks), 1)
            for check in checks:
                kind = _case(suite, exercise, check, share, report.submission)
                counts["tests"] += 1
                if kind == "failure":
                    counts["failures"] += 1
                elif kind in ("error", "skipped"):
                    counts[{"error": "errors", "skipped": "skipped"}[kind]] += 1
            properties = ET.Element("properties")
            for d in exercise.diagnoses:
                ET.SubElement(properties, "property", name=f"diagnosis.{d.id}", value=d.message)
            ET.SubElement(properties, "property", name="isolation", value=report.isolation)
            for number, adjustment in enumerate(report.adjustments, start=1):  # said on every suite: CI shows one
                if adjustment.kind == "late" or adjustment.exercise == exercise.id:
                    ET.SubElement(properties, "property", name=f"adjustment.{number}.{adjustment.kind}",
                                  value=adjustment_note(adjustment))
            suite.insert(0, properties)
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
        for key, value in totals.items():
            root.set(key, str(value))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@hookimpl
def grader_reporters() -> dict:
    return {"junit": render}
