"""One ``grade class`` run: decide who needs grading, grade them in the pool, then build the class outputs.

A student is graded when they have no finished record in OUTDIR, or when the record's content
hash (their files, the grader's code and specs, the options) differs from now; ``--force``
grades everyone and ``--student ID`` only the ones named. The class outputs are built by
the ``grader_class_report`` hook from every student's record, so a resumed run produces the
same gradebook as a run that was never interrupted.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..reporters.safe_text import one_line  # names and messages come from submissions
from .outcome import EXIT_INTERRUPTED, EXIT_NONE_GRADED, EXIT_OK, UsageError
from .grading import GradingOptions, Job
from .results import ClassReport, ExerciseInfo, StudentResult, read_record
from .roster import Roster


class ClassRun:
    def __init__(self, roster: Roster, args: argparse.Namespace) -> None:
        from ..exercises import SpecError
        from ..loaders.base import SubmissionError
        from ..plugins import PluginError, make_manager
        from ..session import load_exercises

        self.roster, self.args = roster, args
        try:
            self.pm = make_manager(extra=args.plugin, exercise_dirs=args.exercises)
            self.exercises = load_exercises(self.pm, args.only)
        except (PluginError, SpecError, SubmissionError) as exc:
            raise UsageError(str(exc)) from None
        formats = ("html", "json") + (("markdown",) if args.markdown else ())
        self.options = GradingOptions(args.submissions.resolve(), args.output.resolve(), tuple(args.plugin),
                                      tuple(p.resolve() for p in args.exercises), tuple(args.only), args.lang,
                                      formats, args.timeout)
        self.results: dict[str, StudentResult] = {}
        self.hashes: dict[str, str] = {}

    def fingerprint(self) -> str:
        from .staging import grader_fingerprint

        folders = [Path(d) for impl in self.pm.hook.grader_exercise_dirs.get_hookimpls()
                   for d in impl.function() or ()]
        return grader_fingerprint(folders, self.fingerprint_options())

    def fingerprint_options(self) -> dict:
        """The options that decide a result (a Dask worker computes its fingerprint from them too)."""
        from ..instructor_secret import secret_fingerprint

        return {"only": sorted(self.args.only), "timeout": self.args.timeout, "lang": self.args.lang,
                "formats": self.options.formats, "plugins": sorted(self.args.plugin),
                "secret": secret_fingerprint()}  # another secret draws other random inputs

    def plan(self) -> list[Job]:
        from .staging import content_hash

        fingerprint = self.fingerprint()
        chosen = {self.roster.find(s).id for s in self.args.student}
        jobs = []
        for student in self.roster.students:
            digest = content_hash(student, fingerprint)
            self.hashes[student.id] = digest
            previous = read_record(self.options.outdir, student.slug)
            if chosen:
                wanted = student.id in chosen
            else:
                wanted = self.args.force or previous is None or previous.hash != digest
            if wanted:
                jobs.append(Job(student, digest))
            elif previous is not None:
                self.results[student.id] = previous
        return jobs

    def execute(self) -> int:
        from .pool import ClassPool, ClassRunError
        from .progress import make_progress

        remove_partial_writes(self.options.outdir)
        jobs = self.plan()
        total = len(self.roster.students)
        print(f"{total} students in {self.roster.root}: {len(jobs)} to grade, "
              f"{len(self.results)} up to date in {self.args.output}", flush=True)
        started = time.monotonic()
        interrupted = False
        if jobs:
            if getattr(self.args, "scheduler", None):  # the students as tasks on a Dask cluster
                from .cluster import DaskPool
                pool = DaskPool(self.options, self.args.scheduler, self.args.student_timeout,
                                self.fingerprint(), self.fingerprint_options())
            else:
                try:
                    pool = ClassPool(self.options, min(self.args.jobs, len(jobs)), self.args.student_timeout)
                except ClassRunError as exc:
                    raise UsageError(str(exc)) from None
            try:
                with make_progress(len(jobs)) as progress:
                    def done(result: StudentResult) -> None:
                        self.results[result.student] = result
                        progress.advance(result)
                    pool.run(jobs, done)
            except KeyboardInterrupt:
                interrupted = True
        wall = time.monotonic() - started
        class_report = self.class_report(complete=not interrupted, graded_now=len(jobs))
        written = self.write_outputs(class_report)
        self.summarise(class_report, written, wall, len(jobs))
        if interrupted:
            print("grade class: interrupted; what was graded is kept, run the same command to resume",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        graded = [s for s in class_report.students if not s.error]
        return EXIT_OK if graded else EXIT_NONE_GRADED

    def class_report(self, complete: bool, graded_now: int) -> ClassReport:
        exercises = tuple(ExerciseInfo(e.id, e.title, e.points) for e in self.exercises)
        for student in self.roster.students:
            # A pool process may have written a record while the run was being stopped: it counts.
            if student.id not in self.results:
                record = read_record(self.options.outdir, student.slug)
                if record is not None and record.hash == self.hashes.get(student.id):
                    self.results[student.id] = record
        students = tuple(self.results[s.id] for s in self.roster.students if s.id in self.results)
        pending = tuple(s.id for s in self.roster.students if s.id not in self.results)
        return ClassReport(str(self.args.submissions), str(self.options.outdir), exercises, students,
                           self.roster.ignored,
                           lang="en", formats=self.options.formats, complete=complete and not pending,
                           graded_now=graded_now, pending=pending)

    def write_outputs(self, class_report: ClassReport) -> list[Path]:
        """Every ``grader_class_report`` implementation, each on its own: one that fails costs only itself."""
        written: list[Path] = []
        outdir = self.options.outdir
        arguments = {"class_report": class_report, "outdir": outdir}
        for impl in self.pm.hook.grader_class_report.get_hookimpls():  # registration order: built-ins first
            try:
                written += impl.function(**{k: v for k, v in arguments.items() if k in impl.argnames}) or []
            except Exception as exc:
                print(f"grade class: error: the class output of plugin {impl.plugin_name} failed: "
                      f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return written

    def summarise(self, class_report: ClassReport, written: list[Path], wall: float, graded_now: int) -> None:
        errors = class_report.in_error()
        print(f"graded {graded_now} student{'' if graded_now == 1 else 's'} in {wall:.1f} s; "
              f"{len(class_report.students)} in the gradebook, "
              f"{len(errors)} in error")
        for student in errors:
            print(f"  ✘ {one_line(student.student)}: {one_line(student.error.splitlines()[0]) if student.error else ''}")
        for path in written:
            print(f"  {path}")


def remove_partial_writes(outdir: Path) -> None:
    """Temporary files of writes a kill interrupted (the finished files are whole: see write_atomic)."""
    from .results import RECORDS, REPORTS

    for folder in (outdir, outdir / RECORDS, outdir / REPORTS):
        for path in folder.glob(".*.part"):
            path.unlink(missing_ok=True)
