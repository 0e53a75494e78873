"""The `grade` command as a student meets it: exit codes, formats, and clear messages for bad input."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import EXERCISE_IDS, ROOT, SUBMISSIONS, run_grade


def assert_clean_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("grade: error:") or result.stderr.startswith("usage:")
    for fragment in fragments:
        assert fragment in result.stderr


def test_a_correct_submission_exits_0_with_a_table_of_all_exercises():
    result = run_grade(str(SUBMISSIONS / "correct.py"))
    assert result.returncode == 0, result.stderr
    for exercise_id in EXERCISE_IDS:
        assert exercise_id in result.stdout
    assert "Score: 100 / 100" in result.stdout


def test_a_failing_submission_exits_1_and_explains_the_failure():
    result = run_grade(str(SUBMISSIONS / "mistake_sse_missing_half.py"), "--only", "sum_squares_error")
    assert result.returncode == 1
    assert "✘ failed" in result.stdout
    assert "sum_squares_error(np.array([0.1" in result.stdout  # what was called
    assert "returned 0.195" in result.stdout and "expected 0.0975" in result.stdout
    assert "twice the expected one" in result.stdout and "(sse-missing-half)" in result.stdout


def test_a_failure_with_no_known_cause_gets_the_cases_hint(write_submission):
    path = write_submission("import numpy as np\ndef sum_squares_error(y, t):\n    return 0.5 * np.mean((y - t)**2)\n")
    result = run_grade(str(path), "--only", "sum_squares_error")
    assert result.returncode == 1
    assert "hint:" in result.stdout and "halve the sum" in result.stdout


def test_the_empty_template_exits_1_with_every_exercise_missing():
    result = run_grade(str(ROOT / "student_template" / "chapter4.py"), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [e["status"] for e in report["exercises"]] == ["missing"] * 7


def test_json_report_has_the_documented_fields():
    result = run_grade(str(SUBMISSIONS / "mistake_gradient_ascent.py"), "--format", "json")
    report = json.loads(result.stdout)
    assert {"submission", "score", "max_score", "exercises"} <= set(report)
    assert [e["id"] for e in report["exercises"]] == list(EXERCISE_IDS)
    for exercise in report["exercises"]:
        assert {"id", "title", "status", "score", "max_score", "graded_name", "checks", "diagnoses"} <= set(exercise)
        assert exercise["status"] in {"passed", "partial", "failed", "missing", "error", "timeout"}
        for check in exercise["checks"]:
            assert {"name", "passed", "message", "expected", "actual"} <= set(check)
    descent = report["exercises"][4]
    assert descent["status"] == "failed" and descent["score"] == 0
    assert report["score"] == pytest.approx(sum(e["score"] for e in report["exercises"]))


def test_only_grades_the_named_exercise():
    result = run_grade(str(SUBMISSIONS / "correct.py"), "--only", "numerical_diff", "-f", "json")
    assert result.returncode == 0
    assert [e["id"] for e in json.loads(result.stdout)["exercises"]] == ["numerical_diff"]


def test_output_file_receives_the_report(tmp_path):
    target = tmp_path / "report.json"
    result = run_grade(str(SUBMISSIONS / "correct.py"), "-f", "json", "-o", str(target))
    assert result.returncode == 0
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["score"] == 100
    assert "report written to" in result.stderr


def test_list_exercises_lists_all_seven_in_book_order():
    result = run_grade("--list-exercises")
    assert result.returncode == 0
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert ids == list(EXERCISE_IDS)


def test_student_prints_do_not_leak_into_the_report():
    # correct.py prints the book's examples at top level; the JSON must still parse.
    result = run_grade(str(SUBMISSIONS / "correct.py"), "-f", "json")
    json.loads(result.stdout)
    assert "0.0975" not in result.stdout.split('"exercises"')[0]


def test_a_missing_file_is_a_clear_error():
    assert_clean_error(run_grade("no_such_file.py"), "no such file")


def test_a_syntax_error_names_the_line(write_submission):
    path = write_submission("import numpy as np\n\ndef sum_squares_error(y, t)\n    return 0.5\n")
    assert_clean_error(run_grade(str(path)), "syntax error", "line 3", "def sum_squares_error(y, t)")


def test_an_exception_message_ending_in_a_space_is_quoted_without_it(write_submission):
    # NumPy's broadcast error ends in a space: "... shapes (2,) (3,) " then " at line 2" made two.
    path = write_submission("def sum_squares_error(y, t):\n    raise ValueError('shapes (2,) (3,) ')\n")
    result = run_grade(str(path), "--only", "sum_squares_error", "-f", "json")
    messages = [c["message"] for e in json.loads(result.stdout)["exercises"] for c in e["checks"]]
    assert any("ValueError: shapes (2,) (3,) at line 2" in m for m in messages), messages
    assert not any("  at line" in m for m in messages)


def test_an_empty_file_is_a_clear_error(write_submission):
    assert_clean_error(run_grade(str(write_submission("# only a comment\n\n"))), "empty")


def test_binary_garbage_is_a_clear_error(write_submission):
    path = write_submission(bytes(range(256)) * 4, "garbage.py")
    assert_clean_error(run_grade(str(path)), "binary")


def test_latin1_text_is_a_clear_error(write_submission):
    path = write_submission("# caf\xe9\nx = 1\n".encode("latin-1"), "latin.py")
    assert_clean_error(run_grade(str(path)), "UTF-8")


@pytest.mark.parametrize("name", ["notes.txt", "picture.png", "chapter4.pdf"])
def test_a_file_that_is_not_python_is_a_clear_error(write_submission, name):
    path = write_submission("hello\n", name)
    assert_clean_error(run_grade(str(path)), "cannot grade this kind of file")


def test_unknown_exercise_and_format_are_usage_errors():
    assert_clean_error(run_grade(str(SUBMISSIONS / "correct.py"), "--only", "softmax"), "no exercise with id softmax")
    assert_clean_error(run_grade(str(SUBMISSIONS / "correct.py"), "--format", "pdf"), "unknown format")
    assert_clean_error(run_grade(), "give the submission")


@pytest.mark.skipif(shutil.which("grade") is None, reason="the package is not installed (pip install .)")
def test_the_installed_grade_command_works_from_any_folder(tmp_path):
    import subprocess
    target = tmp_path / "mine.py"
    target.write_bytes((SUBMISSIONS / "correct.py").read_bytes())
    result = subprocess.run(["grade", "mine.py", "--only", "sum_squares_error", "-f", "json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["exercises"][0]["status"] == "passed"
