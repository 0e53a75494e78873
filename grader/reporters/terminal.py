"""``--format terminal`` (the default): the plugin that offers grader/reporters/terminal_text.py's renderer."""
from __future__ import annotations

from ..hookspecs import hookimpl
from .terminal_text import MAX_FAILURES_SHOWN, STYLE, render, renderables, status_label  # noqa: F401 (API)


@hookimpl
def grader_reporters() -> dict:
    return {"terminal": render}
