"""The `grade` command line: its options, their help, and the checks argparse cannot make itself.

Apart from grader/cli/main.py so that `grade` reads the command line only once the worker is on its
way (argparse is imported here, not before the worker is spawned).
"""
from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ..i18n import _

DESCRIPTION = """\
Grade the chapter-4 exercises of 'Deep Learning from Scratch' (or another assignment).

PATH is what the student handed in:
  a .py file            graded as one module
  a notebook (.ipynb)   its code cells, in order (IPython magics and shell lines are skipped)
  a folder              every .py file and notebook directly in it, in the book's layout
                        (their `from common.functions import *` finds common/ beside them)
"""

EPILOG = """\
subcommands (grade SUBCOMMAND --help for their options):
{subcommands}

reports: -f FORMAT [-o FILE], repeatable. Each -o names the file of the -f before it;
at most one format goes to standard output:
  grade sub.py -f terminal -f json -o report.json -f html -o report.html

exit status:
  0  every exercise passed (with --fail-under: the score reached it)
  1  some exercise did not pass (with --fail-under: the score is below it)
  2  bad usage, or a submission that cannot be graded at all (missing file, syntax error,
     empty, binary, not Python); machine formats still get a report with score 0
  3  an internal error of the grader (a bug: please report it with the submission)
  128+N  stopped by signal N (130: Ctrl-C, 143: SIGTERM); the worker and its folder are removed first
"""

USAGE = """grade [options] PATH
       grade SUBCOMMAND [options]
       grade --list-exercises | --list-assignments | --list-plugins | --version"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, told the terminal's width: argparse would import shutil for it (and shutil bz2 and
    lzma, 2 ms of every `grade`) each time an option is added, only to check the option's metavar."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


def _columns() -> int:
    """The width shutil.get_terminal_size() gives: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(subcommands: dict) -> "argparse.ArgumentParser":
    """The `grade` command line; ``subcommands``: name -> (function, one-line description), for the help."""
    from pathlib import Path

    from ..i18n import LANGUAGES

    class _InOrder(argparse.Action):
        """-f and -o are paired by their order on the command line, so both are recorded in one list."""

        def __call__(self, parser, namespace, values, option_string=None):
            events = list(getattr(namespace, "events", None) or [])
            events.append((self.dest, values))
            namespace.events = events

    subcommands = "\n".join(f"  {name:<20} {text}" for name, (_main, text) in subcommands.items())
    parser = argparse.ArgumentParser(prog="grade", usage=USAGE, description=DESCRIPTION,
                                     epilog=EPILOG.format(subcommands=subcommands), formatter_class=_Formatter)
    parser.add_argument("path", nargs="?", type=Path, metavar="PATH",
                        help="the submission: a .py file, a notebook (.ipynb) or a folder")
    parser.add_argument("--version", action="version", version=f"grade (dlfs-grader) {__version__}")
    parser.add_argument("--format", "-f", dest="format", action=_InOrder, metavar="FORMAT",
                        help="terminal (default), json, html, junit, gradescope or markdown (repeatable)")
    parser.add_argument("-o", "--output", dest="output", action=_InOrder, metavar="FILE",
                        help="write the report of the -f before it to FILE instead of standard output")
    parser.add_argument("--assignment", metavar="NAME_OR_FILE", default=None,
                        help="the exercises that count and their points: an installed assignment "
                             "(default chapter4, see --list-assignments) or an instructor's .toml file")
    parser.add_argument("--only", action="append", default=[], metavar="ID",
                        help="grade only this exercise (repeatable); see --list-exercises")
    parser.add_argument("--list-exercises", action="store_true", help="list the exercises and exit")
    parser.add_argument("--list-assignments", action="store_true", help="list the assignments and exit")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="CPU-time limit for each call into the submission (default 5; code that sleeps "
                             "is stopped after three times as long on the clock)")
    parser.add_argument("--total-timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit for the whole submission (default 60); the report says what was not "
                             "graded")
    parser.add_argument("--fail-under", default=None, metavar="SCORE",
                        help="exit 0 when the score reaches SCORE points (or SCORE%% of the maximum), else 1")
    parser.add_argument("--within", type=Path, default=None, metavar="DIR",
                        help="the student's repository root may not be above DIR: nothing outside it is copied for "
                             "the student's code (an autograder's submission folder)")
    parser.add_argument("--watch", action="store_true",
                        help="grade PATH again each time it is saved (a file, notebook or folder), redrawing the "
                             "report; Ctrl-C stops")
    parser.add_argument("--save-inputs", type=Path, default=None, metavar="DIR",
                        help="write the inputs of each failing case too large to show in the report to DIR "
                             "(.npz files the report's snippets load)")
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of the feedback: en, ko, ja or zh (default: from LANG / LC_ALL, else en)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                        help="load a grader plugin: a module name or a .py file (repeatable)")
    parser.add_argument("--exercises", action="append", default=[], type=Path, metavar="DIR",
                        help="add the exercise specs in DIR, with their reference modules beside them (repeatable)")
    parser.add_argument("--list-plugins", action="store_true", help="list the loaded plugins and exit")
    from ..specs.instructor_secret import secret_file  # light: the worker starts before NumPy is imported here
    parser.add_argument("--secret-file", type=secret_file, metavar="FILE",
                        help="instructors: salt the random cases' seeds with the secret in FILE (or set "
                             "DLFS_GRADER_SECRET), so inputs seen on a student's machine differ from yours")
    parser.add_argument("--doctor", action="store_true",
                        help="show how this machine isolates the student's code, and why a layer is missing; "
                             "exit 0 only when the strongest level (namespaces+seccomp) is available")
    return parser


def parse(parser: "argparse.ArgumentParser", argv: list[str]) -> "argparse.Namespace":
    """parse_args, with a pointer to `grade class` for a second submission (`grade a.py b.py`)."""
    args, extra = parser.parse_known_args(argv)
    if extra and not any(arg.startswith("-") for arg in extra):
        parser.error(_("grade grades one submission at a time ({extra} is one more); for several, put them in a "
                       "folder and run `grade class FOLDER -o OUTDIR`").format(extra=" ".join(extra)))
    if extra:
        parser.error(argparse._("unrecognized arguments: %s") % " ".join(extra))  # argparse's own words
    return args


def threshold(text: str | None, parser: "argparse.ArgumentParser") -> tuple[float, bool] | None:
    if text is None:
        return None
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        parser.error(_("--fail-under takes a score, e.g. 80 or 80%, not {value!r}").format(value=text))
    return value, text.endswith("%")
