"""The book's code is known by fingerprint: what a fingerprint ignores, what it does not, and the index.

Every source here is written for these tests; none is the book's code or a learner's.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from grader.submission import book_index
from grader.submission.book_index import BookMatch, book_definitions, book_file, load_index, main
from grader.submission.fingerprint import (definition_fingerprints, file_fingerprint, normalised_dump,
                                           notebook_code_cells, notebook_fingerprint)

ORIGINAL = "oreilly-japan/deep-learning-from-scratch"
KOREAN = "WegraLee/deep-learning-from-scratch"

HANDOUT = '''\
# coding: utf-8
"""Helpers handed out with the exercises."""
import numpy as np


def clipped_mean(values, low=0.0, high=1.0):
    """The mean after clipping."""
    return np.mean(np.clip(values, low, high))  # clip first


class RunningTotal:
    def __init__(self):
        self.total = 0

    def add(self, amount):
        self.total += amount * 2
        return self.total


if __name__ == '__main__':
    print(clipped_mean([0.5, 2.0]), "done")
'''

# The same code as a copier leaves it: comments translated or gone, docstrings dropped,
# other quotes, other indentation and line breaks, no coding line.
HANDOUT_REFORMATTED = '''\
import numpy as np
def clipped_mean(values, low=0.0, high=1.0):
        # 클리핑 후 평균
        return np.mean(
            np.clip(values,
                    low, high))
class RunningTotal:
    """합계."""
    def __init__(self): self.total = 0
    def add(self, amount):
        self.total += amount*2
        return self.total
if __name__ == "__main__":
    print(clipped_mean([0.5, 2.0]), 'do' 'ne')
'''

# A student's own one-dimensional numerical gradient, written for these tests.
STUDENTS_OWN = '''\
def slope_at(func, point, step=1e-4):
    ahead = func(point + step)
    behind = func(point - step)
    return (ahead - behind) / (step + step)
'''


def _notebook(cells: list[tuple[str, str]], nbformat: int = 4) -> str:
    """An .ipynb text of (cell_type, source) cells, code cells with outputs as Jupyter saves them."""
    def cell(kind: str, source: str) -> dict:
        lines = source.splitlines(keepends=True)
        if kind != "code":
            return {"cell_type": kind, "metadata": {}, "source": lines}
        body = {"cell_type": "code", "execution_count": 3, "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["0.75\n"]},
                            {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="}, "metadata": {}}]}
        return {**body, ("source" if nbformat == 4 else "input"): lines}
    made = [cell(kind, source) for kind, source in cells]
    if nbformat == 4:
        return json.dumps({"cells": made, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    return json.dumps({"worksheets": [{"cells": made}], "metadata": {}, "nbformat": 3, "nbformat_minor": 0})


def _build_folder_index(folder: Path, out: Path, name: str = "course/handout") -> Path:
    assert main(["build", "--files", str(folder), "--name", name, "-o", str(out)]) == 0
    return out


# ---- what a fingerprint ignores and what it does not -------------------------------------------

def test_comments_docstrings_blank_lines_quotes_and_layout_do_not_change_a_file_fingerprint():
    assert file_fingerprint(HANDOUT) is not None
    assert file_fingerprint(HANDOUT_REFORMATTED) == file_fingerprint(HANDOUT)


def test_windows_line_endings_tabs_and_a_byte_order_mark_do_not_change_a_fingerprint():
    tabbed = HANDOUT.replace("    ", "\t")
    assert file_fingerprint("\ufeff" + tabbed.replace("\n", "\r\n")) == file_fingerprint(HANDOUT)


def test_a_body_that_held_only_a_docstring_is_the_same_as_pass():
    assert file_fingerprint('def todo(x):\n    "Write me."\n') == file_fingerprint("def todo(x):\n    pass\n")
    assert file_fingerprint("def todo(x):\n    pass\n") != file_fingerprint("def todo(x):\n    return x\n")


def test_a_string_statement_that_is_not_first_is_code():
    assert file_fingerprint('x = 1\n"not a docstring"\n') != file_fingerprint("x = 1\n")


@pytest.mark.parametrize("edited", [
    HANDOUT.replace("amount * 2", "amount * 3"),            # a constant
    HANDOUT.replace("amount * 2", "amount + 2"),            # an operator
    HANDOUT.replace("self.total += amount", "self.total -= amount"),
    HANDOUT.replace("np.clip(values, low, high)", "np.clip(values, high, low)"),  # arguments
    HANDOUT.replace("high=1.0", "high=1"),                  # 1.0 and 1 are different constants
    HANDOUT.replace("def clipped_mean", "def clipped_average").replace("print(clipped_mean", "print(clipped_average"),
    HANDOUT.replace('"done"', '"Done"'),                     # a string that is not a docstring
    HANDOUT.replace("if __name__ == '__main__':\n    print(clipped_mean([0.5, 2.0]), \"done\")\n", ""),
], ids=["constant", "operator", "augmented-operator", "argument-order", "int-for-float", "name", "string",
        "main-block-removed"])
def test_a_changed_constant_operator_name_or_argument_changes_the_fingerprint(edited):
    assert edited != HANDOUT
    assert file_fingerprint(edited) != file_fingerprint(HANDOUT)


def test_a_source_that_does_not_parse_as_python_3_has_no_fingerprint():
    assert file_fingerprint("print 'hello'\n") is None             # Python 2
    assert file_fingerprint("def broken(:\n    return\n") is None
    assert file_fingerprint("x = 1\0\n") is None                    # a null byte
    assert definition_fingerprints("print 'hello'\n") == {}


def test_the_fingerprint_of_a_fixed_source_is_pinned():
    # The packaged index was built with this algorithm: a change here means rebuilding it.
    assert file_fingerprint("def double(x):\n    return 2 * x\n") == "8e9dd152899b5923"
    assert normalised_dump(ast.parse("a[1] = f'{b!r:>{w}}'")) == (
        "Module(body=[Assign(targets=[Subscript(value=Name(id='a',),slice=Constant(value=1,),),],"
        "value=JoinedStr(values=[FormattedValue(value=Name(id='b',),conversion=114,format_spec=JoinedStr("
        "values=[Constant(value='>',),FormattedValue(value=Name(id='w',),conversion=-1,),],),),],),),],)")


# ---- definitions ------------------------------------------------------------------------------

def test_definition_fingerprints_finds_top_level_functions_and_classes_only():
    source = HANDOUT + textwrap.dedent('''
        try:
            from fast import kernel
        except ImportError:
            def kernel(x):
                return x
        def outer():
            def inner():
                return 1
            return inner
        ''')
    found = definition_fingerprints(source)
    assert set(found) == {"clipped_mean", "RunningTotal", "kernel", "outer"}  # no methods, no inner functions
    assert all(re.fullmatch(r"[0-9a-f]{16}", fingerprint) for fingerprint in found.values())


def test_a_definition_keeps_its_fingerprint_whatever_surrounds_it_and_however_it_is_written():
    alone = definition_fingerprints("def clipped_mean(values, low=0.0, high=1.0):\n"
                                    "    return np.mean(np.clip(values, low, high))\n")
    assert definition_fingerprints(HANDOUT)["clipped_mean"] == alone["clipped_mean"]
    assert definition_fingerprints(HANDOUT_REFORMATTED) == definition_fingerprints(HANDOUT)


def test_the_name_is_part_of_a_definitions_fingerprint():
    assert (definition_fingerprints("def a(x):\n    return x\n")["a"]
            != definition_fingerprints("def b(x):\n    return x\n")["b"])


def test_a_name_defined_twice_keeps_its_last_definition_and_results_are_fresh_copies():
    found = definition_fingerprints("def f():\n    return 1\ndef f():\n    return 2\n")
    assert found["f"] == definition_fingerprints("def f():\n    return 2\n")["f"]
    found.clear()  # the cache hands out copies
    assert definition_fingerprints("def f():\n    return 1\ndef f():\n    return 2\n")


# ---- notebooks --------------------------------------------------------------------------------

def test_a_notebook_with_magics_shell_lines_and_outputs_fingerprints_as_its_code():
    plain = "import numpy as np\nx = np.arange(3)\nprint(x % 2)\n"
    text = _notebook([("markdown", "# Chapter 4\n"),
                      ("code", "%matplotlib inline\n!pip install numpy\nimport numpy as np\n"),
                      ("code", "x = np.arange(3)"),
                      ("code", "x = = broken"),                   # a cell that does not parse: skipped
                      ("raw", "not code"),
                      ("code", "%%time\nprint(x % 2)\n")])
    cells = notebook_code_cells(text)
    assert len(cells) == 4 and cells[1] == "x = np.arange(3)"
    assert notebook_fingerprint(cells) == file_fingerprint(plain)
    assert notebook_fingerprint(notebook_code_cells(_notebook([("code", plain)], nbformat=3))) == file_fingerprint(plain)


def test_an_indented_magic_is_dropped_and_a_line_starting_with_the_modulo_operator_is_kept():
    looped = notebook_fingerprint(["for i in range(3):\n    %time f(i)\n    g(i)\n"])
    assert looped == file_fingerprint("for i in range(3):\n    g(i)\n")
    for continued in ("y = (a\n     % b)\n", "y = (a\n% b)\n"):
        assert notebook_fingerprint([continued]) == file_fingerprint(continued)


def test_a_cell_of_another_language_is_not_the_notebooks_python():
    assert notebook_fingerprint(["%%bash\nls\n", "x = 1\n"]) == file_fingerprint("x = 1\n")
    assert notebook_fingerprint(["%%writefile helper.py\ndef f():\n    pass\n"]) is None


def test_a_text_that_is_not_a_notebook_has_no_code_cells():
    assert notebook_code_cells("not json") == []
    assert notebook_code_cells("[1, 2]") == []
    assert notebook_code_cells('{"cells": [{"cell_type": "code", "source": 5}]}') == []


# ---- the packaged index -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def packaged() -> book_index.BookIndex:
    return load_index([book_index.PACKAGED_INDEX])


@pytest.mark.parametrize("repository, path", [
    (ORIGINAL, "common/functions.py"), (ORIGINAL, "common/gradient.py"), (ORIGINAL, "dataset/mnist.py"),
    (ORIGINAL, "ch04/two_layer_net.py"), (ORIGINAL, "ch04/gradient_2d.py"), (ORIGINAL, "ch05/two_layer_net.py"),
    (ORIGINAL, "notebooks/ch04.ipynb"), (KOREAN, "common/gradient.py"), (KOREAN, "ch04/two_layer_net.py")])
def test_the_packaged_index_knows_the_files_students_copy(packaged, repository, path):
    places = {(m.repository, m.path) for _, matches in packaged.entries("files") for m in matches}
    assert (repository, path) in places
    commits = {m.commit for _, matches in packaged.entries("files") for m in matches
               if (m.repository, m.path) == (repository, path)}
    assert commits and all(re.fullmatch(r"[0-9a-f]{12}", commit) for commit in commits)


def test_the_packaged_index_knows_the_books_definitions_by_name(packaged):
    names = {name for fingerprint, _ in packaged.entries("definitions")
             for name, _ in packaged.definition_matches(fingerprint)}
    assert {"cross_entropy_error", "numerical_gradient", "TwoLayerNet", "load_mnist"} <= names


def test_the_packaged_index_holds_provenance_and_fingerprints_only(packaged):
    data = json.loads(book_index.PACKAGED_INDEX.read_text(encoding="utf-8"))
    sources = {source["repository"]: source for source in data["sources"]}
    assert set(sources) == {ORIGINAL, KOREAN}
    assert all(re.fullmatch(r"[0-9a-f]{40}", source["head"]) for source in sources.values())
    assert data["built"]["command"].startswith("python -m grader.submission.book_index build")
    entry = re.compile(r"[0-9a-f]{16}( [A-Za-z_][A-Za-z0-9_]*)?( \d+,\d+,\d+)+")
    for table in ("files", "definitions"):
        assert all(entry.fullmatch(line) for line in data[table].splitlines())


def test_a_students_own_function_is_not_the_books():
    assert book_definitions(STUDENTS_OWN) == {}
    assert book_file(STUDENTS_OWN) is None


def test_an_empty_module_is_not_the_books_even_though_the_book_has_empty_files():
    assert book_file("") is None
    assert book_file("# my package\n") is None


# ---- an index of our own ----------------------------------------------------------------------

@pytest.fixture()
def handout_index(tmp_path: Path) -> Path:
    folder = tmp_path / "handout"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "helpers.py").write_text(HANDOUT, encoding="utf-8")
    (folder / "lib" / "copy_of_helpers.py").write_text(HANDOUT, encoding="utf-8")
    (folder / "walkthrough.ipynb").write_text(_notebook([("code", STUDENTS_OWN.replace("slope_at", "demo_slope"))]),
                                              encoding="utf-8")
    (folder / "legacy.py").write_text("print 'old'\n", encoding="utf-8")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "hidden.py").write_text("hidden = 1\n", encoding="utf-8")
    return _build_folder_index(folder, tmp_path / "handout.json")


def test_an_index_built_from_a_folder_recognises_its_files_reformatted_and_recommented(handout_index):
    index = load_index([handout_index])
    match = book_file(HANDOUT_REFORMATTED, index=index, path="work/lib/helpers.py")
    assert match == BookMatch("course/handout", "lib/helpers.py", "")
    assert book_file(HANDOUT_REFORMATTED, index=index, path="copy_of_helpers.py").path == "lib/copy_of_helpers.py"
    notebook = _notebook([("code", "%load_ext autoreload\n" + STUDENTS_OWN.replace("slope_at", "demo_slope"))])
    assert book_file(notebook, notebook=True, index=index) == BookMatch("course/handout", "walkthrough.ipynb", "")
    assert book_file("hidden = 1\n", index=index) is None  # checkpoints are not the handout


def test_an_index_built_from_a_folder_recognises_its_definitions_but_not_edited_ones(handout_index):
    index = load_index([handout_index])
    found = book_definitions(HANDOUT_REFORMATTED, index=index)
    assert set(found) == {"clipped_mean", "RunningTotal"}
    assert found["clipped_mean"].repository == "course/handout"
    edited = HANDOUT_REFORMATTED.replace("amount*2", "amount*5")
    assert book_file(edited, index=index) is None
    assert set(book_definitions(edited, index=index)) == {"clipped_mean"}
    assert set(book_definitions(STUDENTS_OWN.replace("slope_at", "demo_slope"), index=index)) == {"demo_slope"}
    header = load_index([handout_index]).headers[0]
    assert header["sources"][0]["unparsed"] == ["legacy.py"]


def test_an_extra_index_is_consulted_after_the_packaged_one(handout_index):
    assert book_definitions(HANDOUT) == {}
    both = load_index([book_index.PACKAGED_INDEX, handout_index])
    assert set(book_definitions(HANDOUT, index=both)) == {"clipped_mean", "RunningTotal"}
    assert book_file(HANDOUT, index=both).repository == "course/handout"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_an_index_built_from_git_names_the_first_commit_of_each_version_and_skips_unmerged_pull_requests(tmp_path):
    work = tmp_path / "repo"
    work.mkdir()

    def git(*args: str, date: str = "2020-01-01T00:00:00") -> str:
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=work,
                              env=env, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    (work / "helpers.py").write_text(HANDOUT, encoding="utf-8")
    git("add", "."); git("commit", "-qm", "first", date="2020-01-01T00:00:00")
    first = git("rev-parse", "HEAD")[:12]
    (work / "helpers.py").write_text(HANDOUT.replace("# clip first", "# a comment only"), encoding="utf-8")
    (work / "extra.py").write_text("def extra():\n    return 3\n", encoding="utf-8")
    git("add", "."); git("commit", "-qm", "second", date="2020-02-01T00:00:00")
    second = git("rev-parse", "HEAD")[:12]
    git("checkout", "-qb", "learner")
    (work / "mine.py").write_text(STUDENTS_OWN, encoding="utf-8")
    git("add", "."); git("commit", "-qm", "a learner's pull request", date="2020-03-01T00:00:00")
    git("update-ref", "refs/pull/1/head", "HEAD")
    git("checkout", "-q", "main"); git("branch", "-qD", "learner")

    out = tmp_path / "git.json"
    assert main(["build", "--repo", f"someone/book={work / '.git'}", "-o", str(out)]) == 0
    index = load_index([out])
    assert book_file(HANDOUT, index=index) == BookMatch("someone/book", "helpers.py", first)
    assert book_file("def extra():\n    return 3\n", index=index).commit == second
    assert book_file(STUDENTS_OWN, index=index) is None
    assert main(["build", "--all-refs", "--repo", f"someone/book={work / '.git'}", "-o", str(out)]) == 0
    assert book_file(STUDENTS_OWN, index=load_index([out])) is not None
