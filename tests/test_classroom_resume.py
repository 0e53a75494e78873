"""Nothing graded is lost, and nothing unchanged is graded twice.

A class run killed midway (SIGKILL to its whole process group, as a closed terminal or a
power cut would) keeps every student finished before the kill; the same command resumes,
grades only the students left and gives the same gradebook. A rerun grades only students
whose files changed (by content, not by date), and --student grades one again.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from test_classroom import CLASS, PINNED, grade_class, keep_class_secret, left_behind, read_gradebook


pytestmark = pytest.mark.usefixtures("class_isolation")  # every test here grades a class


def planned(proc: subprocess.CompletedProcess) -> tuple[int, int]:
    """(to grade, up to date) from the first line of `grade class`."""
    match = re.search(r"(\d+) to grade, (\d+) up to date", proc.stdout)
    assert match, proc.stdout + proc.stderr
    return int(match[1]), int(match[2])


def records(out: Path) -> dict[str, int]:
    """Each finished student's record and its modification time (absent folder: none yet)."""
    return {p.stem: p.stat().st_mtime_ns for p in (out / ".results").glob("*.json")}


def no_workers_left(since: float, timeout: float = 15.0) -> bool:
    """Workers the test started (since ``since``) notice that their grading process is gone and end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not left_behind(since)[1]:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def resumed_class(tmp_path_factory):
    """The class killed after some students are finished, then the same command run again."""
    base = tmp_path_factory.mktemp("resume")
    subs, out = base / "submissions", base / "graded"
    shutil.copytree(CLASS, subs)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    keep_class_secret(out)
    started = time.time()
    command = [sys.executable, "-m", "grader.cli", "class", str(subs), "-o", str(out), "-j", "2"]
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    while len(records(out)) < 6:
        assert run.poll() is None, "the class finished before it could be killed: make the test class larger"
        assert time.monotonic() < deadline, "no student finished within 120 s"
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    before = records(out)
    workers_gone = no_workers_left(started)
    rerun = grade_class(subs, out)
    return subs, out, before, rerun, workers_gone


def test_a_killed_class_run_resumes_grading_only_the_students_left(resumed_class):
    _subs, out, before, rerun, workers_gone = resumed_class
    assert workers_gone, "workers of the killed run were left running"
    assert 6 <= len(before) < len(PINNED)
    assert rerun.returncode == 0, rerun.stderr
    assert planned(rerun) == (len(PINNED) - len(before), len(before))
    after = records(out)
    for student, mtime in before.items():
        assert after[student] == mtime, f"{student} was graded again"
    assert sorted(after) == sorted(PINNED)
    assert not list(out.rglob("*.part")), "a half-written file was left in OUTDIR"


def test_the_resumed_gradebook_is_the_same_as_an_uninterrupted_one(resumed_class):
    _subs, out, _before, _rerun, _workers_gone = resumed_class
    rows = read_gradebook(out)
    assert sorted(rows) == sorted(PINNED)
    for student, (score, _statuses, diagnoses, error) in PINNED.items():
        assert float(rows[student]["score"]) == score
        assert rows[student]["diagnoses"] == diagnoses
        assert rows[student]["error"].startswith(error)
    assert (out / "index.html").is_file()


@pytest.fixture
def regraded(resumed_class, tmp_path):
    """A copy of the finished class and its OUTDIR, to change and grade again."""
    subs, out, *_ = resumed_class
    shutil.copytree(subs, tmp_path / "submissions")
    shutil.copytree(out, tmp_path / "graded")
    return tmp_path / "submissions", tmp_path / "graded"


def test_changing_one_students_file_regrades_only_that_student(regraded):
    subs, out = regraded
    before = records(out)
    path = subs / "lee_jieun.py"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "return (f(x + h) - f(x)) / h  # 미분의 정의 그대로",
        "return (f(x + h) - f(x - h)) / (2 * h)  # 중심 차분으로 고침"), encoding="utf-8")
    proc = grade_class(subs, out)
    assert planned(proc) == (1, len(PINNED) - 1)
    after = records(out)
    assert [s for s in after if after[s] != before[s]] == ["lee_jieun"]
    assert float(read_gradebook(out)["lee_jieun"]["score"]) == 100


def test_touching_a_file_without_changing_it_regrades_nobody(regraded):
    subs, out = regraded
    os.utime(subs / "kim_minsu.py", (time.time() + 60, time.time() + 60))
    assert planned(grade_class(subs, out)) == (0, len(PINNED))


def test_student_option_regrades_that_student_and_a_new_student_is_graded_alone(regraded):
    subs, out = regraded
    before = records(out)
    proc = grade_class(subs, out, "--student", "kim_minsu")
    assert planned(proc) == (1, len(PINNED) - 1)
    assert records(out)["kim_minsu"] != before["kim_minsu"]
    shutil.copy(subs / "garcia_maria.py", subs / "new_student.py")
    (subs / "oh_sehun.py").unlink()  # a student who withdrew leaves the gradebook
    proc = grade_class(subs, out)
    assert planned(proc) == (1, len(PINNED) - 1)
    rows = read_gradebook(out)
    assert "new_student" in rows and "oh_sehun" not in rows
    assert float(rows["new_student"]["score"]) == 31.25


def test_an_interrupted_run_keeps_what_is_graded_writes_the_gradebook_and_cleans_up(tmp_path):
    started = time.time()
    subs, out = tmp_path / "submissions", tmp_path / "graded"
    shutil.copytree(CLASS, subs)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    run = subprocess.Popen([sys.executable, "-m", "grader.cli", "class", str(subs), "-o", str(out), "-j", "2"],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(records(out)) < 4:
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)  # `kill PID`, handled like Ctrl-C
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    rows = read_gradebook(out)
    assert set(rows) == set(records(out)) and 4 <= len(rows) < len(PINNED)
    assert "interrupted" in (out / "index.html").read_text(encoding="utf-8")
    assert no_workers_left(started)
    assert left_behind(started, pid=run.pid)[0] == []


def test_ctrl_c_writes_the_gradebook_and_the_overview_of_what_is_graded(tmp_path):
    started = time.time()
    subs, out = tmp_path / "submissions", tmp_path / "graded"
    shutil.copytree(CLASS, subs)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    # A session of its own: Ctrl-C in a terminal reaches the whole foreground group, as killpg does here.
    run = subprocess.Popen([sys.executable, "-m", "grader.cli", "class", str(subs), "-o", str(out), "-j", "2"],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    while len(records(out)) < 4:
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr + stdout
    rows = read_gradebook(out)
    assert set(rows) == set(records(out)) and 4 <= len(rows) < len(PINNED)
    assert "interrupted" in (out / "index.html").read_text(encoding="utf-8")
    assert no_workers_left(started)
    assert left_behind(started, pid=run.pid)[0] == []


def test_a_student_past_the_total_time_limit_is_stopped_and_the_class_goes_on(tmp_path):
    started = time.time()
    from conftest import SUBMISSIONS

    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copy(SUBMISSIONS / "hostile_infinite_loop.py", subs / "hang.py")  # numerical_diff never returns
    shutil.copy(CLASS / "garcia_maria.py", subs / "garcia.py")
    # Its first hanging call alone takes the 5 s per-call limit: it cannot finish within 2 s in all.
    proc = grade_class(subs, tmp_path / "out", "--student-timeout", "2")
    assert proc.returncode == 0, proc.stderr
    rows = read_gradebook(tmp_path / "out")
    assert rows["hang"]["error"] == "채점이 모두 합해 2초를 넘겨 중단했습니다"  # in the student's language
    assert 2 <= float(rows["hang"]["seconds"]) < 5
    assert float(rows["garcia"]["score"]) == 31.25 and rows["garcia"]["error"] == ""
    assert "1 in error" in proc.stdout
    assert no_workers_left(started)
