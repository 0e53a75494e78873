"""``python -m grader.cli``: the `grade` command."""
from .main import run

run()
