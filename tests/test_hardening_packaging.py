"""What `pip install .` installs: no top-level names a student may use, the dependencies `pytest --grade` needs,
and a grader that works from the installed copy alone."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from conftest import EXERCISE_IDS, ROOT, SUBMISSIONS, grade_path, statuses

PROJECT = ("pyproject.toml", "setup.py", "README.md", "grader", "reference", "exercises")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy: a build leaves build/ and *.egg-info beside the sources.
    source = tmp_path_factory.mktemp("source")
    for name in PROJECT:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                             "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (built,) = dist.glob("dlfs_grader-*.whl")
    (dist / "build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    return built


def test_the_package_builds_without_a_warning_that_will_one_day_stop_the_build(wheel):
    # setuptools stops building a TOML-table license after 2027-02-18, and warns of data folders
    # (templates/, locale/) that are importable but not declared packages.
    log = (wheel.parent / "build.log").read_text(encoding="utf-8")
    assert "SetuptoolsDeprecationWarning" not in log and "is absent from the `packages` configuration" not in log


def test_the_installed_package_claims_no_top_level_name_but_grader(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"grader"}
    assert "grader/_reference/functions.py" in names and "grader/specs/_exercises/01_sum_squares_error.toml" in names
    assert "grader/specs/_exercises/assignments/chapter4.toml" in names
    assert "grader/_reference.py" not in names and "grader/specs/_exercises.py" not in names  # checkout stand-ins


def test_pytest_and_polib_come_with_the_grader(wheel):
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
        entry_points = archive.read(metadata_name.replace("METADATA", "entry_points.txt")).decode("utf-8")
    required = {r.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
                for r in metadata.get_all("Requires-Dist") if "extra ==" not in r}
    assert {"pytest", "polib", "numpy", "pluggy"} <= required  # `pytest --grade` works after `pip install .`
    assert "grader.pytest_plugin" in entry_points and "grader.cli:run" in entry_points
    from grader import __version__
    assert metadata["Version"] == __version__


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                              str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    return target


def test_the_installed_copy_grades_on_its_own(installed, tmp_path):
    target = installed
    env = dict(os.environ, PYTHONPATH=str(target), NO_COLOR="1")  # not the checkout
    submission = tmp_path / "chapter4.py"
    submission.write_bytes((SUBMISSIONS / "correct.py").read_bytes())
    result = subprocess.run([sys.executable, "-m", "grader.cli", "chapter4.py", "-f", "json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["score"] == 100 and [e["id"] for e in report["exercises"]] == list(EXERCISE_IDS)
    probe = subprocess.run([sys.executable, "-c", "import grader.cli, grader._reference.functions as f; "
                            "print(f.__file__)"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.startswith(str(target / "grader" / "_reference"))


def test_the_grader_never_imports_the_checkouts_top_level_reference_or_exercises():
    # They exist only in a checkout: installed, they are grader._reference and grader's exercise data,
    # and an import of them fails there (a diagnosis rule that fails silently does not apply).
    import ast
    found = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names
                      if name.partition(".")[0] in ("reference", "exercises")]
    assert found == []


def test_the_installed_copy_names_the_mistakes_the_checkout_names(installed, tmp_path):
    # x = lr * grad, and the book's row-wise gradient_2d: both rules compute with the reference gradient.
    env = dict(os.environ, PYTHONPATH=str(installed), NO_COLOR="1")
    mistakes = ROOT / "tests" / "fixtures" / "students" / "mistakes"
    for name, exercise, diagnosis in (("descent_assigns.py", "gradient_descent", "descent-assigns-step"),
                                      ("book_gradient_2d.py", "numerical_gradient", "gradient-row-wise")):
        (tmp_path / name).write_bytes((mistakes / name).read_bytes())
        result = subprocess.run([sys.executable, "-m", "grader.cli", name, "-f", "json", "--only", exercise],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        graded = json.loads(result.stdout)["exercises"][0]
        assert [d["id"] for d in graded["diagnoses"]] == [diagnosis], (name, graded["diagnoses"])
        here = grade_path(mistakes / name, only=(exercise,)).exercises[0]
        assert (graded["status"], graded["score"]) == (here.status, here.score)


def test_a_students_own_reference_and_exercises_modules_are_theirs(tmp_path):
    folder = tmp_path / "ch04"
    folder.mkdir()
    (folder / "reference.py").write_text("# 내 참고용 함수\nimport numpy as np\n\n"
                                         "def half_sum_of_squares(d):\n    return 0.5 * np.sum(d ** 2)\n",
                                         encoding="utf-8")
    (folder / "exercises.py").write_text("def central(f, x, h=1e-4):\n    return (f(x + h) - f(x - h)) / (2 * h)\n",
                                         encoding="utf-8")
    (folder / "chapter4.py").write_text(
        "from reference import half_sum_of_squares\nfrom exercises import central\n\n"
        "def sum_squares_error(y, t):\n    return half_sum_of_squares(y - t)\n\n"
        "def numerical_diff(f, x):\n    return central(f, x)\n", encoding="utf-8")
    report = grade_path(folder / "chapter4.py", only=("sum_squares_error", "numerical_diff"))
    assert statuses(report) == {"sum_squares_error": "passed", "numerical_diff": "passed"}
    assert not report.statements  # both imports ran


def test_an_installed_copy_bundles_itself_for_gradescope(installed, tmp_path):
    """Without a checkout: the zip carries the installed grader package and a pyproject.toml for it."""
    env = dict(os.environ, PYTHONPATH=str(installed), NO_COLOR="1")
    zipped = tmp_path / "autograder.zip"
    result = subprocess.run([sys.executable, "-m", "grader.cli", "gradescope-bundle", "-o", str(zipped)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(root / "source")
    assert not (root / "source" / "dlfs-grader" / "reference").exists()
    reinstalled = tmp_path / "reinstalled"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--target", str(reinstalled), str(root / "source" / "dlfs-grader")],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    assert (reinstalled / "grader" / "specs" / "_exercises" / "assignments" / "chapter4.toml").is_file()
    assert (reinstalled / "grader" / "i18n" / "locale" / "ko.po").is_file()
    (root / "submission").mkdir()
    (root / "submission" / "chapter4.py").write_bytes((SUBMISSIONS / "correct.py").read_bytes())
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                         timeout=300, env=dict(env, PYTHONPATH=str(reinstalled), AUTOGRADER_ROOT=str(root),
                                               DLFS_PYTHON=sys.executable, TMPDIR=str(tmp_path)))
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 100
