"""Finding the student's definition for an exercise when it is not under an accepted name.

Learners rename things: ``get_mse``, ``cross_entropy_error_2``, ``numeric_gradient``,
``gradient_descend``, ``numerical_gradiant``. Before an exercise is reported missing, the
student's definitions are searched for near names, in this order of trust:

1. a name the spec lists as a learner's name for it (``near_names``);
2. an accepted name with a prefix or suffix (``my_numerical_diff``, ``cross_entropy_error_0``);
3. a close misspelling of an accepted name (``numerical_gradiant``).

A function found this way must fit the call (its positional parameters) and reproduce one
of the book's cases before it is graded: a function that happens to share a word with the
exercise and computes something else is not credited. A book case with a one-hot label is
also tried, when the first try fails, with the label as a class number where the reference
gives the same value both ways: ``cross_entropy_error3`` written for class numbers only is
still a cross-entropy error. The report says which name was taken and why; a missing
exercise's message lists the near names that were tried.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..checking.comparisons import compare
from ..checking.context import materialize
from .definitions import Definition, Inventory, arrange
from ..specs.exercises import Case, Exercise
from ..i18n import _
from ..worker.client import WorkerClient

MISSPELLING_RATIO = 0.85
AFFIX = re.compile(r"^(?:[a-z]{1,8}_|_+)?(?P<core>.+?)(?:_?[0-9]{1,2}|_[a-z0-9]{1,10})?$")


@dataclass(frozen=True)
class Search:
    """What was found beyond the accepted names: accepted definitions (with ``found_as`` saying
    why), and the near names tried and rejected, with the reason."""

    accepted: tuple[Definition, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()


def how_near(exercise: Exercise, name: str) -> str:
    """Why ``name`` may be this exercise ("" when it may not): the reason, in the student's language."""
    fold = str.lower if exercise.kind == "class" else (lambda s: s)
    accepted = {fold(n) for n in exercise.names}
    if fold(name) in accepted:
        return ""
    if fold(name) in {fold(n) for n in exercise.near_names}:
        return _("a name learners often give it")
    lowered = name.lower()
    for accepted_name in sorted(exercise.names, key=len, reverse=True):
        core = accepted_name.lower()
        if len(core) >= 3 and lowered != core and (lowered.startswith(core) or lowered.endswith(core)) \
                and len(lowered) - len(core) <= 10 and (exercise.kind == "class" or _boundary(lowered, core)):
            return _("`{accepted}` with a prefix or suffix").format(accepted=accepted_name)
    for accepted_name in exercise.names:
        if len(accepted_name) < 6:
            continue
        matcher = difflib.SequenceMatcher(None, lowered, accepted_name.lower())
        # The cheap upper bounds first: a submission may define thousands of names.
        if matcher.real_quick_ratio() >= MISSPELLING_RATIO and matcher.quick_ratio() >= MISSPELLING_RATIO \
                and matcher.ratio() >= MISSPELLING_RATIO:
            return _("close to `{accepted}`").format(accepted=accepted_name)
    return ""


def _boundary(name: str, core: str) -> bool:
    """``cross_entropy_error_2`` or ``my_sse``, not ``process`` around ``sse``."""
    if name.startswith(core):
        rest = name[len(core):]
        return rest[:1] in ("_", "") or rest.isdigit()
    rest = name[:-len(core)]
    return rest.endswith("_") or core[0] == "_"


def search(exercise: Exercise, inventory: Inventory, worker: WorkerClient, taken: set[str]) -> Search:
    """Near-named definitions of the student's for ``exercise``, each probed on a book case.

    ``taken``: names already graded as another exercise under an accepted name.
    """
    near = []
    for definition in inventory.written:
        if definition.stub or definition.hands_over(exercise) or definition.kind != exercise.kind \
                or definition.name in taken:
            continue
        reason = how_near(exercise, definition.name)
        if reason:
            near.append(replace(definition, found_as=reason))
    if not near:
        return Search()
    case = _probe_case(exercise)
    accepted, rejected = [], []
    for definition in _newest_first(near):
        if case is None:
            accepted.append(definition)
            continue
        if not _fits(definition, len(case.args)):
            rejected.append((definition.name, _("it takes other arguments")))
            continue
        verdict = _probe(exercise, definition, case, worker)
        labels = _label_form(exercise, case) if verdict else None
        if labels is not None and not _probe(exercise, definition, labels, worker):
            verdict = ""
            definition = replace(definition, found_as=_("{why}, given the label as a class number").format(
                why=definition.found_as))
        if verdict:
            rejected.append((definition.name, verdict))
        else:
            accepted.append(definition)
    return Search(tuple(accepted), tuple(rejected))


def _newest_first(definitions: list[Definition]) -> list[Definition]:
    """One entry per name and version, the versions of a name newest first."""
    return sorted(definitions, key=lambda d: (d.name, -d.version))


def _probe_case(exercise: Exercise) -> Case | None:
    return next((c for c in exercise.cases if c.book_value is not None), exercise.cases[0] if exercise.cases else None)


def _label_form(exercise: Exercise, case: Case) -> Case | None:
    """The case with its one-hot label(s) given as class numbers, a batch of one for a single sample
    (``y[np.newaxis]``, ``[2]``), when the reference says it is the same example (the same value)."""
    if len(case.args) != 2 or not all(isinstance(a, np.ndarray) for a in case.args):
        return None
    y, t = case.args
    if y.shape != t.shape or y.ndim not in (1, 2) or not y.size:
        return None
    rows = t.reshape(-1, t.shape[-1])
    if not (np.isin(rows, (0, 1)).all() and (rows.sum(axis=1) == 1).all()):
        return None
    labels = replace(case, args=(y.reshape(-1, y.shape[-1]).copy(), rows.argmax(axis=1).astype(np.int64)),
                     book_value=None)
    reference = exercise.load_reference()
    try:
        same = compare(reference(*materialize(case.args)), np.asarray(reference(*materialize(labels.args))),
                       case.rtol, case.atol)
    except Exception:  # a reference made for one-hot labels only
        return None
    return labels if same.ok else None


def _fits(definition: Definition, count: int) -> bool:
    if definition.params is None:
        return True
    required, most = definition.params
    return required <= count and (most is None or count <= most)


def _probe(exercise: Exercise, definition: Definition, case: Case, worker: WorkerClient) -> str:
    """"" when the definition reproduces the case, else why not (for the missing message)."""
    reference = exercise.load_reference()
    expected = reference(*materialize(case.args))
    from ..checking.cases import reference_names
    args, kwargs = arrange(definition, reference_names(reference), case.args)
    reply = worker.call(definition.target, args, kwargs, seed=0)
    if not reply.ok:
        return _("it raised {error} on the book's example").format(
            error=reply.error.type if reply.error else reply.status)
    actual: Any = reply.value
    if exercise.unpack_tuple:
        from ..checking.cases import _first_if_tuple
        expected, actual = _first_if_tuple(expected), _first_if_tuple(actual)
    if compare(expected, actual, case.rtol, case.atol).ok:
        return ""
    return _("it does not reproduce the book's example")


def taken_names(exercises: list[Exercise], inventory: Inventory) -> set[str]:
    """Names graded under an accepted name of some exercise: never a near name of another."""
    return {d.name for d in inventory.written if any(e.matches(d.name) and e.kind == d.kind for e in exercises)}
