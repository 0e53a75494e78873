"""How `grade class` ends: its exit codes, and the error for a command line it cannot run.

A module of its own so that the command line (cli.py) and the run it starts (run.py, cluster.py)
both import it, and neither imports the other.
"""
from __future__ import annotations

EXIT_OK, EXIT_NONE_GRADED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """A `grade class` command line that cannot be run: the message says why (exit status 2)."""
