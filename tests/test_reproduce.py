"""A failing case's snippet rebuilds the exact call (grader/checking/reproduce.py)."""
from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from conftest import SUBMISSIONS, run_grade


def _function_source(path, name: str) -> str:
    """The student's function alone, as they wrote it (their top-level code left out)."""
    source = path.read_text(encoding="utf-8")
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    return "import numpy as np\n" + ast.get_source_segment(source, node) + "\n"


def _run(code: str, cwd) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def batch_mistake(tmp_path_factory):
    """`grade --save-inputs` on a cross_entropy_error that forgets to average over the batch."""
    folder = tmp_path_factory.mktemp("inputs")
    path = SUBMISSIONS / "mistake_cee_batch_not_averaged.py"
    done = run_grade(str(path), "-f", "json", "--save-inputs", "saved", cwd=folder)
    report = json.loads(done.stdout)
    cee = next(e for e in report["exercises"] if e["id"] == "cross_entropy_error")
    return folder, path, cee


def test_a_small_failing_case_is_rebuilt_inline_and_gives_what_the_report_says(batch_mistake, tmp_path):
    _folder, path, cee = batch_mistake
    small = [c for c in cee["checks"] if not c["passed"] and c["outcome"] == "wrong" and c["reproduce"]
             and "np.load" not in c["reproduce"]]
    assert small
    chosen = small[0]
    assert "np.array(" in chosen["reproduce"]
    printed = _run(_function_source(path, "cross_entropy_error") + chosen["reproduce"], tmp_path)
    assert repr(chosen["actual"]) in printed or str(chosen["actual"]) in printed


def test_large_inputs_are_saved_by_save_inputs_and_the_snippet_loads_them(batch_mistake):
    folder, path, cee = batch_mistake
    large = [c for c in cee["checks"] if not c["passed"] and "np.load" in c["reproduce"]]
    assert large and all("--save-inputs saved" in c["reproduce"] for c in large)
    for check in large:
        printed = _run(_function_source(path, "cross_entropy_error") + check["reproduce"], folder)
        if check["outcome"] == "wrong":
            assert str(check["actual"]) in printed
        else:  # the call raised in the grading: it raises the same way when pasted
            assert check["message"].split(" raised ")[1].split(":")[0] in printed
    assert sorted(p.name for p in (folder / "saved").glob("cross_entropy_error-*")) == sorted(
        c["reproduce"].split("np.load('saved/")[1].split("'")[0] for c in large)


def test_a_hidden_case_has_no_snippet_in_any_student_report():
    from grader.report import CheckResult
    from grader.reporters.visibility import student_view

    hidden = CheckResult("hidden case 1", False, "wrong", reproduce="f(np.array([1.0]))", hidden=True)
    assert student_view(hidden).reproduce == ""


def test_the_html_report_escapes_the_snippet_and_offers_to_copy_it():
    from grader.report import CheckResult, ExerciseResult, Report
    from grader.reporters.html import render

    check = CheckResult("book example", False, "wrong", reproduce="print('</pre><script>alert(1)</script>')")
    report = Report("sub.py", (ExerciseResult("sum_squares_error", "SSE", "4.2.1", "failed", 0, 10, "f", (check,)),))
    shown = render(report)
    assert "<script>alert(1)" not in shown and "&lt;/pre&gt;&lt;script&gt;" in shown
    assert "navigator.clipboard.writeText" in shown


def test_a_failing_net_check_is_rebuilt_with_the_graders_parameters_and_gives_what_the_report_says(tmp_path):
    # A softmax taken over the whole batch, not per row: TwoLayerNet.loss is wrong on a batch.
    path = SUBMISSIONS / "mistake_softmax_whole_batch.py"
    done = run_grade(str(path), "-f", "json", "--save-inputs", "saved", "--only", "two_layer_net", cwd=tmp_path)
    net = json.loads(done.stdout)["exercises"][0]
    loss = next(c for c in net["checks"] if not c["passed"] and "net.loss(" in c["reproduce"])
    assert "net.params['W1'] = inputs['W1']" in loss["reproduce"] and "TwoLayerNet(" in loss["reproduce"]
    # The student's code up to its demo code, then the snippet: the value the report says came back.
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    definitions = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))]
    code = "\n".join(ast.get_source_segment(source, n) for n in definitions) + "\n"
    printed = _run(code + loss["reproduce"], tmp_path)
    assert str(loss["actual"]) in printed, printed
