"""Where a report goes and what a bad input costs, found by the fresh-eyes pass of issue 13.

-o follows a link and writes through a device or a pipe (never replacing them with a file) and
refuses a read-only file; a standard output that cannot take the report is an error, not a
traceback; a plugin failing after grading keeps the report; an oversized file is refused before
it is read; a notebook cell that is not text is refused as nbformat refuses it; a second
submission on the command line points to `grade class`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS, run_grade
from grader.worker.client import Limits, WorkerClient

def test_an_oversized_py_file_is_refused_before_it_is_read(tmp_path):
    from grader.submission.handover import hand_over
    from grader.loaders.base import SubmissionError

    big = tmp_path / "big.py"
    big.write_bytes(b"x = 1\n" * 400_000)  # 2.4 MB

    class NoLoaders:
        class hook:
            @staticmethod
            def grader_loaders():
                raise AssertionError("the file was read")

    with WorkerClient(Limits()) as worker, pytest.raises(SubmissionError, match="2.4 MB of code"):
        hand_over(big, NoLoaders, worker, [])


def test_a_notebook_cell_whose_source_is_not_text_is_refused_as_nbformat_refuses_it(tmp_path):
    notebook = tmp_path / "odd.ipynb"
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1, "source": [1, 2]}]}))
    result = run_grade(str(notebook))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is JSON but not laid out as a Jupyter notebook" in result.stderr  # not Python's "expected str instance"


def test_a_report_file_written_through_a_link_keeps_the_link_and_a_read_only_file_is_not_replaced(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = run_grade(str(SUBMISSIONS / "correct.py"), "-f", "json", "-o", str(link))
    assert result.returncode == 0 and link.is_symlink() and json.loads(target.read_text())["score"] == 100.0
    locked = tmp_path / "locked.json"
    locked.write_text("keep")
    locked.chmod(0o444)
    result = run_grade(str(SUBMISSIONS / "correct.py"), "-f", "json", "-o", str(locked))
    assert result.returncode == 2 and "read-only" in result.stderr and locked.read_text() == "keep"


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
def test_a_report_sent_to_a_named_pipe_goes_through_it_and_the_pipe_stays(tmp_path):
    import os
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = run_grade(str(SUBMISSIONS / "correct.py"), "-f", "json", "-o", str(fifo))
    reader.join(30)
    assert result.returncode == 0 and json.loads(received[0])["score"] == 100.0
    assert fifo.is_fifo()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("-f", "json"), (), ("--list-exercises",)], ids=["json", "terminal", "listing"])
def test_standard_output_that_cannot_take_the_report_is_an_error_not_a_traceback(args):
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "grader.cli", *([str(SUBMISSIONS / "correct.py")]
                                if args != ("--list-exercises",) else []), *args], cwd=ROOT, stdout=full,
                                stderr=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2, result.stderr
    assert "cannot write to standard output" in result.stderr and "Traceback" not in result.stderr


def test_a_plugin_that_fails_once_the_report_is_ready_is_named_and_the_report_stands(tmp_path):
    plugin = tmp_path / "lms_down.py"
    plugin.write_text("from grader import hookimpl\n\n@hookimpl\ndef grader_report_ready(report):\n"
                      "    raise ConnectionError('the LMS is down')\n")
    out = tmp_path / "r.json"
    result = run_grade(str(SUBMISSIONS / "correct.py"), "--plugin", str(plugin), "-f", "json", "-o", str(out),
                       "-f", "terminal")
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert "lms_down" in result.stderr and "ConnectionError: the LMS is down" in result.stderr
    assert json.loads(out.read_text())["score"] == 100.0 and "sum_squares_error" in result.stdout


def test_a_second_submission_on_the_command_line_points_to_grade_class():
    result = run_grade(str(SUBMISSIONS / "correct.py"), str(SUBMISSIONS / "hard_coded.py"))
    assert result.returncode == 2 and "grade class FOLDER" in result.stderr and "hard_coded.py" in result.stderr
    assert "unrecognized arguments: --bogus" in run_grade(str(SUBMISSIONS / "correct.py"), "--bogus").stderr
