"""The plugin manager: the built-in plugins, then those installed under the ``grader`` entry point."""
from __future__ import annotations

import importlib
from functools import lru_cache

import pluggy

from . import hookspecs

DEFAULT_PLUGINS = (
    "grader.builtin_exercises",
    "grader.generators",
    "grader.case_checks",
    "grader.net_checks",
    "grader.builtin_diagnoses",
    "grader.loaders.python_file",
    "grader.loaders.notebook",
    "grader.loaders.folder",
    "grader.reporters.terminal",
    "grader.reporters.json",
    "grader.reporters.html",
    "grader.reporters.junit",
    "grader.reporters.gradescope",
    "grader.reporters.markdown",
)


class PluginError(Exception):
    """A plugin that cannot be loaded; the message names it."""


def make_manager(plugins: tuple[str, ...] = DEFAULT_PLUGINS, entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("grader")
    pm.add_hookspecs(hookspecs)
    for name in plugins:
        try:
            pm.register(importlib.import_module(name), name=name)
        except Exception as exc:  # a broken plugin must not become a traceback
            raise PluginError(f"plugin {name} could not be loaded: {type(exc).__name__}: {exc}") from None
    if entry_points:
        try:
            pm.load_setuptools_entrypoints("grader")
        except Exception as exc:
            raise PluginError(f"an installed grader plugin could not be loaded: {type(exc).__name__}: {exc}") from None
    return pm


def merged(results: list[dict]) -> dict:
    """Combine dict-returning hooks; pluggy calls later-registered plugins first, so the
    first registered (the built-ins) are applied first and plugins may override them."""
    out: dict = {}
    for part in reversed(results):
        out.update(part or {})
    return out


@lru_cache(maxsize=1)
def default_manager() -> pluggy.PluginManager:
    return make_manager()
