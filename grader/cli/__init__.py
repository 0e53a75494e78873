"""The `grade` command: main (exit codes, the order things start in), arguments, interrupts, report
files and the Gradescope bundle. ``grader.cli:run`` is the console script; ``python -m grader.cli``
runs the same."""
from .main import SUBCOMMANDS, main, run  # noqa: F401 (the entry point and its callers)
