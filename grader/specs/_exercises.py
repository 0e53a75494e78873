"""The built-in exercise specs as ``grader.specs._exercises``, in a checkout of the repository.

Installed, the repository's top-level ``exercises/`` folder is the package
``grader/specs/_exercises/`` (see setup.py and :mod:`grader._reference`); in a checkout this
module's ``__path__`` points at the folder itself.
"""
from pathlib import Path

__path__ = [str(Path(__file__).resolve().parent.parent.parent / "exercises")]
