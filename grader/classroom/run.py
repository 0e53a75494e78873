"""One ``grade class`` run: decide who needs grading, grade them in the pool, then build the class outputs.

A student is graded when they have no finished record in OUTDIR, or when the record's content
hash (their files, the grader's code and specs, the options) differs from now; ``--force``
grades everyone and ``--student ID`` only the ones named. The class outputs are built by
the ``grader_class_report`` hook from every student's record, so a resumed run produces the
same gradebook as a run that was never interrupted.

Each student's steps (their hash, their record, their grading, their files) fail only their
own row, with the reason; Ctrl-C, ``kill`` and a closed terminal stop the run the same way,
and the gradebook and the overview of what is graded are written all the same (:mod:`.stopping`).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..i18n import N_
from ..reporters.safe_text import one_line  # names and messages come from submissions
from . import stopping
from .outcome import EXIT_INTERRUPTED, EXIT_NONE_GRADED, EXIT_OK, UsageError
from .grading import GradingOptions, Job, write_failure
from .names import display_name
from .results import ClassReport, ExerciseInfo, StudentResult, read_record
from .roster import Roster, Student

NOT_HASHED = N_("internal error of the grader: {error}")


class ClassRun:
    def __init__(self, roster: Roster, args: argparse.Namespace) -> None:
        from ..specs.exercises import SpecError
        from ..loaders.base import SubmissionError
        from ..plugins import PluginError, make_manager
        from .grading import class_exercises

        self.roster, self.args = roster, args
        from .rules import class_assignment, class_rules

        assignment = class_assignment(args)
        formats = ("html", "json") + (("markdown",) if args.markdown else ())
        self.options = GradingOptions(args.submissions.resolve(), args.output.resolve(), tuple(args.plugin),
                                      tuple(p.resolve() for p in args.exercises), tuple(args.only), args.lang,
                                      formats, args.timeout,
                                      assignment_id=assignment.id if assignment else "",
                                      assignment_points=assignment.points if assignment else (),
                                      book_code=assignment.book_code if assignment else "not-credited")
        try:
            self.pm = make_manager(extra=args.plugin, exercise_dirs=args.exercises)
            self.assignment_id, self.exercises = class_exercises(self.pm, self.options)
        except (PluginError, SpecError, SubmissionError) as exc:
            raise UsageError(str(exc)) from None
        self.rules = class_rules(args, roster, self.exercises)
        self.results: dict[str, StudentResult] = {}
        self.hashes: dict[str, str] = {}
        # The secret made for this OUTDIR (grade class without one): Dask workers cannot know it, so
        # it travels with each task; a secret the instructor chose must be set on every worker.
        self.carried_secret: str | None = getattr(args, "generated_secret", None)

    def fingerprint(self) -> str:
        from .hashing import grader_fingerprint, plugin_files

        folders = [Path(d) for impl in self.pm.hook.grader_exercise_dirs.get_hookimpls()
                   for d in impl.function() or ()]
        return grader_fingerprint(folders, self.fingerprint_options(), plugin_files(self.pm))

    def fingerprint_options(self) -> dict:
        """The options that decide a result (a Dask worker computes its fingerprint from them too)."""
        from ..specs.instructor_secret import secret_fingerprint

        found = {"only": sorted(self.args.only), "timeout": self.args.timeout, "lang": self.args.lang,
                 "formats": self.options.formats, "plugins": sorted(self.args.plugin),
                 "secret": secret_fingerprint()}  # another secret draws other random inputs
        if self.options.assignment_points:  # other points or book-code rule: everyone graded again
            found["assignment"] = [self.options.assignment_id, [list(p) for p in self.options.assignment_points],
                                   self.options.book_code]
        return found

    def plan(self) -> list[Job]:
        from .hashing import content_hash

        fingerprint = self.fingerprint()
        chosen = {found.id for found in map(self.roster.find, self.args.student) if found is not None}
        jobs = []
        for student in self.roster.students:
            try:
                digest = content_hash(student, fingerprint)
            except Exception as exc:  # a grader bug or a failing disk: this student's row says so
                self._not_hashed(student, exc)
                continue
            self.hashes[student.id] = digest
            previous = read_record(self.options.outdir, student.slug)
            if previous is not None and (previous.student != student.id or previous.slug != student.slug):
                previous = None  # another name's record under this file name: never someone else's grade
            if chosen:
                wanted = student.id in chosen
            else:
                wanted = self.args.force or previous is None or previous.hash != digest
            if wanted:
                jobs.append(Job(student, digest))
            elif previous is not None:
                self.results[student.id] = previous
        return jobs

    def _not_hashed(self, student: Student, exc: Exception) -> None:
        """The row of a student whose files could not even be hashed (the hash "" never matches: retried)."""
        try:
            self.results[student.id] = write_failure(self.options, Job(student, ""), "internal", NOT_HASHED, 0.0,
                                                     error=f"{type(exc).__name__}: {display_name(str(exc))}")
        except Exception as again:  # not even their row could be written: said on the terminal
            print(f"grade class: error: {one_line(student.id)}: {type(again).__name__}: {one_line(str(again))}",
                  file=sys.stderr)

    def execute(self) -> int:
        remove_partial_writes(self.options.outdir)
        started = time.monotonic()
        interrupted = False
        jobs: list[Job] = []
        try:
            jobs = self.plan()
            total = len(self.roster.students)
            print(f"{total} students in {one_line(str(self.roster.root))}: {len(jobs)} to grade, "
                  f"{len(self.results)} up to date in {one_line(str(self.args.output))}", flush=True)
            started = time.monotonic()
            if jobs:
                self.grade(jobs)
        except KeyboardInterrupt:
            interrupted = True
        stopping.hold()  # a second Ctrl-C must not cut the gradebook of what is graded short
        wall = time.monotonic() - started
        self.graded_ids = {job.student.id for job in jobs}
        class_report = self.class_report(complete=not interrupted, graded_now=len(jobs))
        written = self.write_outputs(class_report)
        self.summarise(class_report, written, wall, len(jobs))
        if interrupted or stopping.received():
            print("grade class: interrupted; what was graded is kept, run the same command to resume",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        graded = [s for s in class_report.students if not s.error]
        return EXIT_OK if graded else EXIT_NONE_GRADED

    def grade(self, jobs: list[Job]) -> None:
        """The pool (or the Dask cluster) grades ``jobs``; each result is kept as it comes."""
        from .pool import ClassPool, ClassRunError
        from .progress import make_progress

        if getattr(self.args, "scheduler", None):  # the students as tasks on a Dask cluster
            from .cluster import DaskPool
            pool = DaskPool(self.options, self.args.scheduler, self.args.student_timeout,
                            self.fingerprint(), self.fingerprint_options(), carried_secret=self.carried_secret)
        else:
            try:
                pool = ClassPool(self.options, min(self.args.jobs, len(jobs)), self.args.student_timeout)
            except ClassRunError as exc:
                raise UsageError(str(exc)) from None
        self.announce_grading()
        with make_progress(len(jobs)) as progress:
            def done(result: StudentResult) -> None:
                self.results[result.student] = result
                progress.advance(result)
            pool.run(jobs, done)

    def announce_grading(self) -> None:
        """``grader_class_grading_started``: each plugin on its own (one that fails costs only itself)."""
        for impl in self.pm.hook.grader_class_grading_started.get_hookimpls():
            try:
                impl.function(**{k: v for k, v in {"outdir": self.options.outdir}.items() if k in impl.argnames})
            except Exception as exc:
                print(f"grade class: error: {impl.plugin_name} could not prepare its report: "
                      f"{type(exc).__name__}: {one_line(str(exc))}", file=sys.stderr)

    def apply_rules(self, graded_now: set[str]) -> None:
        """Overrides and late penalties over the records (grader/classroom/adjusting.py)."""
        from ..plugins import merged
        from .adjusting import apply_rules

        try:
            renderers = merged(self.pm.hook.grader_reporters())
            apply_rules(self.results, self.roster.students, self.rules, self.options.outdir, graded_now, renderers,
                        self.options.formats)
        except Exception as exc:  # the grades as graded stand; the terminal says the rules were not applied
            print(f"grade class: error: the overrides and late policy could not be applied: "
                  f"{type(exc).__name__}: {one_line(str(exc))}", file=sys.stderr)

    def class_report(self, complete: bool, graded_now: int) -> ClassReport:
        exercises = tuple(ExerciseInfo(e.id, e.title, e.points) for e in self.exercises)
        for student in self.roster.students:
            # A pool process may have written a record while the run was being stopped: it counts.
            if student.id not in self.results:
                record = read_record(self.options.outdir, student.slug)
                if record is not None and record.hash == self.hashes.get(student.id) and record.student == student.id:
                    self.results[student.id] = record
        self.apply_rules(getattr(self, "graded_ids", set()))
        students = tuple(self.results[s.id] for s in self.roster.students if s.id in self.results)
        pending = tuple(s.id for s in self.roster.students if s.id not in self.results)
        # The class is named by its folder's name: no path of this machine in any output.
        return ClassReport(display_name(self.options.submissions.name), str(self.options.outdir), exercises, students,
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
