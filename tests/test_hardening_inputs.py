"""Inputs read as Python and IPython read them: PEP 263 coding lines, and IPython syntax only where IPython sees it."""
from __future__ import annotations

import json

import pytest

from conftest import grade_path, run_grade, statuses

# A Korean student's file, saved by an editor set to cp949 (EUC-KR), as much older material is.
CP949_SUBMISSION = """# -*- coding: cp949 -*-
# 4장 과제: 손실 함수 (오차제곱합)
import numpy as np

설명 = "오차제곱합: 차이를 제곱해서 모두 더한 뒤 절반으로"


def sum_squares_error(y, t):
    # 정답 레이블과의 차이를 제곱한다
    return 0.5 * np.sum((y - t) ** 2)


def numerical_diff(f, x):
    h = 1e-4  # 0.0001 (너무 작으면 반올림 오차)
    return (f(x + h) - f(x - h)) / (2 * h)
"""

# A Japanese student's file in EUC-JP, with the Emacs/Vim style coding line on the second line.
EUCJP_SUBMISSION = """#!/usr/bin/env python
# vim: set fileencoding=euc-jp :
# 第4章 数値微分
def numerical_diff(f, x):
    h = 1e-4  # 中心差分を使う
    return (f(x + h) - f(x - h)) / (2 * h)
"""


@pytest.mark.parametrize("source, encoding, passed", [
    (CP949_SUBMISSION, "cp949", ("sum_squares_error", "numerical_diff")),
    (EUCJP_SUBMISSION, "euc-jp", ("numerical_diff",)),
])
def test_a_coding_line_is_honoured_as_python_honours_it(write_submission, source, encoding, passed):
    path = write_submission(source.encode(encoding), "chapter4.py")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is not UTF-8
    report = grade_path(path, only=passed)
    assert set(statuses(report).values()) == {"passed"}
    sources = [s.code for e in report.exercises for s in e.sources]
    assert any(("정답" if encoding == "cp949" else "中心差分") in code for code in sources)


def test_a_coding_line_in_a_folder_is_honoured_too(tmp_path):
    folder = tmp_path / "ch04"
    folder.mkdir()
    (folder / "loss.py").write_bytes(CP949_SUBMISSION.encode("cp949"))
    assert statuses(grade_path(folder, only=("sum_squares_error",))) == {"sum_squares_error": "passed"}


@pytest.mark.parametrize("data, fragment", [
    (b"# -*- coding: no-such-codec -*-\nx = 1\n", "unknown encoding"),
    ("# -*- coding: ascii -*-\n# 한국어\nx = 1\n".encode("utf-8"), "its coding line says ascii"),
])
def test_a_wrong_coding_line_is_a_clear_error(write_submission, data, fragment):
    result = run_grade(str(write_submission(data, "bad.py")), "-f", "json")
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr
    assert json.loads(result.stdout)["score"] == 0


# ---- IPython syntax -----------------------------------------------------------------------------------------

# (cell, the 1-based lines IPython's TransformerManager treats as IPython syntax). Pinned from
# IPython 9.18's TransformerManager().transform_cell; re-checked below whenever IPython is installed.
IPYTHON_CASES = [
    ("%matplotlib inline\nimport numpy as np\n", {1}),
    ("x = (1 +\n%2)\n", set()),  # a continuation line, inside brackets
    ("s = '''\n!not shell\n%not magic\nnp.sum?\n'''\n", set()),  # inside a triple-quoted string
    ('def f():\n    """doc\n    %timeit x\n    """\n    return 1\n', set()),
    ("!pip install numpy\n", {1}),
    ("    %time y = f(x)\n", {1}),
    ("files = !ls\n", {1}),
    ("np.sum?\n", {1}),
    ("?np.sum\n", {1}),
    ("x = [1,\n  2] ; !echo hi\n", set()),
    ("a = b \\\n%2\n", set()),  # after a backslash continuation
    ("y = f(x)\n%time z = 1\n", {2}),
    ("if True:\n    !echo hi\n", {2}),
    ("d = {'a':\n 1}\n!ls\n", {3}),  # the bracket closed: a new statement again
    ("x = '!not'\n!ls 'it''s'\nprint(1)\n", {2}),  # the shell line's quotes do not open a string
    ("%timeit -n 10 -r 3 f(x)\n", {1}),
    ("r = x %2\n", set()),
    ("z = f'''{x}\n%not\n'''\n", set()),
    ("def g(x):\n    return (x\n            %3)\n", set()),
    ("q = '''a''' ; %who\n", set()),
    ("x != 2\n", set()),
    ("b'''\n!x\n'''\n", set()),
    ("x = 1 # comment with ''' quote\n!ls\n", {2}),
    ("result = %who_ls\n", {1}),
    ("s = 'a\\\n%b'\n!ls\n", {3}),  # a backslash-continued one-line string
    ("%env A=1 \\\n  B=2\nx = 1\n", {1, 2}),  # a magic's own continuation is part of the magic
]


# Not Python even after IPython's rewriting: Jupyter reports the syntax error too.
NOT_PYTHON_FOR_IPYTHON_EITHER = {"x = (1 +\n%2)\n", "x = [1,\n  2] ; !echo hi\n", "q = '''a''' ; %who\n"}


def _changed_lines(before: str, after: str) -> set[int]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new), (before, after)  # line numbers stay where the student sees them
    return {number for number, (a, b) in enumerate(zip(old, new), start=1) if a != b}


@pytest.mark.parametrize("cell, lines", IPYTHON_CASES)
def test_ipython_syntax_is_rewritten_only_where_ipython_sees_it(cell, lines):
    import ast

    from grader.loaders.ipython_syntax import to_python
    python, note = to_python(cell)
    assert note is None
    assert _changed_lines(cell.replace("\n    ", "\n") if cell.startswith("    ") else cell, python) == lines
    if cell not in NOT_PYTHON_FOR_IPYTHON_EITHER:
        ast.parse(python)  # and the result is Python


@pytest.mark.parametrize("cell, lines", IPYTHON_CASES)
def test_the_pinned_table_agrees_with_ipython_itself(cell, lines):
    transformer = pytest.importorskip("IPython.core.inputtransformer2")
    ipython = transformer.TransformerManager().transform_cell(cell)
    if len(ipython.splitlines()) != len(cell.splitlines()):  # IPython joins a magic's continuation lines
        assert lines == set(range(min(lines), min(lines) + 1 + cell.count("\\\n"))) and ipython != cell
        return
    assert _changed_lines(cell, ipython) == lines
