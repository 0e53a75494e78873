"""The ``grade`` command: argument parsing, exit codes and where the reports go.

Exit status: 0 every exercise passed (or the score reached ``--fail-under``), 1 some did
not, 2 bad usage or a submission that cannot be graded at all, 3 an internal error of the
grader itself. A submission that cannot be graded still gets its report in every
machine format asked for (score 0, the reason in words), so a CI step or Gradescope
always finds its file.
"""
from __future__ import annotations

import os
import sys
import time

# Only what starting the worker needs is imported up front: the worker is spawned before pathlib,
# typing, gettext, argparse and the rest load (they load while the worker imports NumPy; see
# EarlyWorker), so these names are imported where they are used.
from .. import __version__
from . import interrupts

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the annotations only
    import argparse
    from pathlib import Path
    from typing import Callable


def _(message: str) -> str:
    """Translate (grader.i18n, imported once the worker is on its way)."""
    from ..i18n import _ as translate
    return translate(message)


EXIT_PASSED, EXIT_NOT_PASSED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def check_exercises_main(argv: list[str]) -> int:
    """`grade check-exercises [DIR ...]`: validate exercise specs (default: every loaded exercise folder)."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="grade check-exercises",
                                     description="Validate exercise spec files and their reference code.")
    parser.add_argument("folders", nargs="*", type=Path, help="folders of *.toml specs (default: all loaded)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE")
    args = parser.parse_args(argv)
    from ..specs.exercises import SpecError
    from ..plugins import PluginError, make_manager
    from ..checking.spec_check import check_folder

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
    lines = []
    for report in reports:
        if report.problems:
            lines.append(f"✘ {report.path}")
            lines += [f"    {problem}" for problem in report.problems]
        else:
            lines.append(f"✔ {report.path}: {report.cases} cases, {report.checks} named checks")
    bad = sum(1 for r in reports if r.problems)
    lines.append(f"{len(reports) - bad} passed, {bad} failed")
    if not write_stdout("\n".join(lines) + "\n"):
        return EXIT_USAGE
    return EXIT_NOT_PASSED if bad else EXIT_PASSED


def class_main(argv: list[str]) -> int:
    from ..classroom.cli import main as grade_class
    return grade_class(argv)


def export_main(argv: list[str]) -> int:
    from .export import main as export
    return export(argv)


def gradescope_bundle_main(argv: list[str]) -> int:
    from .gradescope_bundle import main as bundle_main
    return bundle_main(argv)


# Subcommands: `grade NAME ...` runs the function with the remaining arguments. Add one line per subcommand.
SUBCOMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "check-exercises": (check_exercises_main, "validate exercise specs and their reference code"),
    "class": (class_main, "grade a whole class: a gradebook, per-student reports and a class overview"),
    "export": (export_main, "write grades into the LMS's own grade export, or reports into its bulk feedback upload"),
    "gradescope-bundle": (gradescope_bundle_main, "write a Gradescope autograder zip (setup.sh + run_autograder)"),
}


def write_stdout(text: str) -> bool:
    """Print to standard output; False, once stderr says why, when it cannot take the text.

    A reader that stops early (`grade --list-exercises | head -1`) is no error. A full disk
    (`> /dev/full`) or a closed descriptor (`>&-`) is: the report did not arrive.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError, AttributeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _("it is closed")
        _silence_stdout()
        try:
            print(_("grade: error: cannot write to standard output: {reason}").format(reason=reason), file=sys.stderr)
        except (OSError, ValueError, AttributeError):
            pass
        return False
    return True


def _stdout_is_a_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):  # closed (`grade sub.py >&-`): writing it will say so
        return False


def _silence_stdout() -> None:
    """Later writes, and the flush at exit, go nowhere instead of raising again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    except OSError:
        sys.stdout = None


def run() -> None:
    """The `grade` command (console script and ``python -m grader.cli``): :func:`main`, then out.

    A finished grading leaves nothing for the interpreter's teardown to do (the worker and its
    folder are gone, every report file was written and closed), and tearing down NumPy and the
    grader's modules costs about 30 ms: after flushing, the process exits at once. Subcommands
    (a class, maybe on Dask) exit normally, so their clients and threads shut down properly.
    """
    argv = sys.argv[1:]
    if not (argv[:1] and argv[0] in SUBCOMMANDS):
        # One grading allocates a few hundred thousand objects, nearly all kept to the end (modules,
        # the report): at the default threshold the collector ran 67 times, 7.7 ms, freeing almost
        # nothing. A long `grade class` keeps the default.
        import gc
        gc.set_threshold(100_000, 50, 1000)
    code = main(argv)
    if argv[:1] and argv[0] in SUBCOMMANDS:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed or full output: said where it failed
            pass
    os._exit(code)


# The grading process's NumPy works on small arrays: a pool of BLAS threads would only spin on the
# second core, which the worker needs (set before NumPy is imported, unless the user chose).
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv: list[str] | None = None, early=None) -> int:
    """`grade ARGV`; ``early``: an EarlyWorker already launched (``%grade``'s warm process), else one
    is launched here, first thing."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "numpy" not in sys.modules:
        for name, value in SINGLE_THREADED_BLAS.items():
            os.environ.setdefault(name, value)
    try:
        with interrupts.as_exceptions():
            if argv[:1] and argv[0] in SUBCOMMANDS:
                return SUBCOMMANDS[argv[0]][0](argv[1:])
            if "--watch" in argv and not any(arg in ("-h", "--help", "--version") for arg in argv):
                from .watch import watch
                return watch(argv)
            renders = None
            launch = early is None
            if launch:
                from ..worker.early import EarlyWorker
                early = EarlyWorker()
            try:
                if launch:
                    early.launch(argv)
                if early.process is not None:  # grading: the HTML report's render process
                    from ..reporters.render_process import RenderProcess, formats_asked
                    with interrupts.deferred():  # a stop waits until it has an owner that ends it
                        renders = RenderProcess.spawn(formats_asked(argv))
                from .arguments import build_parser, parse
                parser = build_parser(SUBCOMMANDS)
                args = parse(parser, argv)
                args.renders = renders
                from ..i18n import from_environment, use
                with use(args.lang or from_environment()):
                    return _main(args, parser, early)
            finally:
                early.discard()  # unless _main took it over: a usage error, --help, a listing
                if renders is not None:
                    renders.close()
    except (interrupts.Interrupted, KeyboardInterrupt) as stop:
        print(_("grade: interrupted"), file=sys.stderr)
        return getattr(stop, "exit_code", 130)


def _main(args: "argparse.Namespace", parser: "argparse.ArgumentParser", early) -> int:
    if args.doctor:
        from ..worker import doctor
        import io
        listing = io.StringIO()
        code = doctor.run(listing)
        return code if write_stdout(listing.getvalue()) else EXIT_USAGE
    from .report_files import TargetError, check_targets, input_files, pair
    from ..time_limit import DEFAULT_SECONDS

    listing = args.list_exercises or args.list_plugins or args.list_assignments
    if not listing and args.path is None:
        parser.error(_("give the submission to grade, e.g. `grade chapter4.py`"))
    if args.timeout is not None and not 0 < args.timeout <= 600:
        parser.error(_("--timeout must be more than 0 and at most 600 seconds"))
    if args.total_timeout is None:
        args.total_timeout = DEFAULT_SECONDS
    elif not 0 < args.total_timeout <= 24 * 3600:
        parser.error(_("--total-timeout must be more than 0 seconds"))
    from .arguments import threshold
    args.threshold = threshold(args.fail_under, parser)
    try:
        args.targets = pair(getattr(args, "events", None) or [])
    except TargetError as exc:
        parser.error(str(exc))
    if not listing:
        try:  # before the worker starts: a report file that would replace an input is a usage error
            check_targets(args.targets, input_files(args.path, args.plugin, args.exercises, args.assignment))
        except TargetError as exc:
            print(_("grade: error: {message}").format(message=exc), file=sys.stderr)
            return EXIT_USAGE
    worker = None
    try:
        if not listing:
            renders = getattr(args, "renders", None)
            if renders is not None:  # the language and the output are known: it can warm its renderers up
                renders.start(current_language(), any(t.path is None for t in args.targets) and _stdout_is_a_terminal())
            from ..worker.client import Limits, WorkerClient
            limits = Limits() if args.timeout is None else Limits(call_seconds=args.timeout)
            with interrupts.deferred():
                worker = WorkerClient(limits, started=early.take())
        return _run(args, worker)
    finally:
        with interrupts.deferred():  # a stop signal now waits until the worker and its folder are gone
            if worker is not None:
                worker.close()


def _visible(text: str) -> str:
    """A message that may quote the submission (a syntax error's line), with no raw control character."""
    from ..reporters.safe_text import visible
    return visible(text)


def _internal(exc: BaseException) -> str:
    return _("grade: internal error: {error}\nThis is a bug in the grader, not in your code. Please report it "
             "with the submission.").format(error=f"{type(exc).__name__}: {exc}")


def _run(args: "argparse.Namespace", worker) -> int:
    from ..submission.handover import hand_over_early
    handed = hand_over_early(args.path, worker, args.plugin, args.exercises, args.within)
    from ..specs.assignments import installed, resolve, select
    from ..specs.exercises import SpecError
    from ..loaders.base import SubmissionError
    from ..plugins import PluginError, default_manager, describe, make_manager, merged
    from .report_files import TargetError
    from ..specs.loading import load_exercises

    try:
        pm = make_manager(extra=args.plugin, exercise_dirs=args.exercises) if args.plugin or args.exercises \
            else default_manager()
        reporters = merged(pm.hook.grader_reporters())
        if args.list_plugins:
            return EXIT_PASSED if write_stdout("".join(f"{name:<48} {origin}\n" for name, origin in describe(pm))) \
                else EXIT_USAGE
        if args.list_assignments:
            shown = write_stdout("".join(f"{a.id:<16} {len(a.points):>2} exercises {a.total:>6g} pts  {_(a.title)}  "
                                         f"[{a.plugin}]\n" for a in installed(pm).values()))
            return EXIT_PASSED if shown else EXIT_USAGE
        assignment = resolve(pm, args.assignment)
        loaded = load_exercises(pm)
        exercises = select(assignment, loaded, args.only)
        if args.list_exercises:
            return EXIT_PASSED if write_stdout(_exercise_listing(assignment, loaded, exercises)) else EXIT_USAGE
        for target in args.targets:
            if target.format not in reporters:
                raise TargetError(_("unknown format '{name}' (choose from {names})").format(
                    name=target.format, names=", ".join(sorted(reporters))))
    except (SubmissionError, SpecError, PluginError, TargetError) as exc:
        print(_("grade: error: {message}").format(message=_visible(str(exc))), file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # never a traceback for a student; say what to report instead
        print(_internal(exc), file=sys.stderr)
        return EXIT_INTERNAL
    renders = getattr(args, "renders", None)
    if args.save_inputs is not None:
        from ..checking import reproduce
        reproduce.save_folder = args.save_inputs
    if worker is not None:
        _prepare_reports(worker, [reporters[t.format] for t in args.targets
                                  if renders is None or not renders.handles(t.format, reporters[t.format])])
    report, status = _grade(args, pm, worker, exercises, handed, assignment.book_code)
    from dataclasses import replace

    report = replace(report, assignment=assignment.id, grader_version=__version__, book_rule=assignment.book_code)
    if worker is not None:
        worker.close()  # the report is written only once the worker's whole process tree is gone
    return _write(report, status, args, reporters, renders)


def _prepare_reports(worker, renderers) -> None:
    """Import the slow modules of renderers no render process makes (a renderer's ``prepare``, the
    modules it needs, smallest first) in the waits for the worker, one module a bite, so that a
    report costs little more than the JSON one once grading is done."""
    import importlib

    names = dict.fromkeys(n for r in renderers for n in getattr(r, "prepare", ()) if isinstance(n, str))
    worker.idle.extend(lambda name=name: importlib.import_module(name) for name in names)


def _exercise_listing(assignment, loaded, chosen) -> str:
    counted = {e.id: e for e in chosen}
    lines = []
    for exercise in list(chosen) + [e for e in loaded if e.id not in counted]:
        outside = "" if exercise.id in counted else "  " + _("(not in assignment {name})").format(name=assignment.id)
        lines.append(f"{exercise.id:<22} {exercise.points:>5g} pts  §{exercise.section:<12} {_(exercise.title)}"
                     f"  [{exercise.plugin}]{outside}\n")
    return "".join(lines)


def _grade(args: "argparse.Namespace", pm, worker, exercises, handed=None, book_rule: str = "not-credited") -> tuple:
    """The report, and the exit status it implies when the submission could not be graded (else None)."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from ..loaders.base import SubmissionError
    from ..session import PluginHookError, grade
    from ..time_limit import TotalTimeout, limit

    started, clock = datetime.now(timezone.utc), time.monotonic()
    status = None
    try:
        with limit(args.total_timeout):
            report = grade(args.path, pm, worker, args.only, lang=current_language(), exercises=exercises,
                           handed=handed, book_rule=book_rule, ceiling=args.within)
    except TotalTimeout:
        report = _not_graded(args.path, exercises, _(
            "nothing was graded: loading the submission did not finish within the total time limit ({seconds:g} s, "
            "--total-timeout)").format(seconds=args.total_timeout), status="timeout")
    except PluginHookError as exc:  # the report stands; the plugin that failed is named
        for name, error in exc.failures:
            print(_("grade: plugin {name} failed when the report was ready: {error}").format(
                name=name, error=_visible(error)), file=sys.stderr)
        report, status = exc.report, EXIT_INTERNAL
    except SubmissionError as exc:
        print(_("grade: error: {message}").format(message=_visible(str(exc))), file=sys.stderr)
        report, status = _not_graded(args.path, exercises, str(exc)), EXIT_USAGE
    except Exception as exc:
        print(_internal(exc), file=sys.stderr)
        report, status = _not_graded(args.path, exercises, _internal(exc)), EXIT_INTERNAL
    missed = [e.id for e in report.exercises if not e.graded]
    if missed and not report.error:
        report = replace(report, error=_(
            "grading stopped at the total time limit ({seconds:g} s, --total-timeout): {graded} of {total} exercises "
            "graded; not graded: {ids}").format(seconds=args.total_timeout, graded=len(report.exercises) - len(missed),
                                               total=len(report.exercises), ids=", ".join(missed)))
    report = replace(report, graded_at=started.isoformat(timespec="seconds"), duration=time.monotonic() - clock)
    return report, status


def current_language() -> str:
    from ..i18n import current
    return current()


def _not_graded(path: "Path", exercises, reason: str, status: str = "error"):
    from ..report import ExerciseResult, Report

    results = tuple(ExerciseResult(e.id, _(e.title), e.section, status, 0.0, e.points, "", message=reason,
                                   graded=False) for e in exercises)
    return Report(str(path), results, lang=current_language(), error=reason)


def _render(format_name: str, renderer, report, tty: bool, renders) -> str:
    """The renderer's text: from the render process when it makes that renderer, else made here."""
    if renders is not None and renders.handles(format_name, renderer):
        text = renders.render(format_name, report, tty)
        if text is not None:
            return text
    return renderer(report, tty=tty)


def _write(report, status: int | None, args: "argparse.Namespace", reporters: dict, renders=None) -> int:
    from .report_files import write_atomically
    from ..reporters.render_process import RenderError

    for target in args.targets:
        if status is not None and report.error and target.format == "terminal" and target.path is None:
            continue  # the error message on stderr is the terminal's report
        try:
            text = _render(target.format, reporters[target.format], report,
                           target.path is None and _stdout_is_a_terminal(), renders)
        except Exception as exc:  # a broken renderer (a plugin's, or a library's) costs its own format only
            detail = exc.detail if isinstance(exc, RenderError) else f"{type(exc).__name__}: {exc}"
            print(_("grade: the {format} report could not be written: {error}").format(
                format=target.format, error=_visible(detail)), file=sys.stderr)
            status = status or EXIT_INTERNAL
            continue
        if target.path is None:
            if not write_stdout(text):
                status = status or EXIT_USAGE
            continue
        try:
            write_atomically(target.path, text)
        except OSError as exc:
            print(_("grade: error: cannot write {path}: {reason}").format(path=target.path, reason=exc.strerror),
                  file=sys.stderr)
            status = status or EXIT_USAGE
            continue
        print(_("report written to {path} (score {score:g}/{max_score:g})").format(
            path=target.path, score=report.score, max_score=report.max_score), file=sys.stderr)
    if status is not None:
        return status
    if args.threshold is not None:
        value, percent = args.threshold
        needed = value * report.max_score / 100 if percent else value
        if report.score + 1e-9 < needed:
            print(_("grade: score {score:g} is below --fail-under {needed:g}").format(
                score=report.score, needed=needed), file=sys.stderr)
            return EXIT_NOT_PASSED
        return EXIT_PASSED
    return EXIT_PASSED if report.all_passed else EXIT_NOT_PASSED



if __name__ == "__main__":  # python -m grader.cli.main
    run()
