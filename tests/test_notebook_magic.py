"""`%grade` in real notebooks, run by real kernels (nbclient + ipykernel).

Kernels are slow to start: each test module's kernels are shared by the tests that can share them
(module-scoped), three in all.
"""
from __future__ import annotations

import html
import json
import os
import re
import time
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS, run_grade

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPORT_MIME = "application/vnd.dlfs-grader.report+json"


def _cells_of(source: str) -> list[str]:
    """A submission file cut into notebook cells at its section comments, as a student's notebook has it."""
    return [cell for cell in re.split(r"\n(?=# =====)", source) if cell.strip()]


def _write_notebook(folder: Path, name: str, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = folder / name
    nbformat.write(notebook, path)
    return path


class Kernel:
    """A kernel running one notebook's cells in any order, with the notebook's outputs kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notebook = nbformat.read(path, as_version=4)
        env = dict(os.environ, PYTHONPATH=str(ROOT), JPY_SESSION_NAME=str(path))
        self.client = nbclient.NotebookClient(self.notebook, timeout=300, allow_errors=True, kernel_name="python3",
                                              resources={"metadata": {"path": str(path.parent)}})
        self._context = self.client.setup_kernel(env=env)
        self._context.__enter__()

    def run(self, *indexes: int) -> None:
        for index in indexes:
            self.client.execute_cell(self.notebook.cells[index], index)

    def add(self, source: str) -> int:
        """A new cell at the end of the notebook (not run yet): its index."""
        self.notebook.cells.append(nbformat.v4.new_code_cell(source))
        return len(self.notebook.cells) - 1

    def view(self, index: int) -> dict:
        """The display `%grade` left in cell ``index``: its mime bundle."""
        shown = [o for o in self.notebook.cells[index].outputs if o.get("output_type") == "display_data"]
        errors = [o for o in self.notebook.cells[index].outputs if o.get("output_type") in ("error", "stream")]
        assert len(shown) == 1, errors
        return shown[0]["data"]

    def save(self) -> None:
        nbformat.write(self.notebook, self.path)

    def pid(self) -> int:
        index = self.add("import os; print(os.getpid())")
        self.run(index)
        return int(self.notebook.cells[index].outputs[0]["text"])

    def shutdown(self) -> None:
        self._context.__exit__(None, None, None)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _statuses(report: dict) -> dict[str, str]:
    return {e["id"]: e["status"] for e in report["exercises"]}


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    """The complete chapter-4 notebook, run top to bottom with `%load_ext grader` and `%grade` at the end."""
    folder = tmp_path_factory.mktemp("complete")
    cells = _cells_of((SUBMISSIONS / "correct.py").read_text(encoding="utf-8")) + ["%load_ext grader", "%grade"]
    kernel = Kernel(_write_notebook(folder, "chapter4.ipynb", cells))
    kernel.run(*range(len(cells)))
    kernel.save()
    yield kernel
    kernel.shutdown()


def test_a_complete_notebook_graded_in_its_kernel_gets_the_verdict_grade_gives_its_saved_file(complete):
    view = complete.view(len(complete.notebook.cells) - 1)
    saved = run_grade(str(complete.path), "-f", "json")
    expected = json.loads(saved.stdout)
    assert (view[REPORT_MIME]["score"], _statuses(view[REPORT_MIME])) == (expected["score"], _statuses(expected))
    assert expected["score"] == expected["max_score"] == 100
    text = view["text/plain"]
    assert "Score: 100 / 100" in text.splitlines() and "Score: 100 / 100" in view["text/html"]
    assert "cells run in this kernel" in text and "saved notebook" not in text


def test_grade_file_grades_the_saved_notebook_and_says_so(complete):
    index = complete.add("%grade --file")
    complete.run(index)
    view = complete.view(index)
    assert "saved notebook chapter4.ipynb" in view["text/plain"]
    assert view[REPORT_MIME]["score"] == 100


def test_shutting_the_kernel_down_leaves_no_process_it_started(complete):
    kernel_pid = complete.pid()
    started = _descendants(kernel_pid)
    assert started  # the warm grading process, at least, and its sandboxed worker
    complete.shutdown()
    deadline = time.monotonic() + 120  # how long a slow machine may take: the assertion is that they end
    while any(_alive(p) for p in started | {kernel_pid}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in started | {kernel_pid} if _alive(p)]


@pytest.fixture(scope="module")
def mistaken(tmp_path_factory):
    """A notebook whose cross_entropy_error forgets the delta, graded, then graded again after the
    kernel patched builtins and NumPy's comparisons."""
    folder = tmp_path_factory.mktemp("mistaken")
    source = (SUBMISSIONS / "mistake_cee_missing_delta.py").read_text(encoding="utf-8")
    cells = _cells_of(source) + ["%load_ext grader", "%grade",
                                 "import builtins, numpy\n"
                                 "builtins.abs = lambda x: 0\n"
                                 "builtins.all = lambda x: True\n"
                                 "numpy.allclose = lambda *a, **k: True\n"
                                 "numpy.isclose = lambda *a, **k: True\n"
                                 "numpy.testing.assert_allclose = lambda *a, **k: None\n",
                                 "%grade"]
    kernel = Kernel(_write_notebook(folder, "chapter4.ipynb", cells))
    kernel.run(*range(len(cells)))
    yield kernel
    kernel.shutdown()


def test_a_mistake_shows_its_diagnosis_and_hint_inline(mistaken):
    view = mistaken.view(len(mistaken.notebook.cells) - 3)
    report = view[REPORT_MIME]
    cee = next(e for e in report["exercises"] if e["id"] == "cross_entropy_error")
    assert cee["status"] == "failed" and "cee-missing-delta" in [d["id"] for d in cee["diagnoses"]]
    diagnosis = next(d["message"] for d in cee["diagnoses"] if d["id"] == "cee-missing-delta")
    assert html.escape(diagnosis, quote=False) in view["text/html"] or diagnosis in html.unescape(view["text/html"])
    assert diagnosis.split("\n")[0][:40] in view["text/plain"]
    assert f"Score: {report['score']:g} / 100" in view["text/plain"].splitlines()


def test_a_kernel_that_patched_builtins_and_numpy_gains_nothing(mistaken):
    before = mistaken.view(len(mistaken.notebook.cells) - 3)[REPORT_MIME]
    after = mistaken.view(len(mistaken.notebook.cells) - 1)[REPORT_MIME]
    assert before["score"] < 100
    assert (after["score"], _statuses(after)) == (before["score"], _statuses(before))


def test_cells_run_out_of_order_are_graded_in_the_order_they_ran_and_the_report_says_so(tmp_path):
    cells = ["import numpy as np\nHALF = 1.0", "HALF = 0.5",
             "def sum_squares_error(y, t):\n    return HALF * np.sum((y - t)**2)",
             "%load_ext grader", "%grade sum_squares_error"]
    kernel = Kernel(_write_notebook(tmp_path, "chapter4.ipynb", cells))
    try:
        kernel.run(1, 0, 2, 3, 4)  # HALF = 0.5 first, then 1.0: the kernel's sum_squares_error is wrong
        view = kernel.view(4)
    finally:
        kernel.shutdown()
    saved = json.loads(run_grade(str(tmp_path / "chapter4.ipynb"), "--only", "sum_squares_error", "-f", "json").stdout)
    assert _statuses(saved) == {"sum_squares_error": "passed"}  # in the notebook's order it would pass
    assert _statuses(view[REPORT_MIME]) == {"sum_squares_error": "failed"}
    assert "In [1] (cell 2), In [2] (cell 1), In [3] (cell 3)" in view["text/plain"]
    assert "different order" in html.unescape(view["text/html"])
