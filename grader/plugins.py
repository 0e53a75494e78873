"""The plugin manager: the built-in plugins, installed plugins (entry point group ``grader``),
``--plugin`` modules or files and ``--exercises`` folders, all registered the same way."""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Iterable

import pluggy

from . import hookspecs
from .hookspecs import hookimpl

DEFAULT_PLUGINS = (
    "grader.specs.builtin_exercises",
    "grader.specs.assignments",
    "grader.checking.generators",
    "grader.checking.cases",
    "grader.checking.nets",
    "grader.diagnoses.chapter4",
    "grader.loaders.python_file",
    "grader.loaders.notebook",
    "grader.loaders.folder",
    "grader.submission.book_code",
    "grader.reporters.terminal",
    "grader.reporters.json",
    "grader.reporters.html",
    "grader.reporters.junit",
    "grader.reporters.gradescope",
    "grader.reporters.markdown",
    "grader.classroom.gradebook",
    "grader.classroom.similarity",
    "grader.classroom.overview",
)


# The built-ins that read submissions and name the exercise folders, in DEFAULT_PLUGINS' order:
# with no other plugin in play, `grade` hands the submission over with these alone, before NumPy
# and the checks are loaded (grader/submission/handover.py).
HANDOVER_PLUGINS = ("grader.specs.builtin_exercises", "grader.loaders.python_file", "grader.loaders.notebook",
                    "grader.loaders.folder")
ENTRY_POINT_GROUP = "grader"


def only_builtins(extra: Iterable[str] = (), exercise_dirs: Iterable[Path] = ()) -> bool:
    """No --plugin, no --exercises and (as far as a quick look can tell) no installed plugin."""
    return not list(extra) and not list(exercise_dirs) and not _may_declare(ENTRY_POINT_GROUP)


class PluginError(Exception):
    """A plugin that cannot be loaded; the message names it."""


class ExerciseFolder:
    """``--exercises DIR``: a folder of specs whose reference modules sit beside them."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise PluginError(f"--exercises {folder}: no such folder")
        self.folder = folder.resolve()
        if str(self.folder) not in sys.path:
            sys.path.insert(0, str(self.folder))  # so `reference = "my_reference:softmax"` imports

    @hookimpl
    def grader_exercise_dirs(self) -> list[Path]:
        return [self.folder]


def load_plugin(spec: str) -> ModuleType:
    """A plugin named on the command line: a module name (``mypackage.plugin``) or a .py file."""
    path = Path(spec)
    try:
        if spec.endswith(".py") or path.is_file():
            if not path.is_file():
                raise FileNotFoundError(f"no such file: {spec}")
            name = f"grader_local_plugin_{path.stem}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            return module
        return importlib.import_module(spec)
    except Exception as exc:  # a broken plugin must not become a traceback
        raise PluginError(f"plugin {spec} could not be loaded: {type(exc).__name__}: {exc}") from None


def make_manager(plugins: Iterable[str] = DEFAULT_PLUGINS, entry_points_group: str | None = ENTRY_POINT_GROUP,
                 extra: Iterable[str] = (), exercise_dirs: Iterable[Path] = (),
                 entry_points: bool | None = None) -> pluggy.PluginManager:
    """Built-ins first, then installed plugins, then command-line ones: later ones may override."""
    if entry_points is False:
        entry_points_group = None
    pm = pluggy.PluginManager("grader")
    pm.add_hookspecs(hookspecs)
    for name in plugins:
        _register(pm, load_plugin(name), name)
    if entry_points_group:
        for entry in sorted(_entry_points(entry_points_group), key=lambda e: e.name):
            try:
                plugin = entry.load()
            except Exception as exc:
                dist = getattr(entry.dist, "name", "?")
                raise PluginError(f"installed plugin '{entry.name}' (package {dist}) could not be loaded: "
                                  f"{type(exc).__name__}: {exc}") from None
            _register(pm, plugin, f"{entry.name} (entry point, package {getattr(entry.dist, 'name', '?')})")
    for spec in extra:
        _register(pm, load_plugin(spec), f"--plugin {spec}")
    for folder in exercise_dirs:
        _register(pm, ExerciseFolder(Path(folder)), f"--exercises {folder}")
    try:
        pm.check_pending()  # a misspelled hook (grader_exercise_dir) would otherwise be ignored
    except pluggy.PluginValidationError as exc:
        names = [name for name, plugin in pm.list_name_plugin() if plugin is exc.plugin]
        raise PluginError(f"plugin {names[0] if names else exc.plugin}: {exc}") from None
    from .i18n import add_catalog_dirs
    add_catalog_dirs(Path(folder) for group in pm.hook.grader_catalogs() for folder in group or ())
    return pm


def _entry_points(group: str) -> list:
    if not _may_declare(group):
        return []
    from importlib.metadata import entry_points
    try:
        return list(entry_points(group=group))
    except Exception:  # broken metadata of some unrelated package
        return []


def _may_declare(group: str) -> bool:
    """Could an installed distribution declare entry points in ``group``? False only when certain.

    importlib.metadata reads every installed package's metadata through the email parser (about
    25 ms with its imports, on every `grade`), while nearly always no grader plugin is installed.
    Reading the plain ``entry_points.txt`` files of the folders on sys.path answers "none" in under
    a millisecond; anything this quick look cannot vouch for (a zip or egg on sys.path, a file it
    cannot read, a section naming the group) goes to importlib.metadata, which decides.
    """
    section = re.compile(rf"^\s*\[\s*{re.escape(group)}\s*\]", re.MULTILINE)
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return True  # a zip file or an egg: only importlib.metadata can look inside
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            return True
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            path = os.path.join(folder, name, "entry_points.txt")
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    if section.search(handle.read()):
                        return True
            except FileNotFoundError:
                continue
            except OSError:
                return True
    return False


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    if pm.is_registered(plugin):
        return
    try:
        pm.register(plugin, name=name)
    except Exception as exc:  # e.g. a hook implementation that does not match its spec
        raise PluginError(f"plugin {name} could not be registered: {type(exc).__name__}: {exc}") from None


def merged(results: list[dict]) -> dict:
    """Combine dict-returning hooks; pluggy calls later-registered plugins first, so the
    first registered (the built-ins) are applied first and plugins may override them."""
    out: dict = {}
    for part in reversed(results):
        out.update(part or {})
    return out


def describe(pm: pluggy.PluginManager) -> list[tuple[str, str]]:
    """(name, where it comes from) of every registered plugin, in registration order."""
    rows = []
    for name, plugin in pm.list_name_plugin():
        origin = getattr(plugin, "__file__", None) or getattr(getattr(plugin, "folder", None), "as_posix",
                                                               lambda: type(plugin).__name__)()
        rows.append((name, str(origin)))
    return rows


@lru_cache(maxsize=1)
def default_manager() -> pluggy.PluginManager:
    return make_manager()
