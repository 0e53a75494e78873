"""What a pool process does for one student: stage, grade, write their reports, then their record.

A pool process loads the plugins, the exercise specs and the answer key once and keeps one
worker started ahead of need, in a fresh private folder of its slot: the next student's
files are staged straight into it while NumPy is already imported. Every student gets a
new worker process (student code never shares a process with a classmate's).

Whatever goes wrong for one student (their files, the grader, writing their pages) ends in
their own row saying why, and no message names a folder of this machine: the staged copy is
shown as the student named it, the grader's own folders as ``<tmp>``, ``SUBMISSIONS`` and ``OUTDIR``.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..i18n import _, use
from ..worker.cleanup import remove_tree
from ..worker.client import Limits, WorkerClient
from .names import display_name, hide_paths, relative_name
from .results import StudentResult, report_path, write_atomic, write_record
from .roster import Student


@dataclass(frozen=True)
class GradingOptions:
    """Everything a pool process needs, sent to it once (picklable)."""

    submissions: Path
    outdir: Path
    plugins: tuple[str, ...] = ()
    exercise_dirs: tuple[Path, ...] = ()
    only: tuple[str, ...] = ()
    lang: str | None = None  # None: detected per student
    formats: tuple[str, ...] = ("html", "json")
    call_seconds: float = 5.0
    entry_points: bool = True
    # The assignment file's (grade class --assignment-file) id, points and book-code rule, carried
    # as data: a Dask worker has no copy of the teacher's file. No points: the default assignment.
    assignment_id: str = ""
    assignment_points: tuple[tuple[str, float], ...] = ()
    book_code: str = "not-credited"


def class_exercises(pm, options: GradingOptions) -> tuple[str, list]:
    """The assignment's id and the exercises a class run grades, with its points: the file's
    (``--assignment-file``) or the default assignment's, or ``--only`` those."""
    from ..specs.assignments import Assignment, resolve, select
    from ..specs.loading import load_exercises

    assignment = (Assignment(options.assignment_id, "", options.assignment_points, book_code=options.book_code)
                  if options.assignment_points else resolve(pm, None))
    return assignment.id, select(assignment, load_exercises(pm), options.only)


@dataclass(frozen=True)
class Job:
    student: Student
    hash: str


class StudentWorker(WorkerClient):
    """A worker whose private folder is chosen by the class run, and which cannot open the class's
    other folders: SUBMISSIONS, OUTDIR and the other pool slots (the audit hook's second line;
    the OS sandbox is the first)."""

    def __init__(self, limits: Limits, stage_dir: Path, protect: tuple[str, ...], slot: int | None = None) -> None:
        super().__init__(limits, slot=slot)  # its own uid in the sandbox: slots cannot signal or read each other
        # Where the class run stages this student's files: the worker gets a private copy of them.
        self.stage_dir = stage_dir
        self.class_protect = list(protect)

    def start_load(self, cells, filename, paths=(), protect=()):
        return super().start_load(cells, filename, paths, [*protect, *self.class_protect])

    def close(self) -> None:
        super().close()
        remove_tree(self.stage_dir)  # never raises, whatever depth of folders is in it


class SlotGrader:
    """Grades students one after another in one pool process, in its slot folder."""

    def __init__(self, options: GradingOptions, slot_dir: Path, protect: tuple[str, ...], slot: int | None = None) -> None:
        from ..plugins import make_manager, merged

        self.options = options
        self.slot_dir = slot_dir
        self.protect = protect
        self.slot = slot
        self.limits = Limits(call_seconds=options.call_seconds)
        self.spare: StudentWorker | None = None
        self.current: StudentWorker | None = None
        self._start_spare()  # NumPy loads in the worker while the plugins load here
        self.pm = make_manager(extra=options.plugins, exercise_dirs=options.exercise_dirs,
                               entry_points=options.entry_points)
        self.reporters = merged(self.pm.hook.grader_reporters())
        # The answer key is imported now, not in the first student's time.
        self.assignment_id, self.exercises = class_exercises(self.pm, options)

    def _start_spare(self) -> None:
        # A folder of its own: the student's files are staged in it, their parent holds nothing else.
        private = Path(tempfile.mkdtemp(prefix="s", dir=self.slot_dir))
        worker = StudentWorker(self.limits, private, self.protect, self.slot)
        worker.start()
        self.spare = worker

    def close(self) -> None:
        for worker in (self.current, self.spare):
            if worker is not None:
                worker.close()
        self.current = self.spare = None

    def grade(self, job: Job) -> StudentResult:
        from ..loaders.base import SubmissionError
        from ..session import PluginHookError, grade
        from .language import detect, handed_in_code
        from .staging import StagingError, stage

        student = job.student
        started = time.perf_counter()
        worker, self.spare = self.spare, None  # started ahead of need, in a folder of its own
        self.current = worker
        files = tuple(relative_name(e.path, self.options.submissions) for e in student.entries)
        base = StudentResult(student.id, student.slug, files, student.layout, job.hash,
                             lang=self.options.lang or "en")
        try:
            # A first guess from what was handed in, for messages about the files themselves
            # (an archive refused); then the language of the code that is graded.
            lang = self.options.lang or detect(handed_in_code([e.path for e in student.entries]))
            base = replace(base, lang=lang)
            with use(lang):
                staged = stage(student, worker.stage_dir)
            lang = self.options.lang or detect(staged.code_files)
            base = replace(base, lang=lang, notes=tuple(self.hide(note, worker) for note in staged.notes))
            self._start_spare()  # the next student's worker starts while this one is graded
            try:
                # Nothing above the student's own staged folder is ever reached (a classmate's work).
                report = grade(staged.path, self.pm, worker, self.options.only, lang, exercises=self.exercises,
                               book_rule=self.options.book_code, ceiling=worker.stage_dir)
            except PluginHookError as exc:  # a plugin failed after grading: the grade stands, its note says so
                report = exc.report
                base = replace(base, notes=tuple(base.notes) + tuple(
                    self.hide(f"plugin {name} failed when the report was ready: {error}", worker)
                    for name, error in exc.failures))
            report = replace(report, submission=", ".join(files), assignment=self.assignment_id,
                             book_rule=self.options.book_code)
            result = StudentResult.from_report(base, report)
        except (StagingError, SubmissionError) as exc:
            # Paths in the message are the staged copy's: show them as the student named them.
            result = replace(base, error=self.hide(str(exc), worker), error_kind="unreadable")
        except Exception as exc:  # a grader bug costs this student only, and is named in their row
            with use(base.lang):
                message = _("internal error of the grader: {error}").format(error=f"{type(exc).__name__}: {exc}")
            result = replace(base, error=self.hide(message, worker), error_kind="internal")
        finally:
            worker.close()
            self.current = None
            if self.spare is None:
                self._start_spare()
        result = replace(result, seconds=round(time.perf_counter() - started, 3))
        try:
            self._write(result)
        except Exception as exc:  # their pages could not be written (a full disk, a renderer's bug): their row says so
            result = self._unwritten(result, exc)
        return result

    def hide(self, text: str, worker: StudentWorker | None = None) -> str:
        """``text`` with no folder of this machine in it (the bytes of names that are not UTF-8 shown)."""
        from ..worker.spawn import workdir_parent

        places = [(self.options.submissions, "SUBMISSIONS"), (self.options.outdir, "OUTDIR"),
                  (self.slot_dir, "<tmp>"), (tempfile.gettempdir(), "<tmp>"), (workdir_parent(), "<tmp>")]
        if worker is not None:
            places.append((worker.stage_dir, ""))  # the staged copy: as the student named their files
        return hide_paths(display_name(text), places)

    def _unwritten(self, result: StudentResult, exc: Exception) -> StudentResult:
        with use(result.lang):
            message = _("internal error of the grader: {error}").format(
                error=_("the reports could not be written ({reason})").format(reason=f"{type(exc).__name__}: {exc}"))
        result = replace(result, exercises=(), report=None, error=self.hide(message), error_kind="internal")
        try:  # the error page and record, if anything can be written at all
            self._write(result)
        except Exception:
            pass  # the row is still in the gradebook of this run, from the result the parent receives
        return result

    def _write(self, result: StudentResult) -> None:
        outdir = self.options.outdir
        for fmt in self.options.formats:
            if result.report is not None:
                text = self.reporters[fmt](result.report)
            else:
                text = error_page(result, fmt)
            write_atomic(report_path(outdir, result.slug, fmt), text)
        write_record(outdir, result)  # last: its presence means everything above is there


def error_page(result: StudentResult, fmt: str) -> str:
    """The student's report when their submission could not be graded: what went wrong."""
    import json

    from ..reporters import labels

    if fmt == "json":
        return json.dumps({"submission": ", ".join(result.files), "lang": result.lang, "error": result.error},
                          ensure_ascii=False, indent=2) + "\n"
    with use(result.lang):
        title, submission = _(labels.TITLE), _(labels.SUBMISSION)
    if fmt == "markdown":  # the message as an indented code block: nothing in it is read as Markdown
        quoted = "\n".join("    " + line for line in result.error.splitlines())
        return f"## {title}: {', '.join(result.files)}\n\n{quoted}\n"
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("grader.classroom", "templates"), autoescape=True)
    return env.get_template("student_error.html.j2").render(result=result, title=title, submission=submission)


def write_failure(options: GradingOptions, job: Job, kind: str, message: str, elapsed: float,
                  **values: object) -> StudentResult:
    """The error row and pages of a student who could not be graded (timed out, killed every
    worker): ``message`` is a msgid, said in the student's language. Used by both pools."""
    from .language import detect, handed_in_code

    student = job.student
    files = tuple(relative_name(e.path, options.submissions) for e in student.entries)
    try:
        lang = options.lang or detect(handed_in_code([e.path for e in student.entries]))
    except Exception:  # the language is a courtesy: never a reason to lose the row
        lang = "en"
    with use(lang):
        text = _(message).format(**values)
    text = hide_paths(display_name(text), [(options.submissions, "SUBMISSIONS"), (options.outdir, "OUTDIR"),
                                           (tempfile.gettempdir(), "<tmp>")])
    result = StudentResult(student.id, student.slug, files, student.layout, job.hash, lang=lang,
                           seconds=round(elapsed, 3), error=text, error_kind=kind)
    try:
        for fmt in options.formats:
            write_atomic(report_path(options.outdir, result.slug, fmt), error_page(result, fmt))
        write_record(options.outdir, result)
    except OSError as exc:  # a full disk: the row stays in this run's gradebook, and the student is graded again
        result = replace(result, error=f"{text} ({type(exc).__name__}: {exc.strerror})")
    return result
