"""The report formats: JUnit XML, Gradescope results.json, Markdown and a self-contained HTML page."""
from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from conftest import DECLARED, EXERCISE_IDS, ROOT, SUBMISSIONS, builtin_manager, grade_path

SEEDS = ROOT / "tests" / "fixtures" / "seeds"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def mistakes_report():
    return grade_path(ROOT / "examples" / "chapter4_with_mistakes.py")


@pytest.fixture(scope="module")
def correct_report():
    return grade_path(SUBMISSIONS / "correct.py")


def render(report, name: str) -> str:
    from grader.plugins import merged
    return merged(builtin_manager().hook.grader_reporters())[name](report)


# ---- JUnit -------------------------------------------------------------------------------

JUNIT_SUITE_ATTRS = {"name", "tests", "failures", "errors", "skipped"}
JUNIT_CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err"}


def _validate_junit(text: str) -> ET.Element:
    """The shape of the common JUnit schema (Ant/Jenkins/GitLab): counts that add up, known children."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite" and JUNIT_SUITE_ATTRS <= set(suite.attrib)
        cases = [c for c in suite if c.tag == "testcase"]
        assert all(c.tag in ("testcase", "properties") for c in suite)
        counted = {"tests": len(cases),
                   "failures": sum(1 for c in cases for k in c if k.tag == "failure"),
                   "errors": sum(1 for c in cases for k in c if k.tag == "error"),
                   "skipped": sum(1 for c in cases for k in c if k.tag == "skipped")}
        for key, value in counted.items():
            assert int(suite.get(key)) == value, (suite.get("name"), key)
            totals[key] += value
        for case in cases:
            assert case.get("name") and case.get("classname")
            assert {k.tag for k in case} <= JUNIT_CASE_CHILDREN and len(list(case)) <= 1
            for outcome in case:
                if outcome.tag in ("failure", "error"):
                    assert outcome.get("message") and outcome.get("type")
    for key, value in totals.items():
        assert int(root.get(key)) == value
    return root


def test_junit_has_one_testcase_per_check_grouped_by_exercise(mistakes_report):
    root = _validate_junit(render(mistakes_report, "junit"))
    assert [s.get("name") for s in root] == list(EXERCISE_IDS)
    for suite, exercise in zip(root, mistakes_report.exercises):
        assert int(suite.get("tests")) == len(exercise.checks)
    assert int(root.get("failures")) + int(root.get("errors")) == sum(
        1 for e in mistakes_report.exercises for c in e.checks if not c.passed and not c.skipped)
    cee = root[1]
    assert cee.find("properties/property").get("name") == "diagnosis.cee-missing-delta"


def test_junit_of_a_correct_submission_has_no_failures(correct_report):
    root = _validate_junit(render(correct_report, "junit"))
    assert root.get("failures") == root.get("errors") == "0"


def test_junit_reports_a_missing_exercise_as_a_failure():
    report = grade_path(ROOT / "student_template" / "chapter4.py", only=("numerical_diff",))
    root = _validate_junit(render(report, "junit"))
    assert root.get("tests") == "1" and root.get("failures") == "1"


# ---- Gradescope ------------------------------------------------------------------------------

def test_gradescope_results_have_the_documented_fields(mistakes_report):
    results = json.loads(render(mistakes_report, "gradescope"))
    assert isinstance(results["score"], (int, float)) and isinstance(results["output"], str)
    assert results["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert results["tests"]
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert 0 <= test["score"] <= test["max_score"]
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(mistakes_report.score, abs=0.01)
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(100, abs=0.01)
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert any("cee-missing-delta" not in t["output"] and "delta" in t["output"] for t in failed)


# ---- Markdown ----------------------------------------------------------------------------------

def test_markdown_is_a_summary_table_with_what_to_fix(mistakes_report):
    text = render(mistakes_report, "markdown")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 7 and all(line.count(" | ") >= 4 for line in rows)
    assert "### What to fix" in text and "`cee-missing-delta`" in text and "`forward-difference`" in text
    assert "Sum of squares error" not in text.split("### What to fix")[1]  # passed: not listed


# ---- HTML ----------------------------------------------------------------------------------------

def test_html_is_self_contained_and_shows_what_went_wrong(mistakes_report):
    page = render(mistakes_report, "html")
    assert page.startswith("<!DOCTYPE html>")
    for forbidden in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert forbidden not in page
    for exercise in mistakes_report.exercises:
        assert f'id="{exercise.id}"' in page
    assert "cee-missing-delta" in page and "forward-difference" in page
    assert 'class="highlight"' in page  # the student's code, highlighted by Pygments
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "def numerical_diff(f, x):" in text


def _png_is_not_blank(path: Path) -> bool:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,), kind = struct.unpack(">I", data[offset:offset + 4]), data[offset + 4:offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return len(set(pixels[::97])) > 20  # a rendered page has many colours; a blank one a handful


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None and "chromium" not in DECLARED,
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_html_report_of_a_seed_notebook_renders_in_headless_chromium():
    report = grade_path(SEEDS / "seed_000.ipynb")
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "report-seed_000.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    shot = ARTIFACTS / "report-seed_000.png"
    shot.unlink(missing_ok=True)
    chromium = _chromium()
    assert chromium, "chromium is required in CI"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars"]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([chromium, *flags, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=120)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *flags, f"--user-data-dir={profile}", "--window-size=1100,2400",
                        f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    # What the browser parsed holds every exercise and the diagnosis of the 1-D-only gradient.
    for exercise_id in EXERCISE_IDS:
        assert f'id="{exercise_id}"' in dom.stdout
    assert "gradient-1d-only" in dom.stdout
    assert shot.exists() and _png_is_not_blank(shot)
