"""A CLI that CI can lean on: several reports per run, a report even when grading is impossible,
no overwritten inputs, time limits, clean stops, pipes, --version, --help and --fail-under."""
from __future__ import annotations

import json
import shutil
import tempfile
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import EXERCISE_IDS, ROOT, SUBMISSIONS, run_grade

EXAMPLE_PLUGIN = ROOT / "examples" / "dlfs-grader-chapter3"
MISTAKES = ROOT / "examples" / "chapter4_with_mistakes.py"


def grade_env(tmp: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(EXAMPLE_PLUGIN)]), NO_COLOR="1")
    env.update(extra)
    env.pop("FORCE_COLOR", None)
    if tmp is not None:  # the worker's folder goes here, so a test can see what is left behind
        env["TMPDIR"] = str(tmp)
    return env


def grade_cmd(*args: str, env: dict | None = None, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=ROOT, env=env or grade_env(),
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("dlfs-grade-"))


# ---- several formats, one grading -------------------------------------------------------------------

def test_one_run_writes_every_format_it_is_asked_for(tmp_path):
    (tmp_path / "tmp").mkdir()
    result = grade_cmd(str(SUBMISSIONS / "correct.py"), "-f", "terminal", "-f", "json", "-o", str(tmp_path / "r.json"),
                       "-f", "html", "-o", str(tmp_path / "r.html"), "-f", "junit", "-o", str(tmp_path / "j.xml"),
                       env=grade_env(tmp_path / "tmp"))
    assert result.returncode == 0, result.stderr
    assert leftovers(tmp_path / "tmp") == []  # a finished grading leaves no worker folder
    assert "Score: 100 / 100" in result.stdout  # the terminal report on stdout
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["score"] == 100 and data["assignment"] == "chapter4"
    from grader import __version__
    assert data["grader_version"] == __version__
    graded_at = data["graded_at"]
    assert graded_at.endswith("+00:00") and abs(time.time() - _epoch(graded_at)) < 300
    assert all(e["duration"] > 0 for e in data["exercises"]) and data["duration"] >= sum(
        e["duration"] for e in data["exercises"])
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    junit = ET.parse(tmp_path / "j.xml").getroot()
    assert "correct.py" in junit.get("name")
    suites = list(junit)
    assert all(s.get("timestamp") == graded_at[:19] for s in suites)
    assert all(float(s.get("time")) > 0 for s in suites)
    assert sum(float(c.get("time")) for s in suites for c in s.iter("testcase")) > 0
    assert result.stderr.count("report written to") == 3


def _epoch(stamp: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(stamp).timestamp()


@pytest.mark.parametrize("args, fragment", [
    (["-o", "a.json", "-f", "json", "-f", "html"], "does not follow a -f"),
    (["-f", "json", "-f", "markdown"], "only one format can go to standard output"),
    (["-f", "json", "-o", "same.json", "-f", "junit", "-o", "same.json"], "given twice"),
])
def test_badly_paired_formats_are_usage_errors(args, fragment):
    result = run_grade(str(SUBMISSIONS / "correct.py"), *args)
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr


# ---- a report even when the submission cannot be graded -----------------------------------------------

@pytest.mark.parametrize("source, reason", [
    ("def sum_squares_error(y, t)\n    return 0\n", "syntax error"),
    ("# nothing yet\n", "empty"),
    (bytes(range(256)) * 8, "binary"),
])
def test_an_ungradable_submission_still_gets_every_machine_report(tmp_path, source, reason):
    path = tmp_path / "submission.py"
    path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
    out = {fmt: tmp_path / name for fmt, name in (("json", "r.json"), ("junit", "j.xml"),
                                                   ("gradescope", "results.json"), ("markdown", "s.md"))}
    args = [arg for fmt, target in out.items() for arg in ("-f", fmt, "-o", str(target))]
    result = run_grade(str(path), *args)
    assert result.returncode == 2 and result.stderr.startswith("grade: error:") and reason in result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(out["json"].read_text(encoding="utf-8"))
    assert data["score"] == 0 and data["max_score"] == 100 and reason in data["error"]
    assert [e["id"] for e in data["exercises"]] == list(EXERCISE_IDS)
    junit = ET.parse(out["junit"]).getroot()
    assert int(junit.get("tests")) == 7 and int(junit.get("failures")) + int(junit.get("errors")) == 7
    results = json.loads(out["gradescope"].read_text(encoding="utf-8"))
    assert results["score"] == 0 and all(t["status"] == "failed" for t in results["tests"])
    assert reason in out["markdown"].read_text(encoding="utf-8")
    html_page = run_grade(str(path), "-f", "html").stdout
    assert 'class="report-error"' in html_page and reason in html_page


def test_an_ungradable_submission_gets_its_json_on_stdout_too(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json", encoding="utf-8")
    result = run_grade(str(path), "-f", "json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["score"] == 0 and "not a valid notebook" in result.stderr


# ---- inputs are never overwritten; files appear whole ---------------------------------------------------

def test_o_never_overwrites_the_submission_or_another_input(tmp_path):
    submission = tmp_path / "mine.py"
    original = (SUBMISSIONS / "correct.py").read_bytes()
    submission.write_bytes(original)
    linked = tmp_path / "report.json"
    os.link(submission, linked)  # another name for the same file
    plugin = tmp_path / "my_plugin.py"
    plugin.write_text("", encoding="utf-8")
    for target in (submission, linked, tmp_path / "other.py", plugin, tmp_path / "no_such_folder" / "r.json"):
        result = run_grade(str(submission), "--plugin", str(plugin), "-f", "json", "-o", str(target))
        assert result.returncode == 2 and "grade: error:" in result.stderr, target
    assert submission.read_bytes() == original and plugin.read_text() == ""
    assert not (tmp_path / "other.py").exists()


def test_a_report_file_is_replaced_whole_and_no_temporary_file_is_left(tmp_path):
    from grader.cli.report_files import write_atomically

    target = tmp_path / "report.json"
    target.write_text("old report", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(target, "half a report \ud800")  # fails while writing
    assert target.read_text(encoding="utf-8") == "old report"
    write_atomically(target, "new report")
    assert target.read_text(encoding="utf-8") == "new report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # an ordinary file, readable as usual


# ---- time limits and stops leave nothing behind -------------------------------------------------------------

SLOW = """
import time
import numpy as np

def sum_squares_error(y, t):
    time.sleep(1.5)
    return 0.5 * np.sum((y - t) ** 2)

def cross_entropy_error(y, t):
    time.sleep(1.5)
    return 0.0
"""


def test_the_total_time_limit_says_what_was_and_was_not_graded(tmp_path):
    (tmp_path / "tmp").mkdir()
    path = tmp_path / "slow.py"
    path.write_text(SLOW, encoding="utf-8")
    started = time.monotonic()
    result = grade_cmd(str(path), "--total-timeout", "4", "-f", "json", env=grade_env(tmp_path / "tmp"))
    elapsed = time.monotonic() - started
    data = json.loads(result.stdout)
    assert result.returncode == 1
    graded = [e["id"] for e in data["exercises"] if e["graded"]]
    not_graded = [e["id"] for e in data["exercises"] if not e["graded"]]
    assert "sum_squares_error" not in graded and "two_layer_net" in not_graded
    assert "total time limit (4 s" in data["error"] and f"{len(graded)} of 7 exercises graded" in data["error"]
    for e in data["exercises"]:
        if not e["graded"]:
            assert e["status"] == "timeout" and e["score"] == 0 and "--total-timeout" in e["message"]
    assert elapsed < 40, elapsed  # the limit, plus starting and stopping, not 7 exercises x 1.5 s x cases
    assert leftovers(tmp_path / "tmp") == []


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (a sandboxed worker runs a level or two down, in bwrap)."""
    found, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(_children(child))
    return found


def _processes_working_in(folder: Path) -> list[int]:
    """Live processes whose current folder is inside ``folder`` (the worker runs in its own folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd.startswith(str(folder)) and _alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see the worker process")
@pytest.mark.parametrize("signum, code, when", [(signal.SIGTERM, 143, "while grading"),
                                                (signal.SIGINT, 130, "while grading"),
                                                (signal.SIGTERM, 143, "as the worker starts")])
def test_a_stopped_grading_leaves_no_worker_and_no_folder(tmp_path, signum, code, when):
    (tmp_path / "tmp").mkdir()
    path = tmp_path / "hangs.py"
    path.write_text("import time\n\ndef sum_squares_error(y, t):\n    time.sleep(60)\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", str(path), "--timeout", "60"], cwd=ROOT,
                            env=grade_env(tmp_path / "tmp"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    # `grade` spawns the worker first thing (a sandboxed one has no folder on the host's disk).
    while time.monotonic() < deadline and not (_descendants(proc.pid) or leftovers(tmp_path / "tmp")):
        time.sleep(0.005)
    assert _descendants(proc.pid) or leftovers(tmp_path / "tmp"), "the worker was never started"
    if when == "while grading":
        while time.monotonic() < deadline and not workers:
            workers = _descendants(proc.pid)
            time.sleep(0.05)
        assert workers, "the worker never started"
        time.sleep(2.0)  # well into grading: the first call sleeps for a minute
        # The worker's whole tree (bwrap and the sandboxed interpreter, or a plain process).
        workers = _descendants(proc.pid)
        assert workers
    else:  # the worker is being spawned: bwrap may not have started its interpreter yet
        workers = _descendants(proc.pid)
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert leftovers(tmp_path / "tmp") == []
    time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)
    assert _processes_working_in(tmp_path / "tmp") == []


# ---- pipes, --version, --help, --fail-under --------------------------------------------------------------

def test_a_reader_that_stops_early_is_no_error():
    """`grade --list-exercises | head -1`: the pipe is closed before grade writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    result = subprocess.run([sys.executable, "-m", "grader.cli", "--list-exercises"], cwd=ROOT, env=grade_env(),
                            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert result.returncode == 0 and result.stderr == ""


def test_head_reads_the_first_exercise_quietly():
    result = subprocess.run(f"set -o pipefail; '{sys.executable}' -m grader.cli --list-exercises | head -1",
                            shell=True, executable="/bin/bash", cwd=ROOT, env=grade_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.split()[0] == "sum_squares_error"


def test_version_is_the_packages():
    from grader import __version__
    result = grade_cmd("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"grade (dlfs-grader) {__version__}"


def test_help_describes_every_subcommand_the_path_kinds_and_the_exit_codes():
    from grader.cli import SUBCOMMANDS
    text = grade_cmd("--help").stdout
    for name in SUBCOMMANDS:
        assert name in text
    for fragment in (".py file", "notebook (.ipynb)", "folder", "exit status", "3  an internal error",
                     "--fail-under", "--total-timeout", "--assignment", "-f terminal -f json -o report.json"):
        assert fragment in text, fragment


@pytest.mark.parametrize("threshold, code", [("70", 0), ("72.22", 0), ("80", 1), ("72%", 0), ("73%", 1)])
def test_fail_under_decides_the_exit_status_by_the_score(threshold, code):
    result = run_grade(str(MISTAKES), "--fail-under", threshold, "-f", "json")
    assert json.loads(result.stdout)["score"] == 72.22
    assert result.returncode == code, result.stderr
    assert ("below --fail-under" in result.stderr) == bool(code)


# ---- assignments -------------------------------------------------------------------------------------------

def test_an_installed_plugin_does_not_change_the_default_grade():
    alone = json.loads(run_grade(str(MISTAKES), "-f", "json").stdout)
    with_plugin = json.loads(grade_cmd(str(MISTAKES), "--plugin", "dlfs_grader_chapter3.plugin", "-f", "json").stdout)
    assert (alone["score"], alone["max_score"]) == (with_plugin["score"], with_plugin["max_score"]) == (72.22, 100)
    assert [e["id"] for e in with_plugin["exercises"]] == list(EXERCISE_IDS)


def test_a_plugins_assignment_is_chosen_by_name_and_listed():
    listing = grade_cmd("--plugin", "dlfs_grader_chapter3.plugin", "--list-assignments").stdout
    rows = {line.split()[0]: line for line in listing.splitlines()}
    assert "100 pts" in rows["chapter4"] and "20 pts" in rows["chapter3"]
    report = json.loads(grade_cmd(str(MISTAKES), "--plugin", "dlfs_grader_chapter3.plugin", "--assignment",
                                  "chapter3", "-f", "json").stdout)
    assert [e["id"] for e in report["exercises"]] == ["step_function", "sigmoid", "softmax"]
    assert report["max_score"] == 20 and report["assignment"] == "chapter3"


def test_an_instructors_toml_names_the_exercises_and_their_points(tmp_path):
    course = tmp_path / "my_course.toml"
    course.write_text('id = "week4"\ntitle = "Week 4"\n\n[points]\nnumerical_diff = 30\nsum_squares_error = 20\n',
                      encoding="utf-8")
    report = json.loads(run_grade(str(SUBMISSIONS / "correct.py"), "--assignment", str(course), "-f", "json").stdout)
    assert [(e["id"], e["max_score"]) for e in report["exercises"]] == [("numerical_diff", 30),
                                                                          ("sum_squares_error", 20)]
    assert report["score"] == report["max_score"] == 50 and report["assignment"] == "week4"


@pytest.mark.parametrize("text, fragment", [
    ('id = "x"\n[points]\nsoftmax = 10\n', "no loaded plugin provides"),
    ('id = "x"\n[points]\nnumerical_diff = "ten"\n', "expected a number of points"),
    ('id = "x"\nextra = 1\n[points]\nnumerical_diff = 1\n', "unknown field"),
])
def test_a_broken_assignment_is_a_clear_usage_error(tmp_path, text, fragment):
    course = tmp_path / "course.toml"
    course.write_text(text, encoding="utf-8")
    result = run_grade(str(SUBMISSIONS / "correct.py"), "--assignment", str(course))
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr


# ---- the student template -----------------------------------------------------------------------------------

def test_the_student_template_asks_for_what_the_grader_checks():
    """The grader checks integer-label batches of cross_entropy_error: the template may not call them optional."""
    import tomllib
    spec = tomllib.loads((ROOT / "exercises" / "02_cross_entropy_error.toml").read_text(encoding="utf-8"))
    assert any(r.get("params", {}).get("labels") == "int" for r in spec["random"])
    for template in ("chapter4.py", "chapter4.ipynb"):
        text = (ROOT / "student_template" / template).read_text(encoding="utf-8")
        assert "integer labels" in text and "Also graded" in text, template
        assert not [line for line in text.splitlines() if "ptional" in line and "label" in line], template


# ---- Gradescope ---------------------------------------------------------------------------------------------

def _bundle(tmp_path: Path, *args: str) -> Path:
    zipped = tmp_path / "autograder.zip"
    result = grade_cmd("gradescope-bundle", "-o", str(zipped), *args)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "autograder"  # a fake /autograder
    (root / "submission").mkdir(parents=True)
    import zipfile
    with zipfile.ZipFile(zipped) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder"} <= set(names)
        for name in ("setup.sh", "run_autograder"):
            assert (archive.getinfo(name).external_attr >> 16) & 0o111, f"{name} must be executable"
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)
        assert subprocess.run(["bash", "-n", str(root / "source" / name)]).returncode == 0
    return root


def _score_with_the_bundles_secret(root: Path) -> float:
    """The example's score from `grade` itself with the secret of the bundle unpacked in ``root``
    (each bundle has its own: a random case of the example's may pass with one and fail with another)."""
    result = run_grade(str(MISTAKES), "-f", "json", "--secret-file", str(root / "source" / "secret.txt"))
    return json.loads(result.stdout)["score"]


def _run_autograder(root: Path, python_path: str) -> dict:
    env = grade_env(root, AUTOGRADER_ROOT=str(root), DLFS_PYTHON=sys.executable, PYTHONPATH=python_path)
    result = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_the_gradescope_bundle_grades_a_submission_in_a_fake_autograder_layout(tmp_path):
    root = _bundle(tmp_path, "--lang", "ko", "--total-timeout", "50")
    # The grader shipped in the zip is complete: install it (without dependencies) and run that copy.
    target = tmp_path / "installed"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--target", str(target), str(root / "source" / "dlfs-grader")], capture_output=True,
                             text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    (root / "submission" / "chapter4.py").write_bytes(MISTAKES.read_bytes())
    results = _run_autograder(root, str(target))
    # The bundle's own secret draws the random cases: the score is what `grade` gives with it.
    assert results["score"] == _score_with_the_bundles_secret(root) and results["tests"]
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(100, abs=0.01)
    assert "점수" in results["output"]  # --lang ko was passed through
    # A submission that cannot be graded still gets its results.json, with score 0 and the reason.
    (root / "submission" / "chapter4.py").write_text("def broken(:\n", encoding="utf-8")
    results = _run_autograder(root, str(target))
    assert results["score"] == 0 and "chapter4.py" in results["output"]  # the reason, in Korean
    assert all(t["status"] == "failed" for t in results["tests"])


def test_the_gradescope_bundle_grades_with_a_secret_of_its_own(tmp_path):
    # Without a secret, an answer table harvested from `grade -f json` on a laptop fits the random
    # cases; each bundle has its own secret, which run_autograder passes and the student never sees.
    import zipfile
    secrets = []
    for name in ("a", "b"):
        zipped = tmp_path / f"{name}.zip"
        assert grade_cmd("gradescope-bundle", "-o", str(zipped)).returncode == 0
        with zipfile.ZipFile(zipped) as archive:
            info = archive.getinfo("secret.txt")
            assert (info.external_attr >> 16) & 0o777 == 0o600
            secrets.append(archive.read(info).decode().strip())
            assert '--secret-file "$SOURCE/secret.txt"' in archive.read("run_autograder").decode()
    assert len(secrets[0]) == 64 and secrets[0] != secrets[1]
    root = _bundle(tmp_path / "c")
    scores = {}
    for fixture in ("harvested_table.py", "harvested_table_twin.py"):
        (root / "submission" / "chapter4.py").write_bytes((SUBMISSIONS / fixture).read_bytes())
        scores[fixture] = _run_autograder(root, str(ROOT))["score"]
    assert scores["harvested_table.py"] <= scores["harvested_table_twin.py"], scores


def test_the_local_try_of_docs_ci_works_as_written_with_a_relative_root(tmp_path):
    # docs/ci.md: unpack into FAKE/source, a submission in FAKE/submission, then
    # AUTOGRADER_ROOT=FAKE DLFS_PYTHON=python bash FAKE/source/run_autograder (FAKE relative).
    root = _bundle(tmp_path)
    (root / "submission" / "chapter4.py").write_bytes(MISTAKES.read_bytes())
    env = grade_env(root, AUTOGRADER_ROOT=root.name, DLFS_PYTHON=sys.executable, PYTHONPATH=str(ROOT))
    result = subprocess.run(["bash", f"{root.name}/source/run_autograder"], cwd=root.parent, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))["score"] == \
        _score_with_the_bundles_secret(root)


def test_the_gradescope_bundle_carries_an_instructors_assignment_and_plugin_file(tmp_path):
    course = tmp_path / "week4.toml"
    course.write_text('id = "week4"\n[points]\nnumerical_diff = 40\n', encoding="utf-8")
    plugin = tmp_path / "week4_checks.py"
    plugin.write_text("from grader import hookimpl\nfrom grader.specs.exercises import CheckSpec\n"
                      "from grader.report import CheckResult\n\n"
                      "@hookimpl\ndef grader_checks():\n"
                      "    return {'week4.here': lambda ctx, spec: [CheckResult(spec.name, True, 'ok')]}\n\n"
                      "@hookimpl\ndef grader_exercise_checks(exercise):\n"
                      "    return [CheckSpec('week4.here', 'the course plugin ran')] "
                      "if exercise.id == 'numerical_diff' else []\n", encoding="utf-8")
    root = _bundle(tmp_path, "--assignment", str(course), "--plugin", str(plugin))
    assert (root / "source" / "assignment.toml").is_file()
    assert (root / "source" / "plugins" / "week4_checks.py").is_file()
    (root / "submission" / "chapter4.py").write_bytes((SUBMISSIONS / "correct.py").read_bytes())
    results = _run_autograder(root, str(ROOT))
    assert results["score"] == results["max_score"] == 40
    assert any(t["name"] == "numerical_diff: the course plugin ran" for t in results["tests"])


def test_an_error_message_quoting_the_submission_sends_no_escape_sequence_to_the_terminal(tmp_path):
    path = tmp_path / "colours.py"
    path.write_bytes(b'x = "\x1b[2J\x1b[31mred\n')  # an unterminated string: the syntax error quotes the line
    result = run_grade(str(path))
    assert result.returncode == 2 and "syntax error" in result.stderr
    assert "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr


def test_a_submission_whose_loading_outlasts_the_total_time_limit_gets_a_report_of_nothing_graded(tmp_path):
    (tmp_path / "tmp").mkdir()
    (tmp_path / "slow_helpers.py").write_text("import time\ntime.sleep(4)\n", encoding="utf-8")
    path = tmp_path / "chapter4.py"
    path.write_text("import slow_helpers\n\ndef numerical_diff(f, x):\n    return 0.0\n", encoding="utf-8")
    started = time.monotonic()
    result = grade_cmd(str(path), "--total-timeout", "1.5", "-f", "json", env=grade_env(tmp_path / "tmp"))
    assert time.monotonic() - started < 30
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert "nothing was graded" in data["error"] and data["score"] == 0
    assert all(not e["graded"] and e["status"] == "timeout" for e in data["exercises"])
    assert leftovers(tmp_path / "tmp") == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_in_or_as_a_submission_never_hangs_the_grader(tmp_path):
    (tmp_path / "chapter4.py").write_text("def sum_squares_error(y, t):\n    return 0.5 * ((y - t) ** 2).sum()\n",
                                          encoding="utf-8")
    os.mkfifo(tmp_path / "data.txt")  # nobody ever writes to it: reading it would block for ever
    os.mkfifo(tmp_path / "helpers.py")
    result = run_grade(str(tmp_path / "chapter4.py"), "--only", "sum_squares_error", "-f", "json", timeout=60)
    assert result.returncode == 0 and json.loads(result.stdout)["score"] == 10
    result = run_grade(str(tmp_path / "helpers.py"), timeout=60)
    assert result.returncode == 2 and "not a regular file" in result.stderr and "Traceback" not in result.stderr


def test_megabytes_of_generated_code_are_refused_at_once_with_a_report(tmp_path):
    block = "".join(f"a{i} = {i}\ndef f{i}(x):\n    return x + a{i}\n" for i in range(60_000))
    path = tmp_path / "generated.py"
    path.write_text(block, encoding="utf-8")
    assert path.stat().st_size > 2_000_000
    result = run_grade(str(path), "-f", "json", "-o", str(tmp_path / "report.json"), timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["score"] == 0 and "MB of code" in report["error"]


def test_an_output_file_alone_takes_its_format_from_its_extension(tmp_path):
    for name, looks_like in (("r.html", "<!DOCTYPE html>"), ("r.json", '"submission"'), ("r.md", "## ")):
        result = run_grade(str(SUBMISSIONS / "correct.py"), "--only", "sum_squares_error", "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        assert looks_like in (tmp_path / name).read_text(encoding="utf-8")[:400], name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_grading_killed_outright_takes_its_plain_worker_along_and_the_next_run_removes_its_folder(tmp_path):
    # A TMPDIR its workers' uids may enter (pytest's folders are root's alone): a root grader would
    # otherwise make their folders in /tmp instead (grader.worker.spawn.workdir_parent).
    tmp = Path(tempfile.mkdtemp(prefix="dlfs-test-tmpdir-", dir="/tmp"))
    tmp.chmod(0o755)
    try:
        _killed_outright(tmp_path, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _killed_outright(tmp_path: Path, tmp: Path) -> None:
    path = tmp_path / "hangs.py"
    path.write_text("import time\n\ndef sum_squares_error(y, t):\n    time.sleep(60)\n", encoding="utf-8")
    env = grade_env(tmp, DLFS_SANDBOX="off")
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", str(path), "--timeout", "60"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and not workers:
        workers = _descendants(proc.pid)
        time.sleep(0.05)
    time.sleep(2.0)  # well into the first call, which sleeps for a minute
    workers = _descendants(proc.pid)
    assert workers and leftovers(tmp)
    proc.kill()  # SIGKILL: no clean-up of the grader's own runs
    proc.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.02)
    assert not any(_alive(pid) for pid in workers)  # the kernel killed the worker with its parent
    stale = leftovers(tmp)
    assert stale  # the killed run could not remove its folder ...
    result = grade_cmd(str(SUBMISSIONS / "correct.py"), "-f", "json", env=env)
    assert result.returncode == 0
    assert leftovers(tmp) == []  # ... the next run did
