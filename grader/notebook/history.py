"""The kernel's input history as a submission: the cells run so far, in the order they ran.

The history is written as a notebook (one code cell per input, with its execution count), so that
magics and shell lines are read exactly as the notebook loader reads them in a saved notebook
(grader/loaders/notebook.py). Only the folder differs: the code ran in the kernel's working
folder, so the student's modules and data files are found beside it there, as for a notebook
saved in that folder, not beside the private file the history was written to.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..loaders.base import Submission, sibling_files
from ..loaders.notebook import read_notebook_cells


@dataclass(frozen=True)
class HistoryEntry:
    """One input the kernel ran: its execution count and its code, as typed."""

    count: int
    source: str


def write_history(entries: list[HistoryEntry], path: Path) -> None:
    """``entries`` as a v4 notebook at ``path``, in the order they ran."""
    cells = [{"cell_type": "code", "execution_count": e.count, "metadata": {}, "outputs": [],
              "source": e.source} for e in entries]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    path.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")


class HistoryLoader:
    """Reads the one history file a warm grading process wrote, as a notebook in ``folder``.

    It accepts that file only: the grading process registers it for the one grading it does
    (warm.py), and `grade` itself never has it, so no submission handed in can name a folder.
    """

    name = "kernel history"

    def __init__(self, file: Path, folder: Path, label: str) -> None:
        self.file, self.folder, self.label = file, folder, label

    def accepts(self, path: Path) -> bool:
        return path == self.file

    def load(self, path: Path) -> Submission:
        cells, skipped = read_notebook_cells(path, self.label)
        return Submission(self.folder / self.label, tuple(cells), sibling_files(self.folder), tuple(skipped))


ACTIVE: list[HistoryLoader] = []  # set by the warm grading process for its one grading (plugin.py)


