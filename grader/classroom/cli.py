"""``grade class SUBMISSIONS -o OUTDIR``: grade every student of a class folder.

Exit status: 0 the class was graded (students in error have a row saying why), 1 no student
could be graded, 2 bad usage or a SUBMISSIONS folder that cannot be graded at all, 3 an
internal error of the grader, 130 interrupted (what was graded is kept; rerun to resume).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import stopping
from .outcome import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError  # noqa: F401 (API)

DESCRIPTION = """\
Grade every student of a class: one entry per student in SUBMISSIONS (kim.ipynb, kim.py,
a folder kim/ with their own common/, or an archive kim.zip / kim.tar.gz), or a folder as
downloaded from Canvas, Moodle, nbgrader (submitted/<student>/<assignment>/) or GitHub
Classroom (<assignment>-<username>/). Each student is graded alone, in parallel, and each
result is written to OUTDIR the moment it is finished: running the same command again
resumes, and grades again only the students whose files (or the grader) changed.

OUTDIR receives gradebook.csv (opens in Excel with Korean/Japanese/Chinese names),
gradebook.json, index.html (the class overview, with plots) and reports/<student>.html
and .json (and .md with --markdown), each in the student's language. Without --secret-file
(or DLFS_GRADER_SECRET), the first run makes an instructor's secret in OUTDIR/.instructor-secret
(readable by you only) and every rerun uses it: random cases then draw inputs no student has seen."""

EPILOG = """\
examples:
  grade class submissions/ -o graded/
  grade class submissions/ -o graded/ --list            # who handed in which files; grades nothing
  grade class canvas_download/ -o graded/ -j 4
  grade class submissions/ -o graded/ --student kim     # grade kim again
  grade class submissions/ -o graded/ --scheduler tcp://head:8786   # on a Dask cluster
  grade class submissions/ -o graded/ --student-pattern '(?P<student>[a-z]+)_hw4'
  grade class submissions/ -o graded/ --due 2026-10-05T23:59+09:00 --late-policy 10%/day,cap=50%,grace=15m
  grade class submissions/ -o graded/ --overrides overrides.csv

exit status: 0 the class was graded (students in error are in the gradebook with the reason),
1 no student could be graded, 2 bad usage or unusable SUBMISSIONS/OUTDIR, 130 interrupted."""


def build_parser() -> argparse.ArgumentParser:
    from ..i18n import LANGUAGES

    parser = argparse.ArgumentParser(prog="grade class", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS", help="the folder with one entry per student")
    parser.add_argument("-o", "--output", type=Path, metavar="OUTDIR", required=True,
                        help="where the gradebook, the overview and the reports go (not inside SUBMISSIONS)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="students graded at the same time (default: the number of cores, %(default)s here)")
    parser.add_argument("--list", action="store_true", help="show which files belong to which student, grade nothing")
    from ..specs.instructor_secret import secret_file
    parser.add_argument("--secret-file", type=secret_file, metavar="FILE",
                        help="salt the random cases' seeds with the secret in FILE (or set DLFS_GRADER_SECRET): "
                             "answers harvested from students' own runs are then worth nothing. Without one, "
                             "a secret is made in OUTDIR/.instructor-secret and used on every rerun")
    parser.add_argument("--allow-weak-isolation", action="store_true",
                        help="grade even where the worker cannot be isolated by namespaces and seccomp (see "
                             "`grade --doctor`): students' code could then read each other's files or the answers")
    parser.add_argument("--force", action="store_true", help="grade every student again, even those up to date")
    parser.add_argument("--student", action="append", default=[], metavar="ID",
                        help="grade only this student, again (repeatable); see --list for the ids")
    parser.add_argument("--student-pattern", metavar="REGEX",
                        help="which entries belong to whom: matched against each entry's name; its group "
                             "'student' (or its first group) is the student's id")
    parser.add_argument("--assignment", metavar="NAME", help="nbgrader: the assignment folder to grade")
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of every student's report (default: each student's own, from the script "
                             "of their comments and markdown: Hangul ko, kana ja, Han zh, else en)")
    parser.add_argument("--markdown", action="store_true", help="also write each student's report as Markdown")
    parser.add_argument("--only", action="append", default=[], metavar="ID", help="grade only this exercise (repeatable)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="CPU-time limit for each call into a submission (default %(default)s)")
    parser.add_argument("--student-timeout", type=float, default=120.0, metavar="SECONDS",
                        help="time limit for grading one student in all (default %(default)s)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="grade on this Dask cluster instead of here (-j is ignored: its worker threads decide); needs "
                             'pip install "dlfs-grader[dask]" here and on the workers (docs/cluster.md)')
    late = parser.add_argument_group("late work and overrides (applied after grading: changing them grades no one again)")
    late.add_argument("--assignment-file", type=Path, metavar="FILE.toml",
                      help="the assignment file: the exercises it counts and their [points], its book_code rule "
                           "(these grade everyone again when they change), its due date and [late_policy] "
                           "(see docs/teaching.md)")
    late.add_argument("--due", metavar="DATETIME", help="when the work is due, with its offset: 2026-10-05T23:59+09:00")
    late.add_argument("--late-policy", metavar="POLICY",
                      help="what lateness costs, in percent of the points possible: 10%%/day or 2%%/hour, then "
                           "optionally ,cap=50%%  ,grace=15m  ,last=7d (or a date: after it work earns nothing)  "
                           ",unknown=one-period|cap|nothing (a LATE mark without a time)")
    late.add_argument("--times", type=Path, metavar="FILE",
                      help="a CSV of student,time: when each handed in (overrides what the download says)")
    late.add_argument("--times-from-mtime", action="store_true",
                      help="where nothing else says when, use the files' modification times (a copy or an unzip "
                           "changes them: only if you know they are the hand-in times)")
    late.add_argument("--overrides", type=Path, metavar="FILE",
                      help="a CSV of student,exercise,points or status,reason: corrections applied after grading, "
                           "kept in OUTDIR/overrides.csv for later runs")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                        help="load a grader plugin (repeatable)")
    parser.add_argument("--exercises", action="append", default=[], type=Path, metavar="DIR",
                        help="add the exercise specs in DIR (repeatable)")
    return parser


def main(argv: list[str]) -> int:
    from ..specs import instructor_secret

    # The run's secret is set for this process and its pool; a caller that runs several classes in one
    # process (the tests, a notebook) gets its own back, so one OUTDIR's secret never reaches another.
    kept = (instructor_secret.current_secret_setting(), os.environ.get(instructor_secret.SECRET_ENV))
    try:
        args = build_parser().parse_args(argv)
        # Ctrl-C, `kill` and a closed terminal alike: what is graded is kept, and the gradebook written.
        with stopping.stop_signals():
            return _main(args)
    except KeyboardInterrupt:
        print("grade class: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"grade class: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # never a traceback; say what to report instead
        print(f"grade class: internal error: {type(exc).__name__}: {exc}\nThis is a bug in the grader; "
              "results already written to OUTDIR are kept.", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        instructor_secret.restore_secret_setting(*kept)


def _check_folders(submissions: Path, outdir: Path) -> None:
    subs, out = submissions.resolve(), outdir.resolve()
    if out == subs:
        raise UsageError(f"OUTDIR {outdir} is SUBMISSIONS itself: choose another folder (e.g. -o graded/)")
    if out.is_relative_to(subs):
        raise UsageError(f"OUTDIR {outdir} is inside SUBMISSIONS: it would be read as a student's entry; "
                         "choose a folder outside it")
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"OUTDIR {outdir} is a file, not a folder")


def _main(args: argparse.Namespace) -> int:
    from .roster import RosterError, read_roster

    if args.jobs < 1:
        raise UsageError("-j must be at least 1")
    if args.scheduler and not args.list:
        from .cluster import check_address, require_dask
        require_dask()
        check_address(args.scheduler)  # at once, before anything is read or graded
    if not 0 < args.timeout <= 600 or not 0 < args.student_timeout <= 24 * 3600:
        raise UsageError("--timeout must be more than 0 and at most 600 seconds, --student-timeout positive")
    try:
        roster = read_roster(args.submissions, args.student_pattern, args.assignment)
        _check_folders(args.submissions, args.output)
    except RosterError as exc:
        raise UsageError(str(exc)) from None
    if args.list:
        print_roster(roster)
        return EXIT_OK
    unknown = [s for s in args.student if roster.find(s) is None]
    if unknown:
        raise UsageError(f"no student {', '.join(unknown)} in {args.submissions} (see --list)")
    from .rules import check_early
    check_early(args, roster)
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create OUTDIR {args.output} ({exc.strerror})") from None
    from ..worker.doctor import probe_level
    from ..worker.isolation import STRONG
    from .run import ClassRun

    level, reason = probe_level()
    if level != STRONG and not args.allow_weak_isolation:
        raise UsageError(f"this machine isolates students' code only as '{level}' ({reason}); a class needs "
                         f"'{STRONG}' so that no student can read another's files or the answers. See "
                         "`grade --doctor`, or pass --allow-weak-isolation to grade anyway")
    use_class_secret(args)
    run = ClassRun(roster, args)
    return run.execute()


def use_class_secret(args: argparse.Namespace) -> None:
    """The instructor's secret of this run: --secret-file, else DLFS_GRADER_SECRET, else the one kept in
    OUTDIR, made on the first run (said then, once). Where grades count, random cases never use the
    seeds a student's own `grade` uses."""
    from ..i18n import _
    from ..specs.instructor_secret import OUTDIR_SECRET, SECRET_ENV, SecretError, current_secret, outdir_secret, use_secret

    args.generated_secret = None
    if not args.secret_file and not os.environ.get(SECRET_ENV):
        try:
            secret, made = outdir_secret(args.output)
        except SecretError as exc:
            raise UsageError(str(exc)) from None
        use_secret(secret)
        args.generated_secret = secret  # carried to Dask workers with each task: they cannot know it
        if made:
            print(_("grade class: no instructor's secret was given, so one was made in {path} (readable by you "
                    "only); every run into this OUTDIR uses it. Keep it there: another secret draws other random "
                    "inputs, and every student is graded again").format(path=args.output / OUTDIR_SECRET),
                  flush=True)
    # The pool's grading processes inherit it; workers get an environment built from nothing.
    os.environ[SECRET_ENV] = current_secret().decode("utf-8")


def print_roster(roster) -> None:
    from ..reporters.safe_text import one_line  # file names are the students'
    width = max((len(s.id) for s in roster.students), default=7)
    print(f"{len(roster.students)} students in {roster.root}")
    for student in roster.students:
        problem = f"   ✘ {one_line(student.problem)}" if student.problem else ""
        print(f"  {one_line(student.id):<{width}}  [{student.layout}]  {one_line(student.describe(roster.root))}{problem}")
    for name, why in roster.ignored:
        print(f"  (ignored) {one_line(name)}: {one_line(why)}")
