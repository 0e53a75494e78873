"""Loader for Jupyter notebooks: the code cells, in order, read with nbformat."""
from __future__ import annotations

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
    import nbformat  # imported here: only notebooks need it, and it takes a tenth of a second

    text = read_text(path)
    try:
        notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "JSON" in type(exc).__name__ or "json" in reason.lower() or "Expecting" in reason:
            raise SubmissionError(_("{name} is not a valid notebook: it is not JSON ({reason}). Was it saved "
                                    "completely? Open it in Jupyter and save it again.").format(
                name=label, reason=reason[:200])) from None
        raise SubmissionError(_("{name} is not a valid Jupyter notebook ({reason})").format(
            name=label, reason=reason[:200])) from None
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


@hookimpl
def grader_loaders() -> list:
    return [NotebookLoader()]
