"""Make docs/notebook-view.png: a short chapter-4 notebook with a mistake, run with `%grade` in a real
kernel, converted by nbconvert (JupyterLab's template) and rendered by headless Chromium.

Usage: python docs/screenshot_notebook_view.py   (needs nbclient, ipykernel, nbconvert and chromium)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
CELLS = [
    "import numpy as np",
    "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2)",
    "def cross_entropy_error(y, t):\n    if y.ndim == 1:\n        t = t.reshape(1, t.size)\n"
    "        y = y.reshape(1, y.size)\n    batch_size = y.shape[0]\n"
    "    return -np.sum(t * np.log(y)) / batch_size",
    "%load_ext grader",
    "%grade sum_squares_error cross_entropy_error",
]


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="notebook-view-"))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    path = folder / "chapter4.ipynb"
    env = dict(os.environ, PYTHONPATH=str(ROOT), JPY_SESSION_NAME=str(path))
    nbformat.write(notebook, path)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel(env=env):
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    page = folder / "chapter4.html"
    page.write_text(HTMLExporter(template_name="lab").from_notebook_node(notebook)[0], encoding="utf-8")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    shot = ROOT / "docs" / "notebook-view.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", "--window-size=1000,1130", f"--screenshot={shot}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)
    print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
