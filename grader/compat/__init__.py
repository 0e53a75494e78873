"""The book's helper modules, importable by student code inside the worker only.

This folder is put on the worker's ``sys.path`` (after the submission's own folders,
so a student's own ``common/`` wins). Students import from it exactly as in the book:
``from common.functions import *``, ``from common.gradient import numerical_gradient``,
``from dataset.mnist import load_mnist``, and the bare ``functions`` / ``gradient_2d``
some copy next to their notebook. The grader process never imports these: they
repeat a little of the answer key on purpose, because the worker must not see
``reference``.
"""
