"""The ``grade`` command: argument parsing and exit codes only.

Exit status: 0 every exercise passed, 1 some did not, 2 bad usage or a submission
that cannot be graded at all, 3 an internal error of the grader itself.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .i18n import LANGUAGES, _, current, from_environment, use

EXIT_PASSED, EXIT_NOT_PASSED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade",
        description="Grade the chapter-4 exercises of 'Deep Learning from Scratch' in a .py submission.",
        epilog="Exit status: 0 all exercises passed, 1 some did not, 2 the submission could not be graded.")
    parser.add_argument("path", nargs="?", type=Path, help="the submission: a .py file")
    parser.add_argument("--format", "-f", default="terminal", help="terminal (default), json, html, junit, gradescope or markdown")
    parser.add_argument("-o", "--output", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument("--only", action="append", default=[], metavar="ID",
                        help="grade only this exercise (repeatable); see --list-exercises")
    parser.add_argument("--list-exercises", action="store_true", help="list the exercises and exit")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit for each call into the submission (default 5)")
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of the feedback: en, ko, ja or zh (default: from LANG / LC_ALL, else en)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                        help="load a grader plugin: a module name or a .py file (repeatable)")
    parser.add_argument("--exercises", action="append", default=[], type=Path, metavar="DIR",
                        help="add the exercise specs in DIR, with their reference modules beside them (repeatable)")
    parser.add_argument("--list-plugins", action="store_true", help="list the loaded plugins and exit")
    return parser


def check_exercises_main(argv: list[str]) -> int:
    """`grade check-exercises [DIR ...]`: validate exercise specs (default: every loaded exercise folder)."""
    parser = argparse.ArgumentParser(prog="grade check-exercises",
                                     description="Validate exercise spec files and their reference code.")
    parser.add_argument("folders", nargs="*", type=Path, help="folders of *.toml specs (default: all loaded)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE")
    args = parser.parse_args(argv)
    from .exercises import SpecError
    from .plugins import ExerciseFolder, PluginError, make_manager
    from .spec_check import check_folder

    try:
        pm = make_manager(extra=args.plugin, exercise_dirs=args.folders)
        folders = [Path(f) for f in args.folders] or [Path(d) for impl in pm.hook.grader_exercise_dirs.get_hookimpls()
                                                      for d in impl.function() or ()]
        for folder in folders:
            if not folder.is_dir():
                raise PluginError(f"{folder}: no such folder")
        seen: dict[str, str] = {}
        reports = [r for folder in folders for r in check_folder(folder, pm, seen)]
    except (PluginError, SpecError) as exc:
        print(f"grade check-exercises: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not reports:
        print("grade check-exercises: error: no *.toml exercise specs found", file=sys.stderr)
        return EXIT_USAGE
    for report in reports:
        if report.problems:
            print(f"✘ {report.path}")
            for problem in report.problems:
                print(f"    {problem}")
        else:
            print(f"✔ {report.path}: {report.cases} cases, {report.checks} named checks")
    bad = sum(1 for r in reports if r.problems)
    print(f"{len(reports) - bad} passed, {bad} failed")
    return EXIT_NOT_PASSED if bad else EXIT_PASSED


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check-exercises"]:
        return check_exercises_main(argv[1:])
    if argv[:1] == ["class"]:
        from .classroom.cli import main as class_main
        return class_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    with use(args.lang or from_environment()):
        return _main(args, parser)


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not (args.list_exercises or args.list_plugins) and args.path is None:
        parser.error(_("give the submission to grade, e.g. `grade chapter4.py`"))
    if args.timeout is not None and not 0 < args.timeout <= 600:
        parser.error(_("--timeout must be between 0 and 600 seconds"))
    worker = None
    if not (args.list_exercises or args.list_plugins):
        # Start the sandbox first: it imports NumPy while this process loads the grader.
        from .worker import spawn
        workdir = spawn.new_workdir()
        process = spawn.spawn(workdir, spawn.DEFAULT_MEMORY_MB, spawn.DEFAULT_CPU_SECONDS)
        from .worker.client import Limits, WorkerClient
        limits = Limits() if args.timeout is None else Limits(call_seconds=args.timeout)
        worker = WorkerClient(limits, started=(workdir, process))
    try:
        return _run(args, parser, worker)
    except KeyboardInterrupt:
        print(_("grade: interrupted"), file=sys.stderr)
        return 130
    finally:
        if worker is not None:
            worker.close()


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser, worker) -> int:
    from .exercises import SpecError
    from .loaders.base import SubmissionError
    from .plugins import PluginError, default_manager, describe, make_manager, merged

    try:
        pm = make_manager(extra=args.plugin, exercise_dirs=args.exercises) if args.plugin or args.exercises \
            else default_manager()
        reporters = merged(pm.hook.grader_reporters())
        if args.list_plugins:
            for name, origin in describe(pm):
                print(f"{name:<48} {origin}")
            return EXIT_PASSED
        if args.list_exercises:
            from .session import load_exercises
            for exercise in load_exercises(pm, args.only):
                print(f"{exercise.id:<22} {exercise.points:>5g} pts  §{exercise.section:<12} {_(exercise.title)}"
                      f"  [{exercise.plugin}]")
            return EXIT_PASSED
        if args.format not in reporters:
            parser.error(_("unknown format '{name}' (choose from {names})").format(
                name=args.format, names=", ".join(sorted(reporters))))
        from .session import grade
        report = grade(args.path, pm, worker, args.only, lang=current())
    except (SubmissionError, SpecError, PluginError) as exc:
        print(_("grade: error: {message}").format(message=exc), file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # never a traceback for a student; say what to report instead
        print(_("grade: internal error: {error}\nThis is a bug in the grader, not in your code. Please report it "
                "with the submission.").format(error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_INTERNAL
    to_terminal = args.output is None and sys.stdout.isatty()
    text = reporters[args.format](report, tty=to_terminal)
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(_("grade: error: cannot write {path}: {reason}").format(path=args.output, reason=exc.strerror),
                  file=sys.stderr)
            return EXIT_USAGE
        print(_("report written to {path} (score {score:g}/{max_score:g})").format(
            path=args.output, score=report.score, max_score=report.max_score), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_PASSED if report.all_passed else EXIT_NOT_PASSED


if __name__ == "__main__":
    sys.exit(main())
