"""The terminal report drawn without rich (grader/reporters/terminal_draw.py) is rich's text, byte for byte.

rich is the oracle: every layout terminal_draw draws must be the text rich writes for it, in colour
and without, at any width, in every language, and a layout it cannot promise that for is declined
and drawn by rich. Checked on real gradings and on generated reports full of what breaks layouts:
markup-like brackets, backslashes, wide characters, long words, tabs, emoji, combining marks.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ROOT, SUBMISSIONS, grade_path
from grader.i18n import _, use
from grader.report import CheckResult, Diagnosis, ExerciseResult, Report, Statement
from grader.reporters import labels, terminal_cells, terminal_draw, terminal_text
from grader.reporters.terminal_layout import STYLE, layout, status_label

LANGUAGES = ("en", "ko", "ja", "zh")


def _both(report: Report, width: int, colour: bool = False) -> tuple[str | None, str]:
    with use(report.lang):
        shown = layout(report, width)
    return terminal_draw.draw(shown, width, colour), terminal_text.rich_text(shown, width, colour)


def _code_points(character_class: str):
    for first, last in re.findall(r"\\u([0-9a-f]{4})(?:-\\u([0-9a-f]{4}))?", character_class):
        yield from range(int(first, 16), int(last or first, 16) + 1)


def test_every_character_drawn_is_as_wide_as_rich_counts_it_in_every_unicode_version():
    from rich._unicode_data._versions import VERSIONS
    from rich.cells import get_character_cell_size

    import unicodedata
    for character_class, width in ((terminal_cells._NARROW, 1), (terminal_cells._WIDE, 2)):
        points = list(_code_points(character_class))
        assert len(points) > 1000
        for point in points:
            character = chr(point)
            assert not unicodedata.category(character).startswith(("M", "C", "Z")) or character == " ", hex(point)
            assert {get_character_cell_size(character, version) for version in VERSIONS} == {width}, hex(point)
    # The report's own marks and the languages' scripts are among them.
    for text in ("✔ ◐ ✘ ∅ ⧗ → · § … “”", "점수 통과", "点数 合格",
                 "スコア 合格（）"):
        assert terminal_cells._DRAWN.fullmatch(text), text
    for text in ("\t", "😀", "e\u0301", "\u200b", "\u3000", "\x1b"):
        assert not terminal_cells._DRAWN.fullmatch(text), repr(text)


@pytest.fixture(scope="module")
def graded() -> list[Report]:
    found = [grade_path(SUBMISSIONS / name) for name in ("correct.py", "mistake_softmax_overflow.py")]
    found.append(grade_path(ROOT / "tests" / "fixtures" / "seeds" / "seed_001.ipynb"))
    found.append(grade_path(ROOT / "tests" / "fixtures" / "students" / "koubai"))  # Japanese names and comments
    return [replace(r, isolation="namespaces+seccomp") for r in found]


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_real_reports_are_drawn_without_rich_exactly_as_rich_draws_them(graded, lang, colour):
    for report in graded:
        for width in (40, 63, 80, 110, 200):  # 40 and 63: the table's columns are narrowed and wrap
            drawn, rich = _both(replace(report, lang=lang), width, colour)
            assert drawn is not None, (report.submission, width)
            assert drawn == rich, (report.submission, width)
            assert ("\x1b[" in drawn) == colour


def test_a_layout_that_cannot_be_promised_is_drawn_by_rich(graded):
    report = graded[1]
    failing = next(e for e in report.exercises if e.status != "passed")
    tabbed = replace(report, exercises=(replace(failing, message="a\tb"),))
    assert _both(tabbed, 110)[0] is None
    assert terminal_text.render(tabbed) == _both(tabbed, 110)[1] and "a       b" in terminal_text.render(tabbed)
    backslash = replace(report, exercises=(replace(failing, message="C:\\work\\"),))
    assert _both(backslash, 110)[0] is None
    assert terminal_text.render(backslash) == _both(backslash, 110)[1]
    assert _both(report, terminal_draw.MIN_WIDTH - 1)[0] is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_narrow_terminal_drops_columns_and_never_cuts_a_name_a_status_or_a_score(graded, lang):
    report = replace(graded[2], lang=lang)  # seed_001: statuses, points like 8.33/25, graded names
    header = lambda text: next(line for line in text.splitlines() if line.startswith("┃"))  # noqa: E731
    wide, _rich = _both(report, 110)
    assert "§" in header(wide)
    for width, gone in ((80, {"§"}), (60, {"§", "graded"}), (50, {"§", "graded", "checks"})):
        narrow, rich = _both(report, width)
        assert narrow == rich
        with use(lang):
            names = {"§": "§", "graded": _(labels.GRADED), "checks": _(labels.CHECKS)}
        assert {n for n, label in names.items() if label not in header(narrow)} == gone, (width, header(narrow))
        rows = [line for line in narrow.splitlines() if line.startswith("│ ")][:len(report.exercises) * 3]
        for exercise in report.exercises:
            with use(lang):
                label, _colour = status_label(exercise.status)
            row = next(line for line in rows if line.startswith(f"│ {exercise.id} "))
            assert label in row and f"{exercise.score:g}/{exercise.max_score:g}" in row, (width, row)
        assert max(terminal_cells.cells(line) for line in narrow.splitlines()) == width


@pytest.mark.parametrize("width, extra", [(40, -4), (40, 5), (80, 0), (110, -4), (110, 3)])
def test_a_column_wider_than_the_whole_table_is_measured_as_rich_measures_it(width, extra):
    # Found by a red-team pass: rich caps a column at the table's room before it narrows any.
    exercise = ExerciseResult("x" * (width + extra), "t", "4.5", "partial", 33.33, 100.0, "f")
    drawn, rich = _both(Report("s.py", (exercise,)), width, colour=True)
    assert drawn == rich


def test_a_panel_of_many_diagnoses_is_drawn_as_rich_draws_it(graded):
    failing = next(e for e in graded[1].exercises if e.status != "passed")
    many = tuple(Diagnosis(f"rule-{i}", f"a cause, number {i}, said at some length") for i in range(300))
    drawn, rich = _both(replace(graded[1], exercises=(replace(failing, diagnoses=many),)), 80, colour=True)
    assert drawn is not None and drawn == rich


def test_a_mistake_in_the_drawing_costs_nothing_but_time(graded, monkeypatch):
    def broken(*args, **kwargs):
        raise IndexError("a bug")
    monkeypatch.setattr(terminal_draw, "_panel", broken)
    report = graded[1]  # it has panels
    assert _both(report, 110)[0] is None
    assert terminal_text.render(report) == _both(report, 110)[1]


def test_on_windows_rich_draws_the_report(graded, monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")  # an old console there: rich substitutes boxes and colours
    assert _both(graded[0], 110)[0] is None


# Generated reports: text made of what breaks layouts.
_PIECES = (list("abcxyz019 _.,:()`'\"-") + ["\n", "[", "]", "[b]", "[/]", "[bold]", "[/dim]", "\\", "\\[", "[a=1]",
           "가", "한국어", "字", "日本語", "ア", "（", "…", "→", "é", "Ω",
           "supercalifragilisticexpialidocious",
           "x" * 70, "가" * 45, "  ", "\t", "😀", "e\u0301", "\x1b", "\u00a0", ":warning:"])
_COMMON = [p for p in _PIECES if p not in ("\t", "😀", "e\u0301", "\u00a0")]


def _text(pieces, most: int = 12):
    return st.lists(st.sampled_from(pieces), max_size=most).map("".join)


def _reports(pieces):
    text = _text(pieces)
    check = st.builds(CheckResult, name=text, passed=st.booleans(), message=_text(pieces, 30), hint=text)
    exercise = st.builds(
        ExerciseResult, id=_text(pieces, 4), title=text, section=_text(pieces, 3),
        status=st.sampled_from(sorted(STYLE)),
        score=st.floats(0, 25, allow_nan=False), max_score=st.sampled_from([10.0, 15.0, 25.0]),
        graded_name=_text(pieces, 8), checks=st.lists(check, max_size=6).map(tuple),
        diagnoses=st.lists(st.builds(Diagnosis, id=_text(pieces, 3), message=text), max_size=2).map(tuple),
        message=text)
    return st.builds(Report, submission=_text(pieces, 10), exercises=st.lists(exercise, max_size=4).map(tuple),
                     statements=st.lists(st.builds(Statement, place=text, status=st.just("error"), message=text),
                                         max_size=2).map(tuple),
                     lang=st.sampled_from(LANGUAGES), isolation=st.sampled_from(["", "namespaces+seccomp"]),
                     error=st.one_of(st.just(""), text))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=_reports(_PIECES), width=st.integers(20, 160), colour=st.booleans())
def test_any_report_is_either_declined_or_drawn_exactly_as_rich_draws_it(report, width, colour):
    drawn, rich = _both(report, width, colour)
    assert drawn is None or drawn == rich


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=_reports(_COMMON), width=st.integers(terminal_draw.MIN_WIDTH, 160), colour=st.booleans())
def test_a_report_of_common_text_is_drawn_without_rich_at_any_usual_width(report, width, colour):
    drawn, rich = _both(report, width, colour)
    if drawn is None:  # only for what it must decline: a backslash rich's markup changes, a column with no room
        with use(report.lang):
            shown = layout(report, width)
        escaped = [p for item in shown.items if isinstance(item, terminal_draw.Panel)
                   for part in item.parts for p in part if isinstance(p, str)]
        table = shown.items[0]
        natural = [max(terminal_cells.cells(line) for c in column for line in c.split("\n")) + 2
                   for column in zip(table.headers, *table.rows)]
        narrowed = terminal_draw._column_widths(natural, width - len(natural) - 1, [not n for n in table.no_wrap])
        assert min(narrowed) < 3 or any(p.endswith("\\") or "\\[" in p for p in escaped), report
    else:
        assert drawn == rich


_RICH_LOADED = ("import sys; from grader.cli import main; status = main(sys.argv[1:]); "
                "print(status, any(m == 'rich' or m.startswith('rich.') for m in sys.modules), file=sys.stderr)")


def _environment(**changes: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES"):
        env.pop(name, None)
    env.update(changes)
    return env


@pytest.mark.parametrize("colour", [False, True])
def test_grading_into_a_pipe_never_loads_rich(colour):
    env = _environment(**({"FORCE_COLOR": "1"} if colour else {}))
    done = subprocess.run([sys.executable, "-c", _RICH_LOADED, str(SUBMISSIONS / "mistake_softmax_overflow.py")],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert done.stderr.split()[-2:] == ["1", "False"], done.stderr
    assert "mistake_softmax_overflow.py" in done.stdout and ("\x1b[" in done.stdout) == colour
    assert "╭─" in done.stdout and "┏" in done.stdout


@pytest.mark.parametrize("environment, tty, colour", [
    ({}, True, True), ({}, False, False), ({"NO_COLOR": "1"}, True, False), ({"NO_COLOR": ""}, True, True),
    ({"FORCE_COLOR": "1"}, False, True), ({"FORCE_COLOR": ""}, False, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False)])
def test_colours_follow_the_terminal_and_the_no_color_and_force_color_conventions(monkeypatch, environment, tty,
                                                                                 colour):
    for name in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)  # set to "": as if not set (no-color.org, force-color.org)
    assert terminal_text.uses_colour(tty) is colour


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal of Linux's")
def test_grading_in_a_terminal_is_in_colour_at_its_width_without_rich():
    import fcntl
    import pty
    import struct
    import termios

    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 72, 0, 0))  # 72 columns
    process = subprocess.Popen([sys.executable, "-c", _RICH_LOADED, str(SUBMISSIONS / "mistake_softmax_overflow.py")],
                               stdout=terminal, stderr=subprocess.PIPE, text=True, env=_environment(), cwd=ROOT)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    process.wait(timeout=120)
    assert process.stderr.read().split()[-2:] == ["1", "False"]  # exit status 1 (a failing check), no rich
    shown = b"".join(chunks).decode("utf-8")
    assert "\x1b[" in shown
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in shown.split("\r\n") if line]
    assert max(terminal_cells.cells(line) for line in lines) == 72  # the panels fill the terminal's width
    assert any(line.startswith("╭─ ") for line in lines) and any(line.startswith("┏") for line in lines)


def test_columns_sets_the_width_of_a_report_written_to_a_pipe(tmp_path):
    # COLUMNS is honoured when the output is not a terminal, as rich and most tools honour it.
    import os
    import subprocess
    import sys
    from conftest import ROOT, SUBMISSIONS
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "LINES")}
    widths = {}
    for columns in ("72", "", "abc"):
        env.update(PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS=columns)
        result = subprocess.run([sys.executable, "-m", "grader.cli", str(SUBMISSIONS / "mistake_sse_missing_half.py")],
                                env=env, capture_output=True, text=True, timeout=120)
        widths[columns] = max(len(line) for line in result.stdout.splitlines())
    assert widths["72"] == 72
    assert widths[""] == widths["abc"] == 110  # unset or nonsense: the pipe's default
