"""dlfs-grader: an autograder for chapter 4 of "Deep Learning from Scratch".

Plugins use ``from grader import hookimpl`` to implement the hooks in :mod:`grader.hookspecs`.
"""
__all__ = ["hookimpl", "__version__"]

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)


def __getattr__(name):
    # Imported on first use: `grade` starts its sandbox before anything else is loaded.
    if name == "hookimpl":
        from .hookspecs import hookimpl
        return hookimpl
    raise AttributeError(name)
