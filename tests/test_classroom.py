"""`grade class`: a class of 20 students graded end to end, every gradebook row pinned.

The class (tests/fixtures/classes/ch4) holds correct and one-mistake files, the seed notebooks
(Korean, Chinese, Japanese), a folder with its own common/, a zip and a tar.gz, a Canvas-named
file, a syntax error, a cp949 file, a hard-coder, a student whose code ends the process, and a
student who goes looking for classmates' files (with its honest twin).
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EXERCISE_IDS, ROOT, machine_lacks, run_grade

CLASS = ROOT / "tests" / "fixtures" / "classes" / "ch4"

# student: (score, per-exercise status in EXERCISE_IDS order, diagnoses, error starts with)
PINNED = {
    "broken_baek": (0, "", "", "broken_baek.py: "),
    # t * np.log(y): no delta, and one-hot labels only (integer labels cannot broadcast): both in the code.
    "cho_hyun": (85, "passed failed passed passed passed passed passed", "cee-missing-delta;cee-one-hot-only", ""),
    # In the sandbox it reads nothing: 0.0 for every input, an answer computed from nothing.
    "choi_snoop": (0, "missing failed missing missing missing missing missing", "constant-result", ""),
    # Up to numerical_diff only. Its cross_entropy_error takes one-hot labels only: 6 of its 8 cases
    # pass (the two batches of integer labels fail), 6/8 of 15 = 11.25; with SSE and numerical_diff, 31.25.
    "garcia_maria": (31.25, "passed partial passed missing missing missing missing", "cee-one-hot-only", ""),
    # Everything right but the softmax of simpleNet's loss overflows at logits near 1000: one of
    # simpleNet's 8 checks fails, 1/8 of 15 = 1.88 lost.
    "han_byul": (98.12, "passed passed passed passed passed partial passed", "softmax-overflow", ""),
    # Saved as cp949 on Windows without a coding line: read as Python would on that laptop (issue 8).
    "jang_cp949": (90, "passed passed failed passed passed passed passed", "step-too-small", ""),
    "jung_twin": (0, "missing failed missing missing missing missing missing", "constant-result", ""),
    "kang_dong": (90, "passed passed passed passed failed passed passed", "gradient-ascent", ""),
    "kim_minsu": (100, "passed passed passed passed passed passed passed", "", ""),
    "lee_jieun": (90, "passed passed failed passed passed passed passed", "forward-difference", ""),
    "lim_nari": (100, "passed passed passed passed passed passed passed", "", ""),
    "nam_gyu": (65, "missing passed missing missing passed passed passed", "", ""),
    # Hard-coded answers earn nothing (issue 8); its net's honest checks keep their points, and its
    # zero gradients earn nothing for leaving the params alone (issue 12: was 5.0).
    "oh_sehun": (2.78, "failed failed failed failed failed failed partial", "hard-coded;init-scale-ignored", ""),
    # A numerical_gradient that raises on 2-D input loses those cases' unchanged checks too (issue 12).
    "park_seoyeon": (84.0, "passed passed missing partial passed passed passed", "gradient-1d-only", ""),
    "smithjohn": (90, "failed passed passed passed passed passed passed", "sse-missing-half", ""),
    # Batches summed, not averaged, and one-hot labels only: only the 3 single-sample cases of
    # cross_entropy_error pass, 3/8 of 15 = 5.62; with SSE and numerical_diff, 25.62.
    "suzuki_ichiro": (25.62, "passed partial passed missing missing missing missing",
                      "cee-batch-not-averaged;cee-one-hot-only", ""),
    # Their cross_entropy_error lives in their own common/functions.py: their work, graded (their
    # own wording of it: the book's own version there would be the book's, issue 19).
    "tanaka": (75, "passed passed passed passed passed passed missing", "", ""),
    "wang_fang": (75, "passed passed passed passed passed passed missing", "", ""),
    # SSE and CEE imported from common.functions (not their own work: missing); their
    # numerical_gradient handles 1-D x only, so the 2-D cases and their unchanged-input checks fail:
    # 6 of 10 checks, 9 of 15.
    "yamada_taro": (69.0, "missing missing passed partial passed passed passed", "gradient-1d-only", ""),
    # Its crashing net.numerical_gradient loses the params check too; backprop weighs 0 (issue 12).
    "yoon_ara": (69.44, "passed passed passed error error passed partial", "depends-on-failing", ""),
}
LANGUAGES = {"kim_minsu": "ko", "park_seoyeon": "ko", "wang_fang": "zh", "yamada_taro": "ja", "tanaka": "ja",
             "suzuki_ichiro": "ja", "garcia_maria": "en", "smithjohn": "en"}


# The class's OUTDIR secret, written before its first run. `grade class` makes a new secret for a new
# OUTDIR, and each secret draws other random inputs: the verdicts pinned above are those of this one.
# (That a verdict does not depend on the draw is benchmarks/secret_sensitivity.py's to measure.)
CLASS_SECRET = "the pinned class's secret"


def keep_class_secret(out: Path) -> None:
    """OUTDIR's secret, as `grade class` keeps it there (mode 0600), unless the run already has one."""
    kept = out / ".instructor-secret"
    if not kept.exists():
        out.mkdir(parents=True, exist_ok=True)
        kept.write_text(CLASS_SECRET + "\n", encoding="utf-8")
        kept.chmod(0o600)


def grade_class(subs: Path, out: Path, *extra: str, timeout: float = 300,
                tmpdir: Path | None = None) -> subprocess.CompletedProcess:
    """``tmpdir``: the run's own TMPDIR, so that what it leaves there is its own doing."""
    if "--secret-file" not in extra:
        keep_class_secret(out)
    return run_grade("class", str(subs), "-o", str(out), "-j", "2", *extra, timeout=timeout,
                     env={"TMPDIR": str(tmpdir)} if tmpdir else None)


def read_gradebook(out: Path) -> dict[str, dict[str, str]]:
    text = (out / "gradebook.csv").read_bytes().decode("utf-8-sig")
    return {row["student"]: row for row in csv.DictReader(io.StringIO(text))}


def gradebook_without_times(out: Path) -> dict[str, dict[str, str]]:
    return {name: {k: v for k, v in row.items() if k != "seconds"} for name, row in read_gradebook(out).items()}


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The fixture class copied and graded once with -j 2: (SUBMISSIONS, OUTDIR, the finished process)."""
    base = tmp_path_factory.mktemp("class")
    subs, out = base / "submissions", base / "graded"
    shutil.copytree(CLASS, subs)
    started = time.time()
    (base / "tmp").mkdir()
    proc = grade_class(subs, out, tmpdir=base / "tmp")
    proc.finished = time.time()
    return subs, out, proc, started


@pytest.mark.usefixtures("class_isolation")
def test_every_gradebook_row_of_the_class_is_pinned(graded_class):
    _subs, out, proc, _started = graded_class
    assert proc.returncode == 0, proc.stderr
    rows = read_gradebook(out)
    assert list(rows) == sorted(PINNED)  # one row per student, in order
    header = list(next(iter(rows.values())))
    assert header[:3] == ["student", "score", "max_score"]
    assert header[3:3 + 2 * len(EXERCISE_IDS)] == [c for e in EXERCISE_IDS for c in (e, f"{e}_status")]
    assert header[-3:] == ["diagnoses", "seconds", "error"]
    for student, (score, statuses, diagnoses, error) in PINNED.items():
        row = rows[student]
        assert float(row["score"]) == score, student
        assert row["max_score"] == "100"
        assert " ".join(row[f"{e}_status"] for e in EXERCISE_IDS).strip() == statuses, student
        assert row["diagnoses"] == diagnoses, student
        assert row["error"].startswith(error) and bool(row["error"]) == bool(error), (student, row["error"])
        assert float(row["seconds"]) > 0
        if not error:
            assert sum(float(row[e] or 0) for e in EXERCISE_IDS) == pytest.approx(score, abs=0.02)


@pytest.mark.usefixtures("class_isolation")
def test_bad_students_never_stop_the_class_and_are_counted_at_the_end(graded_class):
    _subs, out, proc, _started = graded_class
    assert "20 students" in proc.stdout
    assert "20 in the gradebook, 1 in error" in proc.stdout
    assert "✘ broken_baek: broken_baek.py: " in proc.stdout and "✘ jang_cp949" not in proc.stdout
    # The error names the file as the student named it, not the staged copy.
    assert "dlfs-class-" not in (out / "gradebook.csv").read_text(encoding="utf-8-sig")
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.usefixtures("class_isolation")
def test_each_student_has_an_html_and_a_json_report_in_their_own_language(graded_class):
    _subs, out, _proc, _started = graded_class
    book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    by_name = {s["student"]: s for s in book["students"]}
    for student in PINNED:
        assert (out / "reports" / f"{student}.html").is_file()
        assert (out / "reports" / f"{student}.json").is_file()
        assert not (out / "reports" / f"{student}.md").exists()  # Markdown only with --markdown
    for student, lang in LANGUAGES.items():
        assert by_name[student]["lang"] == lang, student
        page = (out / "reports" / f"{student}.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in page
    report = json.loads((out / "reports" / "kim_minsu.json").read_text(encoding="utf-8"))
    assert report["score"] == 100 and report["submission"] == "kim_minsu.py"
    assert by_name["kim_minsu"]["report"]["score"] == 100  # gradebook.json holds every full report
    assert by_name["tanaka"]["files"] == ["tanaka"] and by_name["smithjohn"]["layout"] == "canvas"
    assert by_name["suzuki_ichiro"]["files"] == ["suzuki_ichiro.zip"]
    # A student who could not be graded still gets a page saying why, in their language's frame.
    error_page = (out / "reports" / "broken_baek.html").read_text(encoding="utf-8")
    assert "broken_baek.py" in error_page and 'id="error"' in error_page


@pytest.mark.usefixtures("class_isolation")
def test_a_student_finds_none_of_their_classmates_files(graded_class, tmp_path):
    _subs, out, _proc, _started = graded_class
    # choi_snoop walks '.', '..', '../..' and '../../..' three levels deep, opens every .py it finds
    # and runs its definitions; its cross_entropy_error returns how many files it could read.
    snoop = json.loads((out / "reports" / "choi_snoop.json").read_text(encoding="utf-8"))
    cee = next(e for e in snoop["exercises"] if e["id"] == "cross_entropy_error")
    assert {c["actual"] for c in cee["checks"] if c["actual"] is not None} == {0.0}
    twin = json.loads((out / "reports" / "jung_twin.json").read_text(encoding="utf-8"))
    assert snoop["score"] == twin["score"] == 0
    # The same probe does find a classmate's file where one is within reach (graded the old way,
    # beside it), so the zero above is isolation, not a probe that never looks. Here it walks its own
    # folder only: walking the machine's folders runs past the time limit of a statement, and a
    # statement cut short counts as not run at all (its half-done effects would depend on the load).
    probe = (CLASS / "choi_snoop.py").read_text(encoding="utf-8")
    walk = 'for start in (".", "..", os.path.join("..", ".."), os.path.join("..", "..", "..")):'
    assert walk in probe
    (tmp_path / "choi_snoop.py").write_text(probe.replace(walk, 'for start in (".",):'), encoding="utf-8")
    shutil.copy(CLASS / "kim_minsu.py", tmp_path)
    alone = json.loads(run_grade(str(tmp_path / "choi_snoop.py"), "-f", "json", "--only", "cross_entropy_error").stdout)
    if alone["isolation"] != "namespaces+seccomp":
        machine_lacks("sandbox", "without the namespace sandbox the probe walks the whole machine and runs out of its "
                                 "budget")
    read = {c["actual"] for e in alone["exercises"] for c in e["checks"] if c["actual"] is not None}
    assert min(read) >= 1  # kim_minsu.py, handed in beside it, is read


def process_started_at(stat: str) -> float:
    """When a process began (seconds since the epoch, to within a second), from its /proc/PID/stat."""
    ticks = int(stat.rsplit(")", 1)[1].split()[19])
    boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def left_behind(since: float, until: float | None = None, pid: int | None = None) -> tuple[list[Path], list[int]]:
    """What the test's own runs left: class folders of runs that are over (made after ``since``, or
    by ``pid``), and workers of this checkout started between ``since`` and ``until`` (a second's
    slack: the boot time has whole seconds) that lost their grading process and are not yet ended.

    Another test's leftovers, and other class runs on the machine, are not this test's to judge: a
    leak is failed once, by the test that made it."""
    import tempfile

    from grader.classroom.pool import CLASS_TMP_PREFIX
    from grader.worker.cleanup import alive as _alive

    def owner(path: Path) -> int:
        return int(path.name[len(CLASS_TMP_PREFIX):].split("-")[0])

    folders = [p for p in Path(tempfile.gettempdir()).glob(f"{CLASS_TMP_PREFIX}*")
               if not _alive(owner(p)) and (owner(p) == pid if pid else p.stat().st_ctime >= since)]
    runner = str(ROOT / "grader" / "worker" / "runner.py")
    pids = subprocess.run(["pgrep", "-f", runner], capture_output=True, text=True).stdout.split()
    orphans = []
    for found in pids:
        try:
            stat = Path(f"/proc/{found}/stat").read_text()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        started = process_started_at(stat)
        if started < since - 1 or (until is not None and started > until + 1):
            continue  # another test's
        if int(parent) == 1 and state != "Z":  # its grading process is gone, and it still runs
            orphans.append(int(found))
    return folders, orphans


def test_a_class_run_leaves_no_process_and_no_temporary_folder_behind(graded_class):
    _subs, out, proc, started = graded_class
    # The run had a TMPDIR of its own: nothing another test (or another run on the machine) left counts.
    assert sorted((out.parent / "tmp").iterdir()) == []
    assert left_behind(started, proc.finished)[1] == []
