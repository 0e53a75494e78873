"""``--format terminal`` (the default): the plugin that offers grader/reporters/terminal_text.py's renderer."""
from __future__ import annotations

from ..hookspecs import hookimpl
from .terminal_layout import MAX_FAILURES_SHOWN, STYLE, status_label  # noqa: F401 (API)
from .terminal_text import render, renderables  # noqa: F401 (API)


@hookimpl
def grader_reporters() -> dict:
    return {"terminal": render}
