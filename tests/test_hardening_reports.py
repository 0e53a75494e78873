"""A report nobody can hijack: every renderer escapes what came from the submission.

The hostile fixture (tests/fixtures/submissions/hostile_report.py) raises, returns and
prints a payload of markup and control characters; its honest twin does the same with
plain text.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import DECLARED, SUBMISSIONS, builtin_manager, grade_path

ONLY = ("sum_squares_error", "cross_entropy_error", "numerical_diff")
SCRIPT = '<script>document.title="pwned"</script>'
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")
HOSTILE_NAME = "<img src=x onerror=alert(1)> & report.py"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    # The file name attacks too: it is shown in every format.
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / HOSTILE_NAME
    shutil.copy(SUBMISSIONS / "hostile_report.py", path)
    return grade_path(path, only=ONLY)


@pytest.fixture(scope="module")
def honest():
    return grade_path(SUBMISSIONS / "honest_report.py", only=ONLY)


def render(report, name: str) -> str:
    from grader.plugins import merged
    return merged(builtin_manager().hook.grader_reporters())[name](report)


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_payload_reaches_the_report_data_unchanged(hostile, honest):
    messages = [c.message for e in hostile.exercises for c in e.checks]
    assert any(SCRIPT in m and "\x1b[31m" in m and "\x00" in m for m in messages)
    assert hostile.score <= honest.score
    assert any("\x1b[31m" in s.message for s in hostile.statements)


def test_html_escapes_every_value_from_the_submission(hostile):
    page = render(hostile, "html")
    assert "<script" not in page and "<img" not in page
    assert not RAW_CONTROLS.search(page)
    text = visible_text(page)
    assert SCRIPT in text
    assert "\\x1b[31mRED\\x1b[0m\\x0b\\x01\\x00" in text  # shown, visibly escaped
    assert HOSTILE_NAME in text


def test_html_shows_values_that_look_like_tags():
    """The grader's own `<array (5, 10) float64>` once vanished as an unknown tag."""
    report = grade_path(SUBMISSIONS / "mistake_cee_batch_not_averaged.py", only=("cross_entropy_error",))
    calls = [c.call for e in report.exercises for c in e.checks if not c.passed and "<array" in c.call]
    assert calls, "the fixture should fail a case whose call shows an array summary"
    assert calls[0] in visible_text(render(report, "html"))


def test_junit_of_a_hostile_report_is_well_formed_xml(hostile):
    text = render(hostile, "junit")
    root = ET.fromstring(text.encode("utf-8"))  # expat rejects NUL, \x0b and friends
    assert not RAW_CONTROLS.search(text)
    messages = [el.get("message") for el in root.iter() if el.tag in ("failure", "error")]
    assert any(SCRIPT in m and "\\x1b[31m" in m for m in messages)


def test_terminal_shows_no_escape_sequence_of_the_student(hostile):
    from grader.reporters.terminal import render as terminal
    for tty in (False, True):
        text = terminal(hostile, tty=tty)
        assert "\x1b[31mRED" not in text and "\x00" not in text and "\x0b" not in text and "\x9b" not in text
        assert "\\x1b[31mRED" in re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\n", "").replace("│", "") \
            or "\\x1b[31mRED" in text
    plain = terminal(hostile, tty=False)
    assert "\x1b" not in plain  # no colour was asked for, so no escape at all
    assert SCRIPT in plain  # markup-like text is shown as it is


@pytest.mark.parametrize("character", ["\u061c", "\u200e", "\u200f", "\u2028", "\u2029", "\u202e", "\u2067"])
def test_bidirectional_marks_and_line_separators_are_shown_as_escapes(character):
    # A mark reorders what a bidi-aware terminal shows around it; a separator may break the line there.
    from grader.reporters.safe_text import visible
    shown = visible(f"if x{character} > 0")
    assert character not in shown and f"\\u{ord(character):04x}" in shown


def test_markdown_shows_the_payload_literally_and_keeps_its_table(hostile):
    text = render(hostile, "markdown")
    assert "<script" not in text and "<img" not in text and not RAW_CONTROLS.search(text)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 3 and all(line.count(" | ") == 4 for line in rows)
    assert SCRIPT in html.unescape(text)
    assert "\\x1b[31mRED" in html.unescape(text)


@pytest.mark.parametrize("fmt", ["json", "gradescope"])
def test_json_formats_escape_control_characters(hostile, fmt):
    text = render(hostile, fmt)
    assert not RAW_CONTROLS.search(text)
    data = json.loads(text)
    if fmt == "json":  # the data itself is exact: an instructor's tool sees what the student's code said
        assert json.dumps(data, sort_keys=True) == json.dumps(hostile.to_dict(run_info=True), sort_keys=True)
    else:
        assert any(SCRIPT in t["output"] and "\\x1b[31m" in t["output"] for t in data["tests"])


def test_lone_surrogates_and_nul_never_break_a_format():
    from grader.report import CheckResult, ExerciseResult, Report
    bad = "a\ud800b\x00c\u2028d"
    report = Report(bad, (ExerciseResult("x", bad, "1", "failed", 0.0, 1.0, bad,
                                         (CheckResult(bad, False, bad, bad, [bad], bad, bad),)),))
    for fmt in ("terminal", "json", "html", "junit", "gradescope", "markdown"):
        render(report, fmt).encode("utf-8")  # a lone surrogate would raise UnicodeEncodeError


# ---- headless Chromium -----------------------------------------------------------------------------

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _dump_dom(page: Path) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--virtual-time-budget=3000"]
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([_chromium(), *flags, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                                capture_output=True, text=True, timeout=120)
    assert result.stdout.strip(), result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(_chromium() is None and "chromium" not in DECLARED,
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_a_hostile_report_runs_no_script_in_headless_chromium(hostile, tmp_path):
    # First prove the probe: the same payload, unescaped, does run in this browser.
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body>"
                       f"{SCRIPT}<img src=x onerror=\"document.body.dataset.pwned=1\"></body></html>",
                       encoding="utf-8")
    dom = _dump_dom(control)
    assert "<title>pwned</title>" in dom and 'data-pwned="1"' in dom

    page = tmp_path / "report.html"
    page.write_text(render(hostile, "html"), encoding="utf-8")
    dom = _dump_dom(page)
    assert "<title>pwned</title>" not in dom and "data-pwned" not in dom
    assert "<script" not in dom and "<img" not in dom
    text = visible_text(dom)
    assert SCRIPT in text and HOSTILE_NAME in text and "\\x1b[31mRED" in text


def test_grading_the_hostile_report_fixture_never_crashes_and_leaves_nothing_behind(tmp_path):
    import os
    import sys

    from conftest import ROOT
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", TMPDIR=str(tmp_path))
    for fmt in ("terminal", "html", "junit", "markdown"):
        result = subprocess.run([sys.executable, "-m", "grader.cli", str(SUBMISSIONS / "hostile_report.py"), "-f", fmt],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1 and "Traceback (most recent call last)" not in result.stderr + result.stdout, fmt
        assert not RAW_CONTROLS.search(result.stdout), fmt
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("dlfs-grade-")] == []


@pytest.mark.parametrize("payload", ["see https://evil.example/login now", "HTTP://EVIL.EXAMPLE", "go to www.evil.example",
                                     "mail me: mallory@evil.example", "javascript://%0aalert(1)",
                                     "ftp://files.evil.example/x"])
def test_markdown_turns_no_submission_text_into_a_link(payload):
    # GitHub's Markdown links these with no markup at all (its "autolinks"): a student's exception
    # message must not put a live link into a CI job summary.
    from grader.reporters.safe_text import markdown
    shown = markdown(payload)
    assert "://" not in shown and not re.search(r"(?i)\bwww\.", shown) and not re.search(r"@\w", shown)
    assert html.unescape(shown).replace("\u200b", "") == payload  # the reader sees the same text
