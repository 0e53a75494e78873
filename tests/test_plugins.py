"""Plugins and instructor authoring: everything a third party adds shows up in a real `grade` run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from conftest import EXERCISE_IDS, ROOT, SUBMISSIONS, run_grade

CLASSROOM_PLUGIN = '''
"""A classroom plugin: one exercise, one extra check on a built-in exercise, a diagnosis, a reporter."""
import sys
from pathlib import Path

from grader import hookimpl
from grader.diagnoses import DiagnosisRule
from grader.specs.exercises import CheckSpec
from grader.report import CheckResult

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the reference module sits beside this file


@hookimpl
def grader_exercise_dirs():
    return [HERE / "specs"]


def sse_is_symmetric(ctx, spec):
    import numpy as np
    y, t = np.array([0.1, 0.7, 0.2]), np.array([0.0, 1.0, 0.0])
    one = ctx.worker.call(ctx.primary.target, (y, t))
    two = ctx.worker.call(ctx.primary.target, (t, y))
    ok = one.ok and two.ok and abs(float(one.value) - float(two.value)) < 1e-12
    return [CheckResult(spec.name, ok, "E(y, t) == E(t, y)" if ok else "E(y, t) != E(t, y)")]


@hookimpl
def grader_checks():
    return {"classroom.symmetric": sse_is_symmetric}


@hookimpl
def grader_exercise_checks(exercise):
    if exercise.id == "sum_squares_error":
        return [CheckSpec("classroom.symmetric", "the error does not depend on the order of y and t")]
    return []


@hookimpl
def grader_diagnoses():
    return [DiagnosisRule("triples-instead", ("double_it",), "Your function multiplies by 3, not 2.",
                          lambda e: any(o.actual is not None and o.args and abs(float(o.actual) - 3 * float(o.args[0]))
                                        < 1e-12 for o in e.failed()))]


@hookimpl
def grader_reporters():
    return {"count": lambda report, tty=False: f"{sum(c.passed for e in report.exercises for c in e.checks)} "
                                               f"checks passed\\n"}
'''

CLASSROOM_SPEC = '''
id = "double_it"
title = "Doubling"
section = "0.1"
points = 4
names = ["double_it"]
reference = "classroom_reference:double_it"

[[case]]
name = "double 2"
args = [2.0]
book_value = 4.0

[[case]]
name = "double 5, a hidden case worth three"
args = [5.0]
weight = 3
hidden = true
'''


@pytest.fixture
def classroom(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "double_it.toml").write_text(CLASSROOM_SPEC)
    (tmp_path / "classroom_reference.py").write_text("def double_it(x):\n    return 2 * x\n")
    plugin = tmp_path / "classroom_plugin.py"
    plugin.write_text(CLASSROOM_PLUGIN)
    return plugin


def _submission(tmp_path, factor: int) -> Path:
    path = tmp_path / "student.py"
    path.write_text("import numpy as np\n"
                    f"def double_it(x):\n    return {factor} * x\n"
                    "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2)\n")
    return path


def test_a_plugin_adds_an_exercise_a_check_a_diagnosis_and_a_reporter(tmp_path, classroom):
    student = _submission(tmp_path, 3)
    result = run_grade(str(student), "--plugin", str(classroom), "--only", "double_it", "--only",
                       "sum_squares_error", "-f", "json")
    report = json.loads(result.stdout)
    by_id = {e["id"]: e for e in report["exercises"]}
    assert by_id["double_it"]["status"] == "failed"
    assert [d["id"] for d in by_id["double_it"]["diagnoses"]] == ["triples-instead"]
    added = [c for c in by_id["sum_squares_error"]["checks"] if c["name"].startswith("the error does not depend")]
    assert len(added) == 1 and added[0]["passed"]
    counted = run_grade(str(student), "--plugin", str(classroom), "-f", "count")
    assert counted.returncode == 1 and counted.stdout.strip().endswith("checks passed")


def test_hidden_cases_stay_out_of_every_report_json_included(tmp_path, classroom):
    # JSON too (issue 12): students run `grade -f json` on their own machines.
    student = _submission(tmp_path, 3)
    report = json.loads(run_grade(str(student), "--plugin", str(classroom), "--only", "double_it", "-f",
                                  "json").stdout)
    hidden = [c for c in report["exercises"][0]["checks"] if c["hidden"]]
    assert len(hidden) == 1 and hidden[0]["call"] == "" and hidden[0]["expected"] is None
    for fmt in ("json", "terminal", "html", "markdown", "junit", "gradescope"):
        text = run_grade(str(student), "--plugin", str(classroom), "--only", "double_it", "-f", fmt).stdout
        assert "double_it(5.0)" not in text and "Hidden case: failed" in text, fmt
        assert "double_it(2.0)" in text, fmt  # the visible case still shows what was called


def test_check_weights_give_partial_credit(tmp_path, classroom):
    student = tmp_path / "student.py"
    student.write_text("def double_it(x):\n    return 4.0 if x == 2 else 0.0\n")  # right on the visible case only
    report = json.loads(run_grade(str(student), "--plugin", str(classroom), "--only", "double_it", "-f",
                                  "json").stdout)
    exercise = report["exercises"][0]
    assert exercise["status"] == "partial" and exercise["score"] == pytest.approx(1.0)  # 4 points x 1/(1+3)


def test_exercises_from_a_folder_list_their_source(tmp_path, classroom):
    specs = tmp_path / "specs"
    shutil.copy(tmp_path / "classroom_reference.py", specs / "classroom_reference.py")
    listing = run_grade("--exercises", str(specs), "--list-exercises")
    line = next(l for l in listing.stdout.splitlines() if l.startswith("double_it"))
    assert f"[--exercises {specs}]" in line
    assert all(any(l.startswith(i) for l in listing.stdout.splitlines()) for i in EXERCISE_IDS)
    plugins = run_grade("--plugin", str(classroom), "--list-plugins").stdout
    assert f"--plugin {classroom}" in plugins and "grader.reporters.html" in plugins


def test_a_plugins_exercise_replaces_a_built_in_one_with_the_same_id(tmp_path):
    spec = (ROOT / "exercises" / "01_sum_squares_error.toml").read_text(encoding="utf-8")
    (tmp_path / "sse.toml").write_text(spec.replace('title = "Sum of squares error"', 'title = "Our own SSE"'))
    listing = run_grade("--exercises", str(tmp_path), "--list-exercises").stdout.splitlines()
    assert [l.split()[0] for l in listing] == list(EXERCISE_IDS)  # same place in the book's order
    assert "Our own SSE" in listing[0] and f"[--exercises {tmp_path}]" in listing[0]


def test_removing_a_built_in_plugin_removes_what_it_provides():
    from grader.plugins import DEFAULT_PLUGINS, make_manager, merged
    from grader.specs.loading import load_exercises

    without = make_manager([p for p in DEFAULT_PLUGINS if p != "grader.specs.builtin_exercises"], entry_points=False)
    assert load_exercises(without) == []
    assert [e.id for e in load_exercises(make_manager(entry_points=False))] == list(EXERCISE_IDS)
    no_html = make_manager([p for p in DEFAULT_PLUGINS if p != "grader.reporters.html"], entry_points=False)
    assert "html" not in merged(no_html.hook.grader_reporters())


@pytest.mark.parametrize("source, fragment", [
    ("raise RuntimeError('boom')\n", "could not be loaded: RuntimeError: boom"),
    ("from grader import hookimpl\n@hookimpl\ndef grader_exercise_dir():\n    return []\n", "grader_exercise_dir"),
])
def test_a_broken_plugin_is_named_in_a_clear_error(tmp_path, source, fragment):
    plugin = tmp_path / "broken_plugin.py"
    plugin.write_text(source)
    result = run_grade(str(SUBMISSIONS / "correct.py"), "--plugin", str(plugin))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "broken_plugin" in result.stderr and fragment in result.stderr


# ---- grade check-exercises -----------------------------------------------------------------------

def test_check_exercises_passes_on_the_built_in_exercises():
    result = run_grade("check-exercises", str(ROOT / "exercises"))
    assert result.returncode == 0, result.stdout
    assert "7 passed, 0 failed" in result.stdout


@pytest.mark.parametrize("edit, fragment", [
    (lambda s: s.replace('points = 10\n', 'points = 10\ntolerance = 0.1\n'), "unknown field(s) tolerance"),
    (lambda s: s.replace("book_value = 0.09750000000000003", "book_value = 0.0975001"),
     "is most likely\".book_value: the reference gives 0.09750000000000003, not 0.0975001"),
    (lambda s: s.replace('reference = "grader._reference.functions:sum_squares_error"',
                         'reference = "grader._reference.functions:sum_of_squares"'), "cannot be imported"),
    (lambda s: s.replace("points = 10", 'points = "ten"'), ".points: expected a number, got 'ten'"),
    (lambda s: s.replace('names = ["sum_squares_error"', 'unused = 0\nnames = ["sum_squares_error"'),
     "unknown field(s) unused"),
    (lambda s: s.replace("book_value = 0.5975", "book_value = 0.5975\nunchanged = [4]"),
     ".unchanged: 4 is not the position of an argument (0 to 1)"),
])
def test_check_exercises_points_at_the_file_and_field_of_each_problem(tmp_path, edit, fragment):
    spec = (ROOT / "exercises" / "01_sum_squares_error.toml").read_text(encoding="utf-8")
    broken = tmp_path / "01_sum_squares_error.toml"
    broken.write_text(edit(spec), encoding="utf-8")
    result = run_grade("check-exercises", str(tmp_path))
    assert result.returncode == 1 and "0 passed, 1 failed" in result.stdout
    assert str(broken) in result.stdout
    assert fragment in result.stdout


# ---- pytest --grade --------------------------------------------------------------------------------

def _pytest_grade(target: Path, *extra: str) -> subprocess.CompletedProcess:
    installed = any(e.value == "grader.pytest_plugin" for e in entry_points(group="pytest11"))
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--grade", str(target), *extra]
    if not installed:
        args[3:3] = ["-p", "grader.pytest_plugin"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(args, cwd=target.parent, env=env, capture_output=True, text=True, timeout=300)


def _summary(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_pytest_grade_passes_every_check_of_a_correct_submission():
    result = _pytest_grade(SUBMISSIONS / "template_filled.py")
    assert result.returncode == 0, result.stdout
    assert "53 passed" in _summary(result.stdout) or " passed" in _summary(result.stdout)
    assert "failed" not in _summary(result.stdout)


def test_pytest_grade_fails_exactly_the_checks_a_mistake_breaks(tmp_path):
    junit = tmp_path / "junit.xml"
    result = _pytest_grade(SUBMISSIONS / "mistake_forward_difference.py", f"--junit-xml={junit}")
    assert result.returncode == 1
    failed = [l for l in result.stdout.splitlines() if l.startswith("FAILED")]
    assert len(failed) == 7 and all("::numerical_diff::" in l for l in failed)
    assert "forward-difference" in result.stdout
    assert junit.exists() and 'failures="7"' in junit.read_text()


def test_pytest_grade_shows_no_control_character_a_submission_prints(tmp_path):
    student = tmp_path / "escapes.py"
    student.write_text("import numpy as np\n\ndef sum_squares_error(y, t):\n"
                       "    raise ValueError('\\x1b]0;pwned\\x07\\x1b[2J')\n", encoding="utf-8")
    result = _pytest_grade(student, "-k", "sum_squares_error")
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "pwned" in result.stdout  # the message is there, its escapes made visible


def test_pytest_grade_selects_exercises_with_k():
    result = _pytest_grade(SUBMISSIONS / "mistake_forward_difference.py", "-k", "gradient_descent")
    assert result.returncode == 0
    assert "5 passed" in _summary(result.stdout) and "deselected" in _summary(result.stdout)


# ---- an installed plugin package ---------------------------------------------------------------------

EXAMPLE = ROOT / "examples" / "dlfs-grader-chapter3"


@pytest.mark.skipif(not (EXAMPLE / "pyproject.toml").exists(), reason="the example plugin package is not there")
def test_an_installed_plugin_package_is_discovered_through_its_entry_point(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The grader and its dependencies come from this environment; the plugin is installed into the new one.
    here = [p for p in sys.path if p and Path(p).is_dir() and ("site-packages" in p or p == str(ROOT))]
    (site / "dlfs_grader_host.pth").write_text("\n".join([str(ROOT)] + here) + "\n")
    # Build from a copy: a build leaves *.egg-info beside the sources, and metadata there would
    # make every later grader in this test run discover the plugin.
    source = tmp_path / "dlfs-grader-chapter3"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--target", str(site), str(source)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    listing = subprocess.run([str(python), "-m", "grader.cli", "--list-exercises"], capture_output=True, text=True,
                             env=env, cwd=tmp_path, timeout=120)
    assert listing.returncode == 0, listing.stderr
    added = [l for l in listing.stdout.splitlines() if "entry point" in l]
    assert added and all("dlfs-grader-chapter3" in l for l in added)
    assert {l.split()[0] for l in listing.stdout.splitlines()} >= set(EXERCISE_IDS)
