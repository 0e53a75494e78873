"""Loader for Jupyter notebooks: the code cells, in order.

A current (v4) notebook is read as the JSON it is; nbformat reads every other one. nbformat's
reading of a v4 file is json.loads plus a full JSON-schema validation whose findings a grader
would discard anyway (a student's notebook that Jupyter saved with a stray field is still
graded), and importing and validating costs 80-190 ms of every `grade notebook.ipynb`, while the
cells come out the same: code cells' ``source`` joined, their ``execution_count``. Older formats
(v3 worksheets and before), files that are not JSON and anything unexpected go through nbformat,
which converts what it can and words the errors.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..hookspecs import hookimpl
from ..i18n import _
from .base import CodeCell, Submission, SubmissionError, read_text, sibling_files
from .ipython_syntax import to_python


class NotebookLoader:
    name = "notebook"

    def accepts(self, path: Path) -> bool:
        return path.suffix.lower() == ".ipynb"

    def load(self, path: Path) -> Submission:
        cells, skipped = read_notebook_cells(path, path.name)
        return Submission(path, tuple(cells), sibling_files(path.parent), tuple(skipped))


def read_notebook_cells(path: Path, label: str, prefix: str = "") -> tuple[list[CodeCell], list[tuple[str, str]]]:
    """Code cells of one notebook as CodeCells; cells that are not Python are listed, not run."""
    text = read_text(path)
    notebook = _current_notebook(text)
    if notebook is None:
        notebook = _read_with_nbformat(text, label)
    cells: list[CodeCell] = []
    skipped: list[tuple[str, str]] = []
    number = 0
    for index, cell in enumerate(notebook.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        count = cell.get("execution_count")
        # In [12] is what the student sees beside the cell; unexecuted cells have no number.
        origin = prefix + (f"In [{count}]" if isinstance(count, int) else _("cell {number}").format(number=number))
        python, note = to_python(source)
        if note:
            skipped.append((origin, note))
        if python.strip():
            cells.append(CodeCell(f"{prefix}{index}", python, origin))
    if number == 0:
        raise SubmissionError(_("{name} has no code cells: there is nothing to grade").format(name=label))
    return cells, skipped


def _current_notebook(text: str) -> dict | None:
    """A v4 notebook's JSON, or None for anything nbformat should read (older, broken, odd)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and type(data.get("nbformat")) is int and data["nbformat"] == 4 \
            and isinstance(data.get("cells"), list) and all(_plain_cell(c) for c in data["cells"]):
        return data
    return None


def _plain_cell(cell) -> bool:
    """A cell as Jupyter writes it: its source is text or a list of text (else nbformat decides)."""
    if not isinstance(cell, dict):
        return False
    source = cell.get("source", "")
    return isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))


def _read_with_nbformat(text: str, label: str) -> dict:
    import nbformat  # imported here: only old or odd notebooks need it, and it takes a tenth of a second

    try:
        return nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "JSON" in type(exc).__name__ or "json" in reason.lower() or "Expecting" in reason:
            raise SubmissionError(_("{name} is not a valid notebook: it is not JSON ({reason}). Was it saved "
                                    "completely? Open it in Jupyter and save it again.").format(
                name=label, reason=reason[:200])) from None
        if isinstance(exc, (TypeError, AttributeError, KeyError, IndexError)):  # Python's words, not the file's
            raise SubmissionError(_("{name} is JSON but not laid out as a Jupyter notebook. Was it written by "
                                    "another program? Open it in Jupyter and save it again.").format(
                name=label)) from None
        raise SubmissionError(_("{name} is not a valid Jupyter notebook ({reason})").format(
            name=label, reason=reason[:200])) from None


@hookimpl
def grader_loaders() -> list:
    return [NotebookLoader()]
