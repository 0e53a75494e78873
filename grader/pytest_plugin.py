"""``pytest --grade SUBMISSION``: the exercises as pytest items, one per check.

Registered under the ``pytest11`` entry point, so it is active wherever dlfs-grader is
installed, and inert unless ``--grade`` is given. Instructors then have pytest's own
tooling on a submission: ``-k two_layer_net``, ``--junit-xml``, IDE test explorers.
The grading itself is the grader's (same worker, same checks): pytest only presents it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlfs-grader", "grading a chapter-4 submission (dlfs-grader)")
    group.addoption("--grade", metavar="SUBMISSION", default=None,
                    help="grade this .py file, notebook or folder: one test item per check")
    group.addoption("--grade-only", action="append", default=[], metavar="ID",
                    help="grade only this exercise (repeatable)")
    group.addoption("--grade-lang", default="en", metavar="LANG", help="language of the messages: en, ko, ja, zh")
    group.addoption("--grade-plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                    help="load a grader plugin (repeatable)")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("grade")
    if target:
        # Collect the submission, not the project's own tests.
        config.args[:] = [str(Path(target).resolve())]


def _target(config: pytest.Config) -> Path | None:
    target = config.getoption("grade")
    return Path(target).resolve() if target else None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _target(parent.config) == Path(file_path).resolve() and Path(file_path).suffix != ".py":
        return GradedFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # A .py submission named on the command line would otherwise be imported as a test module.
    if _target(parent.config) == Path(module_path).resolve():
        return GradedFile.from_parent(parent, path=module_path)
    return None


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _target(parent.config) == Path(path).resolve():
        return GradedFolder.from_parent(parent, path=path)
    return None


def _grade(config: pytest.Config, path: Path):
    from .loaders.base import SubmissionError
    from .plugins import PluginError, make_manager
    from .reporters.safe_text import displayable
    from .session import PluginHookError, grade
    from .worker.client import WorkerClient

    try:
        pm = make_manager(extra=config.getoption("grade_plugin"))
        with WorkerClient() as worker:
            try:
                report = grade(path, pm, worker, config.getoption("grade_only"), lang=config.getoption("grade_lang"))
            except PluginHookError as exc:  # the report stands; pytest shows the plugin's failure as a warning
                import warnings
                warnings.warn(f"--grade {path}: a plugin failed when the report was ready: {exc}")
                report = exc.report
    except (SubmissionError, PluginError) as exc:
        raise pytest.UsageError(f"--grade {path}: {exc}") from None
    # Messages quote the student's code and output: no control character reaches the terminal as it is.
    return displayable(report)


class _Submission:
    """Shared by the file and folder collectors: grade once, then one node per exercise."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        report = _grade(self.config, Path(self.path))
        for exercise in report.exercises:
            yield ExerciseNode.from_parent(self, name=exercise.id, exercise=exercise)


class GradedFile(_Submission, pytest.File):
    pass


class GradedFolder(_Submission, pytest.Directory):
    pass


class ExerciseNode(pytest.Collector):
    def __init__(self, *, exercise: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise

    def collect(self) -> Iterator[pytest.Item]:
        from .reporters.visibility import student_view

        if not self.exercise.checks:
            yield CheckItem.from_parent(self, name=self.exercise.status, check=None, exercise=self.exercise)
        for check in self.exercise.checks:
            yield CheckItem.from_parent(self, name=check.name, check=student_view(check), exercise=self.exercise)


class CheckFailed(Exception):
    """A check the submission did not pass."""


class CheckItem(pytest.Item):
    def __init__(self, *, check: Any, exercise: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.exercise = exercise

    def runtest(self) -> None:
        if self.check is None:  # a missing exercise
            raise CheckFailed(self.exercise.message)
        if self.check.skipped:
            pytest.skip(self.check.message)
        if not self.check.passed:
            lines = [self.check.message]
            if self.check.hint:
                lines.append(f"hint: {self.check.hint}")
            lines += [f"likely mistake ({d.id}): {d.message}" for d in self.exercise.diagnoses]
            raise CheckFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, f"{self.exercise.id}: {self.name}"
