"""`grade class` with a due date, a late policy and overrides: one small Canvas class graded once, then
run again with other rules (which grades no one again), the gradebook and every report checked."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import DECLARED, ROOT, run_grade
from test_reporters import ARTIFACTS, _chromium, _png_is_not_blank

SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
RULES = ("--due", "2026-10-05T23:59+09:00", "--late-policy", "10%/day,cap=50%,grace=15m,last=3d,unknown=one-period")
ONLY = ("--only", "sum_squares_error", "--only", "numerical_diff")  # 20 points: fast, and enough to tell


def read_gradebook(out: Path) -> dict[str, dict[str, str]]:
    text = (out / "gradebook.csv").read_bytes().decode("utf-8-sig")
    return {row["student"]: row for row in csv.DictReader(io.StringIO(text))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, class_isolation):
    root = tmp_path_factory.mktemp("late")
    subs = root / "canvas"
    subs.mkdir()
    correct = SUBMISSIONS / "correct.py"
    shutil.copy(correct, subs / "kimminsu_12345_67890_chapter4.py")  # on time (no time known)
    shutil.copy(correct, subs / "leejieun_LATE_22222_33333_chapter4.py")  # marked late, no time
    shutil.copy(correct, subs / "parkseo_44444_55555_chapter4.py")  # a day late (--times)
    shutil.copy(SUBMISSIONS / "mistake_forward_difference.py", subs / "chohyun_66666_77777_chapter4.py")  # grace
    (root / "times.csv").write_text("student,time\nparkseo,2026-10-06T10:00+09:00\n"
                                    "chohyun,2026-10-06T00:05+09:00\n", encoding="utf-8")
    (root / "overrides.csv").write_text("student,exercise,points,reason\n"
                                        "chohyun,numerical_diff,8,\"regrade: h = 1e-4 is what the book uses\"\n",
                                        encoding="utf-8")
    out = root / "graded"
    first = run_grade("class", str(subs), "-o", str(out), "-j", "2", *ONLY, *RULES, "--times", str(root / "times.csv"),
                      "--overrides", str(root / "overrides.csv"), timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    return root, subs, out, first


def test_the_gradebook_shows_the_raw_score_the_penalty_and_the_score_after_it(graded):
    _root, _subs, out, _run = graded
    rows = read_gradebook(out)
    kim, lee, park, cho = rows["kimminsu"], rows["leejieun"], rows["parkseo"], rows["chohyun"]
    assert (kim["raw_score"], kim["penalty"], kim["score"], kim["late_by"], kim["submitted_at"]) == ("20", "0", "20", "", "")
    # Marked LATE by Canvas without a time: one period (10% of 20 points) by the policy's unknown=one-period.
    assert (lee["raw_score"], lee["penalty"], lee["score"], lee["late_by"]) == ("20", "2", "18", "LATE")
    assert (park["raw_score"], park["penalty"], park["score"], park["late_by"]) == ("20", "2", "18", "10h1m")
    assert park["submitted_at"] == "2026-10-06T10:00:00+09:00"
    # Six minutes late is inside the 15-minute grace period: the override's points, nothing taken.
    assert (cho["penalty"], cho["late_by"], cho["numerical_diff"], cho["overridden"]) == ("0", "6m", "8", "numerical_diff")
    assert cho["score"] == cho["raw_score"] == str(int(float(cho["sum_squares_error"]) + 8))


def test_each_students_report_says_what_was_applied_and_why_in_their_language(graded):
    _root, _subs, out, _run = graded
    park = json.loads((out / "reports" / "parkseo.json").read_text(encoding="utf-8"))
    assert park["lang"] == "ko"  # their comments are Korean: so is what the report says of lateness
    assert (park["raw_score"], park["penalty"], park["score"]) == (20, 2, 18)
    assert [a["kind"] for a in park["adjustments"]] == ["late"]
    html = (out / "reports" / "parkseo.html").read_text(encoding="utf-8")
    assert "마감 10h1m 후" in html and "배점의 10%를 감점합니다: 20 → 18" in html
    cho = (out / "reports" / "chohyun.html").read_text(encoding="utf-8")
    assert "이유: regrade: h = 1e-4 is what the book uses" in cho and "유예 시간 안이므로 감점하지 않습니다" in cho
    lee = (out / "reports" / "leejieun.html").read_text(encoding="utf-8")
    assert "제출 시각 없이 지각으로 표시되어 있습니다" in lee
    kim = json.loads((out / "reports" / "kimminsu.json").read_text(encoding="utf-8"))
    assert "adjustments" not in kim  # on time, nothing overridden: the report as graded


def test_every_renderer_says_what_was_applied(graded):
    from dataclasses import replace

    from grader.classroom.results import report_from_dict
    from grader.plugins import make_manager, merged

    _root, _subs, out, _run = graded
    data = json.loads((out / "reports" / "chohyun.json").read_text(encoding="utf-8"))
    report = replace(report_from_dict(data), lang="en")
    assert (report.raw_score, report.penalty, report.score) == (data["raw_score"], 0, data["score"])
    renderers = merged(make_manager(entry_points=False).hook.grader_reporters())
    override = "numerical_diff: changed by your teacher from 0 to 8 points (partial)"
    grace = "within the grace period of the late policy (10%/day,cap=50%,grace=15m,last=3d)"
    for name, render in renderers.items():
        text = " ".join(render(report).split())  # the terminal wraps its lines
        if name == "json":
            assert [a["kind"] for a in json.loads(text)["adjustments"]] == ["override", "late"]
        else:
            assert override in text and grace in text, name


def test_the_rules_change_without_grading_anyone_again_and_overrides_are_kept(graded, tmp_path):
    _root, subs, graded_out, _run = graded
    out = tmp_path / "graded"  # a copy: the other tests see the first run's OUTDIR, in any order
    shutil.copytree(graded_out, out)
    again = run_grade("class", str(subs), "-o", str(out), "-j", "2", *ONLY, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "0 to grade" in again.stdout
    rows = read_gradebook(out)
    # No due date this time: no penalty; the overrides kept in OUTDIR still apply.
    assert rows["parkseo"]["penalty"] == "0" and rows["parkseo"]["score"] == "20"
    assert rows["chohyun"]["overridden"] == "numerical_diff" and rows["chohyun"]["numerical_diff"] == "8"
    assert "adjustments" not in json.loads((out / "reports" / "parkseo.json").read_text(encoding="utf-8"))
    assert "regrade" in (out / "reports" / "chohyun.html").read_text(encoding="utf-8")


def test_a_malformed_override_row_is_named_by_its_line_and_nothing_is_graded(graded, tmp_path):
    _root, subs, out, _run = graded
    bad = tmp_path / "bad.csv"
    bad.write_text("student,exercise,points,reason\nchohyun,numerical_diff,8,ok\nkimminsu,softmax,lots,why\n")
    run = run_grade("class", str(subs), "-o", str(out), *ONLY, "--overrides", str(bad))
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "line 3" in run.stderr and "'lots'" in run.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("nobody,numerical_diff,3,x\n")
    run = run_grade("class", str(subs), "-o", str(out), *ONLY, "--overrides", str(unknown))
    assert run.returncode == 2 and "line 1" in run.stderr and "no student 'nobody'" in run.stderr
    assert "regrade" in (out / "overrides.csv").read_text(encoding="utf-8")  # the kept ones are untouched


def test_a_due_date_without_its_time_zone_is_a_one_line_usage_error(graded):
    _root, subs, out, _run = graded
    run = run_grade("class", str(subs), "-o", str(out), "--due", "2026-10-05 23:59", "--late-policy", "10%/day")
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "no time zone" in run.stderr


@pytest.mark.skipif(_chromium() is None and "chromium" not in DECLARED,
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_overview_lists_late_work_and_overrides_in_headless_chromium_at_1280_px(graded):
    _root, _subs, out, _run = graded
    ARTIFACTS.mkdir(exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
    page = out / "index.html"
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([_chromium(), *flags, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
    section = re.search(r'<h3 id="after-grading">.*?</table>', dom, re.S)
    assert section, "no section of late work and overrides"
    rows = re.findall(r"<tr><td><a [^>]*>(\w+)</a></td>\s*<td>([^<]*)</td>", section.group())
    assert rows == [("parkseo", "late by 10h1m"), ("chohyun", "late by 6m"), ("leejieun", "late (LATE mark, no time)"),
                    ("chohyun", "override: numerical_diff (partial)")]
    for name, target in (("class-overview-late.png", page), ("report-late.png", out / "reports" / "parkseo.html")):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([_chromium(), *flags, f"--user-data-dir={profile}", "--window-size=1280,1600",
                            f"--screenshot={shot}", target.as_uri()], capture_output=True, timeout=120)
        assert shot.exists() and _png_is_not_blank(shot)
