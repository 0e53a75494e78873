"""dlfs-grader: an autograder for chapter 4 of "Deep Learning from Scratch".

Plugins use :data:`hookimpl` to implement the hooks in :mod:`grader.hookspecs`.
"""
from .hookspecs import hookimpl

__all__ = ["hookimpl"]
