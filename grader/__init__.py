"""dlfs-grader: an autograder for chapter 4 of "Deep Learning from Scratch".

Plugins use ``from grader import hookimpl`` to implement the hooks in :mod:`grader.hookspecs`.
"""
__all__ = ["hookimpl", "__version__", "load_ipython_extension", "unload_ipython_extension"]

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)


def __getattr__(name):
    # Imported on first use: `grade` starts its sandbox before anything else is loaded.
    if name == "hookimpl":
        from .hookspecs import hookimpl
        return hookimpl
    raise AttributeError(name)


def load_ipython_extension(shell) -> None:
    """`%load_ext grader`: registers `%grade` (grader/notebook/magic.py). IPython is imported only
    here, when a kernel loads the extension: `grade` never loads it."""
    from .notebook.magic import load
    load(shell)


def unload_ipython_extension(shell) -> None:
    from .notebook.magic import unload
    unload(shell)
