"""Expected values stay secret from students (issue 12): hidden cases show nothing in any format
``grade`` writes, and the instructor's secret salts the seeds of random cases."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SUBMISSIONS, builtin_manager, run_grade
from grader.specs.exercises import load_exercise
from grader.specs.instructor_secret import SECRET_ENV, salted_seed, use_secret
from grader.plugins import merged

SPEC = ROOT / "exercises" / "02_cross_entropy_error.toml"
SECRET = "correct horse battery staple, 2026"


@pytest.fixture
def secret():
    use_secret(SECRET)
    yield SECRET
    use_secret(None)


def _random_inputs() -> list:
    generators = merged(builtin_manager().hook.grader_generators())
    exercise = load_exercise(SPEC, generators)
    return [(case.seed, case.args) for case in exercise.cases if case.seed is not None]


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(sa == sb and all(
        (x == y).all() if hasattr(x, "shape") else x == y for x, y in zip(xa, xb)) for (sa, xa), (sb, xb) in zip(a, b))


def test_the_secret_changes_every_random_input_and_keeps_the_specs_seeds(secret):
    salted = _random_inputs()
    use_secret(None)
    plain = _random_inputs()
    assert [s for s, _ in salted] == [s for s, _ in plain] == [4201, 4202, 4203, 4204, 4205, 4206]
    for (_, a), (_, b) in zip(salted, plain):
        assert not (a[0].shape == b[0].shape and (a[0] == b[0]).all())


def test_the_same_secret_draws_the_same_inputs(secret):
    first = _random_inputs()
    use_secret(SECRET)
    assert _same(first, _random_inputs())
    use_secret(SECRET + "!")
    assert not _same(first, _random_inputs())


def test_without_a_secret_the_seed_is_the_specs(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert salted_seed(4201, "cross_entropy_error") == 4201
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert salted_seed(4201, "cross_entropy_error") != 4201
    assert salted_seed(4201, "cross_entropy_error") != salted_seed(4201, "sum_squares_error")


def _json_report(*args: str, env: dict | None = None) -> dict:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", **(env or {}))
    environment.pop(SECRET_ENV, None) if not env or SECRET_ENV not in env else None
    proc = subprocess.run([sys.executable, "-m", "grader.cli", *args, "-f", "json"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    for key in ("graded_at", "duration", "grader_version"):
        report.pop(key, None)
    for exercise in report["exercises"]:
        exercise.pop("duration", None)
    return report


def _expected(report: dict) -> dict[str, object]:
    """Each check's name -> the value it expected (JSON-ready: summaries for large arrays)."""
    return {c["name"]: json.dumps(c["expected"]) for e in report["exercises"] for c in e["checks"]}


ONLY = ("--only", "cross_entropy_error", "--only", "two_layer_net")


def test_a_table_harvested_without_the_secret_matches_nothing_in_the_instructors_run(tmp_path):
    submission = str(SUBMISSIONS / "correct.py")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    student = _json_report(submission, *ONLY)
    instructor = _json_report(submission, *ONLY, "--secret-file", str(secret_file))
    again = _json_report(submission, *ONLY, env={SECRET_ENV: SECRET})
    assert instructor == again  # the file and the variable are the same secret: the same report
    assert instructor["score"] == student["score"] == 40
    harvested, graded = _expected(student), _expected(instructor)
    assert harvested.keys() == graded.keys()
    random_cases = [name for name in harvested if "(seed " in name]
    assert len(random_cases) == 6
    # Under the secret a seeded case shows neither its inputs nor its answer (issue 20): a Gradescope
    # resubmission draws the same seeds, so what one report shows could be copied into the next.
    # (That the secret draws other inputs is pinned by the tests above.)
    checks = {c["name"]: c for e in instructor["exercises"] for c in e["checks"]}
    assert all(checks[name]["hidden"] and checks[name]["call"] == "" and checks[name]["expected"] is None
               for name in random_cases)
    assert all(not c["hidden"] for name, c in checks.items() if "(seed " not in name and name.startswith("book"))
    book = [name for name in harvested if name.startswith("book")]
    assert book and all(harvested[name] == graded[name] for name in book)  # the book's cases are the book's
    nets = [name for name in harvested if name.startswith(("predict on", "loss on"))]
    assert nets and all(harvested[name] != graded[name] for name in nets)  # named checks' inputs too
    assert SECRET not in json.dumps(instructor)


def test_a_bad_secret_file_is_a_usage_error_not_a_traceback(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    for path in (tmp_path / "missing.txt", empty):
        proc = run_grade(str(SUBMISSIONS / "correct.py"), "--secret-file", str(path))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--secret-file" in proc.stderr


LEAKER = '''import os
import numpy as np
def sum_squares_error(y, t):
    seen = repr(dict(os.environ))
    for path in ("/proc/self/environ", "/proc/%d/environ" % os.getppid()):
        try:
            seen += open(path, "rb").read().decode("utf-8", "replace")
        except OSError:
            pass
    raise ValueError(seen)
'''


def test_the_secret_never_reaches_the_worker_or_a_report(tmp_path):
    submission = tmp_path / "leaker.py"
    submission.write_text(LEAKER, encoding="utf-8")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET, encoding="utf-8")
    for fmt in ("json", "terminal", "html", "markdown", "junit", "gradescope"):
        proc = run_grade(str(submission), "--only", "sum_squares_error", "--secret-file", str(secret_file), "-f", fmt)
        assert proc.returncode == 1, proc.stderr
        assert "ValueError" in proc.stdout, fmt  # the student's error message, with what it could read, is shown
        assert SECRET not in proc.stdout + proc.stderr, fmt


HIDDEN_SPEC = '''
id = "double_it"
title = "Doubling"
section = "0.1"
points = 4
names = ["double_it"]
reference = "hidden_reference:double_it"

[[case]]
name = "double 2"
args = [2.0]

[[random]]
name = "a hidden random number"
generator = "quadratic_form"
params = { shape = [2] }
seeds = [77]
hidden = true
'''


def test_no_format_shows_a_hidden_cases_call_or_values(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "double_it.toml").write_text(HIDDEN_SPEC)
    (tmp_path / "specs" / "hidden_reference.py").write_text(
        "import numpy as np\ndef double_it(f, x=None):\n    return 2 * f if x is None else 2 * np.asarray(x)\n")
    student = tmp_path / "student.py"
    student.write_text("def double_it(f, x=None):\n    return 3 * f if x is None else 3 * x\n")
    for fmt in ("json", "terminal", "html", "markdown", "junit", "gradescope"):
        proc = run_grade(str(student), "--exercises", str(tmp_path / "specs"), "--only", "double_it", "-f", fmt)
        assert proc.returncode == 1, proc.stderr
        assert "Hidden case: failed" in proc.stdout, fmt
        assert "np.sum(C * x**2 + D * x)" not in proc.stdout and "C=np.array" not in proc.stdout, fmt
        assert "double_it(2.0)" in proc.stdout, fmt  # the visible case still shows what was called
    report = json.loads(run_grade(str(student), "--exercises", str(tmp_path / "specs"), "--only", "double_it",
                                  "-f", "json").stdout)
    hidden = [c for c in report["exercises"][0]["checks"] if c["hidden"]]
    assert len(hidden) == 1 and hidden[0]["call"] == "" and hidden[0]["expected"] is None \
        and hidden[0]["actual"] is None


def _class_expected(tmp_path, name: str, env: dict, *extra: str) -> dict[str, str]:
    subs, out = tmp_path / name / "subs", tmp_path / name / "out"
    subs.mkdir(parents=True, exist_ok=True)
    (subs / "kim.py").write_text((SUBMISSIONS / "correct.py").read_text(encoding="utf-8"), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    environment.update(PYTHONPATH=str(ROOT), NO_COLOR="1", **env)
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "class", str(subs), "-o", str(out), "-j", "1",
                           "--only", "cross_entropy_error", "--lang", "en", *extra], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    gradebook = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    (student,) = gradebook["students"]
    assert SECRET not in json.dumps(gradebook)
    return {c["name"]: json.dumps(c["expected"]) for e in student["report"]["exercises"] for c in e["checks"]}


@pytest.mark.usefixtures("class_isolation")
def test_a_class_graded_with_the_secret_draws_the_instructors_inputs(tmp_path):
    # The class's grading processes inherit the variable; the workers never do.
    plain = _class_expected(tmp_path, "plain", {})
    salted = _class_expected(tmp_path, "salted", {SECRET_ENV: SECRET})
    random_cases = [name for name in plain if "(seed 420" in name and "exact 0" not in name]
    assert len(random_cases) == 5 and all(plain[name] != salted[name] for name in random_cases)


@pytest.mark.usefixtures("class_isolation")
def test_a_class_graded_with_a_secret_file_draws_the_same_inputs_and_a_new_secret_regrades(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    salted = _class_expected(tmp_path, "variable", {SECRET_ENV: SECRET})
    from_file = _class_expected(tmp_path, "file", {}, "--secret-file", str(secret))
    assert from_file == salted
    # The class is up to date for this secret; another secret makes every student's inputs new.
    secret.write_text(SECRET + "-next year", encoding="utf-8")
    again = _class_expected(tmp_path, "file", {}, "--secret-file", str(secret))
    random_cases = [name for name in again if "(seed 420" in name and "exact 0" not in name]
    assert random_cases and all(again[name] != from_file[name] for name in random_cases)
