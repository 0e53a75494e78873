"""Why an exercise is missing, in the student's terms: the book's own code, an import, a wrapper,
a stub, or nothing with an accepted name (and the near names tried)."""
from __future__ import annotations

from ..specs.exercises import Exercise
from ..i18n import _
from .definitions import Inventory
from .finding import Search, how_near


def missing_message(exercise: Exercise, inventory: Inventory, found: Search = Search()) -> str:
    message = missing_reason(exercise, inventory)
    if found.rejected:
        tried = "; ".join(f"`{name}`: {why}" for name, why in found.rejected[:5])
        message += " " + _("Near names tried and not graded: {tried}.").format(tried=tried)
    return message


def missing_reason(exercise: Exercise, inventory: Inventory) -> str:
    names = _(" or ").join(f"`{n}`" for n in exercise.names[:4])
    # The book's own code that would have been this exercise: by an accepted name, the exercise's
    # own name first (common/gradient.py's numerical_gradient, not its numerical_gradient_2d), else
    # by a near name (the book's common/functions.py calls SSE sum_squared_error).
    books = sorted(inventory.books(exercise), key=lambda d: d.name not in exercise.names) or \
        [d for d in inventory.book if d.kind == exercise.kind and how_near(exercise, d.name)]
    if books:
        book = books[0]
        where = book.book_file or book.place.rpartition(", ")[0] or book.place
        return _("`{name}` in {file} is the book's own code ({repository}, {path}): it is not graded as your "
                 "work. Write your own {kind} named {names} to get credit.").format(
            name=book.name, file=where, repository=book.book.repository, path=book.book.path,
            kind=_(exercise.kind), names=names)
    wrappers = inventory.wrappers(exercise)
    if wrappers:
        wrapper = wrappers[-1]
        called, module = wrapper.hands_over(exercise)
        if not wrapper.wraps:
            return _("`{name}` ({place}) calls `{called}` from `{module}` (an import): the book's own {exercise} does "
                     "the work, not your code. Write it yourself to get credit, as a {kind} named {names}.").format(
                name=wrapper.name, place=wrapper.place, called=called, module=module, exercise=exercise.id,
                names=names, kind=_(exercise.kind))
        return _("`{name}` ({place}) only passes its arguments on to `{called}`, which comes from `{module}` (an "
                 "import), not from your own code: write it yourself to get credit, as a {kind} named {names}."
                 ).format(name=wrapper.name, place=wrapper.place, called=called, module=module, names=names,
                          kind=_(exercise.kind))
    imports = inventory.imports(exercise)
    if imports:
        name, module = imports[0]
        return _("`{name}` comes from `{module}` (an import), not from your own code: write it yourself to get "
                 "credit, as a {kind} named {names}.").format(name=name, module=module, names=names,
                                                              kind=_(exercise.kind))
    stubs = inventory.stubs(exercise)
    if stubs:
        return _("{label} is still the TODO stub: fill it in.").format(label=stubs[-1].label)
    if exercise.kind == "class":
        return _("Not found: expected a class named {names}.").format(names=names)
    return _("Not found: expected a function named {names}.").format(names=names)
