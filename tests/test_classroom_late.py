"""Due dates and late work: when a student handed in, what the policy takes, and where it is said."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import run_grade
from grader.classroom.late import HandedIn, handed_in, last_commit_time, late_adjustment, read_times_file
from grader.classroom.outcome import UsageError
from grader.classroom.roster import read_roster
from grader.specs.late_policy import PolicyError, parse_due, policy_from_option

DUE = parse_due("2026-10-05T23:59+09:00")
POLICY = policy_from_option("10%/day,cap=50%,grace=15m,last=3d", DUE)


def late(delta: timedelta, score: float = 80.0):
    return late_adjustment(HandedIn(DUE + delta, "times-file"), DUE, POLICY, score, 100.0)


def test_work_handed_in_before_the_due_date_loses_nothing_and_says_nothing():
    assert late(-timedelta(minutes=1)) is None
    assert late(timedelta(0)) is None


def test_a_late_submission_in_the_grace_period_loses_nothing_and_says_so():
    adjustment = late(timedelta(minutes=10))
    assert (adjustment.percent, adjustment.before, adjustment.after) == (0, 80, 80)
    assert adjustment.late_seconds == 600


def test_work_one_day_late_loses_one_period_of_the_points_possible():
    adjustment = late(timedelta(hours=20))
    assert (adjustment.percent, adjustment.after) == (10, 70)
    assert late(timedelta(days=1, minutes=1)).after == 60  # a second day begun counts whole


def test_work_after_the_last_day_earns_nothing():
    adjustment = late(timedelta(days=3, hours=1))
    assert (adjustment.percent, adjustment.after) == (100, 0)


def test_the_cap_bounds_the_penalty_and_a_score_never_goes_below_zero():
    policy = policy_from_option("30%/day,cap=50%", DUE)
    assert late_adjustment(HandedIn(DUE + timedelta(days=2, hours=1), "git"), DUE, policy, 80, 100).after == 30
    assert late_adjustment(HandedIn(DUE + timedelta(hours=1), "git"), DUE, policy, 10, 100).after == 0


def test_a_canvas_late_mark_without_a_time_costs_what_the_policy_says(tmp_path):
    (tmp_path / "kimminsu_LATE_12345_67890_chapter4.py").write_text("x = 1\n")
    (tmp_path / "leejieun_22222_33333_chapter4.py").write_text("x = 1\n")
    students = {s.id: s for s in read_roster(tmp_path).students}
    marked = handed_in(students["kimminsu"], {})
    assert marked == HandedIn(None, "canvas-late", marked_late=True)
    assert handed_in(students["leejieun"], {}) is None
    one_period = late_adjustment(marked, DUE, POLICY, 80, 100)
    assert (one_period.percent, one_period.after, one_period.late_seconds) == (10, 70, None)
    at_cap = policy_from_option("10%/day,cap=50%,unknown=cap", DUE)
    assert late_adjustment(marked, DUE, at_cap, 80, 100).after == 30
    forgiven = policy_from_option("10%/day,unknown=nothing", DUE)
    assert late_adjustment(marked, DUE, forgiven, 80, 100).after == 80


def test_nbgrader_timestamps_are_read_as_utc(tmp_path):
    for name, stamp in (("kim", "2026-10-05 15:30:00.123456 UTC"), ("lee", "2026-10-05 14:00:00")):
        folder = tmp_path / "submitted" / name / "ps1"
        folder.mkdir(parents=True)
        (folder / "chapter4.py").write_text("x = 1\n")
        (folder / "timestamp.txt").write_text(stamp + "\n")
    students = {s.id: s for s in read_roster(tmp_path, assignment="ps1").students}
    kim = handed_in(students["kim"], {})
    assert kim.source == "nbgrader" and kim.at == datetime(2026, 10, 5, 15, 30, 0, 123456, timezone.utc)
    assert handed_in(students["lee"], {}).at == datetime(2026, 10, 5, 14, 0, tzinfo=timezone.utc)


def test_a_github_classroom_repository_is_timed_by_its_last_commit(tmp_path):
    repo = tmp_path / "hw4-kim"
    repo.mkdir()
    (repo / "chapter4.py").write_text("x = 1\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="k", GIT_AUTHOR_EMAIL="k@x", GIT_COMMITTER_NAME="k",
               GIT_COMMITTER_EMAIL="k@x", GIT_COMMITTER_DATE="2026-10-06T01:00:00+09:00",
               GIT_AUTHOR_DATE="2026-10-06T01:00:00+09:00")
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "done"]):
        subprocess.run(["git", "-C", str(repo), *command], check=True, env=env, capture_output=True)
    assert last_commit_time(repo) == datetime(2026, 10, 5, 16, 0, tzinfo=timezone.utc)
    assert last_commit_time(tmp_path) is None  # no repository of its own: never one above it


def test_file_times_are_used_only_when_asked(tmp_path):
    (tmp_path / "kim.py").write_text("x = 1\n")
    (tmp_path / "lee.py").write_text("x = 1\n")
    os.utime(tmp_path / "kim.py", (1_790_000_000, 1_790_000_000))
    kim = next(s for s in read_roster(tmp_path).students if s.id == "kim")
    assert handed_in(kim, {}) is None
    assert handed_in(kim, {}, from_mtime=True).at == datetime.fromtimestamp(1_790_000_000, timezone.utc)


def test_a_due_date_without_a_time_zone_or_a_bad_policy_is_refused_with_the_form_to_use():
    with pytest.raises(PolicyError, match="no time zone.*\\+09:00"):
        parse_due("2026-10-05 23:59")
    with pytest.raises(PolicyError, match="10%/day"):
        policy_from_option("ten percent", DUE)
    with pytest.raises(PolicyError, match="cap=N%"):
        policy_from_option("10%/day,cop=5%", DUE)


def test_a_bad_times_row_is_named_by_its_line(tmp_path):
    times = tmp_path / "times.csv"
    times.write_text("student,time\nkim,2026-10-05T23:00+09:00\nlee,yesterday\n")
    with pytest.raises(UsageError, match="line 3"):
        read_times_file(times)


@pytest.mark.parametrize("options", [["--due", "2026-12-01"], ["--due", "2026-12-01T10:00+09:00", "--late-policy", "x"],
                                     ["--overrides", "no-such-overrides.csv"]])
def test_a_mistyped_rule_is_refused_before_outdir_or_its_secret_is_made(tmp_path, options):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "kim.py").write_text("def sum_squares_error(y, t):\n    return 0.0\n", encoding="utf-8")
    proc = run_grade("class", str(tmp_path / "subs"), "-o", str(tmp_path / "out"), *options,
                     "--only", "sum_squares_error", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "out").exists()
