"""The answer key as ``grader._reference``, in a checkout of the repository.

An installed dlfs-grader holds the repository's top-level ``reference/`` folder as the
package ``grader/_reference/`` (setup.py maps it there), so the grader claims no top-level
import name a student might use for a file of their own (``reference.py``). In a checkout
the folder stays where it is and this module stands in for that package: its
``__path__`` makes ``grader._reference.functions`` import ``reference/functions.py``.
(An installed copy never loads this file: setup.py leaves it out of the wheel.)
"""
from pathlib import Path

__path__ = [str(Path(__file__).resolve().parent.parent / "reference")]
