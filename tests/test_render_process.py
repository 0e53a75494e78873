"""The render process (grader/reporters/render_process.py): the HTML reports it makes
are the ones the grading process makes, a failure costs what it cost before, and nothing is left.
"""
from __future__ import annotations

import json
import os
import sys
import time

import pytest

from conftest import SUBMISSIONS, grade_path, run_grade
from grader.reporters import html, terminal
from grader.reporters.render_process import BUILT_IN, RenderError, RenderProcess, formats_asked

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the render process is Linux-only")


@pytest.fixture(scope="module")
def report():
    return grade_path(SUBMISSIONS / "mistake_softmax_overflow.py")


@pytest.fixture
def process(monkeypatch):
    # The deadline is the test's, not the machine's: a cold process loading jinja2 and Pygments at
    # nice 19 may take seconds on a slow or busy machine, and a test must not depend on that.
    from grader.reporters import render_process
    monkeypatch.setattr(render_process, "ANSWER_SECONDS", 60.0)
    started = RenderProcess.spawn(["terminal", "html", "json"])
    assert started is not None and started.formats == ("html",)  # the terminal report needs no rich
    yield started
    started.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("tty", [False, True])
def test_the_render_process_gives_the_text_the_grading_process_gives(process, report, lang, tty):
    from dataclasses import replace

    graded = replace(report, lang=lang)
    process.start(lang, tty)
    assert process.handles("html", html.render) and not process.handles("terminal", terminal.render)
    assert process.render("html", graded, tty) == html.render(graded, tty=tty)


def test_a_renderer_that_raises_there_is_reported_as_it_would_be_here(process, report):
    from dataclasses import replace

    broken = replace(report, exercises=(None,))
    process.start("en", False)
    with pytest.raises(RenderError) as raised:
        process.render("html", broken, False)
    with pytest.raises(Exception) as here:
        html.render(broken)
    assert raised.value.detail == f"{type(here.value).__name__}: {here.value}"
    assert process.render("html", report, False) == html.render(report)  # it goes on


def test_a_render_process_that_died_makes_the_grading_process_render_itself(process, report):
    process.start("en", False)
    os.kill(process.pid, 9)
    assert process.render("html", report, False) is None and process.broken
    assert not process.handles("html", html.render)


def test_a_render_process_that_does_not_answer_in_time_is_ended_and_the_grading_process_renders(process, report):
    import signal
    process.start("en", False)
    assert process.render("html", report, False) == html.render(report)  # ready and answering
    os.kill(process.pid, signal.SIGSTOP)  # as if starved at nice 19 on a busy machine
    from grader.reporters import render_process
    render_process.ANSWER_SECONDS = 0.25  # the real deadline again (the fixture's monkeypatch restores it)
    started = time.monotonic()
    assert process.render("html", report, False) is None
    assert time.monotonic() - started < 2.0 and process.broken and not _alive(process.pid)


def test_only_the_built_in_renderers_of_the_formats_asked_for_go_to_it(process):
    process.start("en", False)

    def render(report, tty=False):
        return "mine"
    assert not process.handles("html", render) and not process.handles("json", html.render)
    assert formats_asked(["sub.py"]) == ["terminal"]
    assert formats_asked(["sub.py", "-f", "json", "--format=html", "-fmarkdown"]) == ["json", "html", "markdown"]
    assert RenderProcess.spawn(["json", "junit"]) is None
    assert RenderProcess.spawn(["terminal"]) is None  # drawn without rich, in the grading process
    assert set(BUILT_IN) == {"html"}


def test_closing_it_leaves_no_process_even_while_it_loads():
    started = RenderProcess.spawn(["html"])
    pid = started.pid
    started.close()
    assert not _alive(pid)


def test_it_ends_by_itself_when_the_grading_process_is_gone(tmp_path):
    # The grading process killed outright: its end of the pipe closes, and the render process ends.
    import subprocess
    script = ("import sys, time; sys.path.insert(0, %r)\n"
              "from grader.reporters.render_process import RenderProcess\n"
              "p = RenderProcess.spawn(['html']); p.start('en', False); print(p.pid, flush=True); time.sleep(60)\n"
              % str(SUBMISSIONS.parent.parent.parent))
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    # At nice 19 beside busy processes it may get a core only now and then (two busy loops on this
    # 2-core machine: more than 10 s to finish loading jinja2 and read its pipe): a generous bound,
    # not a measure of speed. On a quiet machine it ends within a second.
    deadline = time.monotonic() + 180
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_grade_prints_the_same_terminal_report_with_and_without_it(tmp_path):
    outputs = {}
    for setting in ("on", "off"):
        os.environ["DLFS_RENDER_PROCESS"] = setting
        try:
            result = run_grade(str(SUBMISSIONS / "mistake_softmax_overflow.py"), "-f", "terminal",
                               "-f", "html", "-o", str(tmp_path / f"{setting}.html"))
        finally:
            del os.environ["DLFS_RENDER_PROCESS"]
        assert result.returncode == 1, result.stderr
        outputs[setting] = result.stdout
        assert "<title>" in (tmp_path / f"{setting}.html").read_text()
    assert outputs["on"] == outputs["off"] and "mistake_softmax_overflow.py" in outputs["on"]


def test_a_plugin_that_replaces_the_terminal_renderer_is_the_one_used(tmp_path):
    plugin = tmp_path / "my_terminal.py"
    plugin.write_text("from grader import hookimpl\n\ndef render(report, tty=False):\n    return 'my report\\n'\n\n"
                      "@hookimpl\ndef grader_reporters():\n    return {'terminal': render}\n")
    result = run_grade(str(SUBMISSIONS / "correct.py"), "--plugin", str(plugin))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "my report\n"
