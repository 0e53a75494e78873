"""Snippets that rebuild a failing visible case's call (filled in below)."""
from __future__ import annotations

from ..report import Report


def snippets(report: Report) -> dict:
    return {}
