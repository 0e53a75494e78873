"""What ``import`` finds in the worker: the student's own modules first, then the book's helpers.

Loaded by file path inside the sandboxed worker (like ``wire.py`` and ``guard.py``): the
standard library only, never the ``grader`` package. Plotting libraries and progress bars
are stand-ins here, installed or not, and the known-cheap book calls (``load_mnist``) are
kept off the demo budget so that a report does not depend on the machine's load.
"""
from __future__ import annotations

import ast
import importlib.util
import io
import os
import signal
import sys
import time
import types

# Plotting is never graded: these are stand-ins that accept anything, installed or not.
PLOTTING = frozenset({"matplotlib", "pylab", "mpl_toolkits", "seaborn", "PIL"})
# Progress bars only decorate a loop (`for i in tqdm(range(n))`): stand-ins that hand the loop
# back, installed or not, so that a correct function never fails for want of one.
PROGRESS_BARS = frozenset({"tqdm"})
PYPLOT_NAMES = ["plot", "show", "figure", "xlabel", "ylabel", "title", "legend", "xlim", "ylim", "imshow",
                "subplot", "subplots", "scatter", "grid", "axis", "savefig", "quiver", "contour", "contourf",
                "hist", "bar", "clf", "close", "colorbar", "draw", "pause", "text", "annotate", "tight_layout",
                "suptitle", "xticks", "yticks", "gca", "gcf", "ion", "ioff", "axhline", "axvline", "fill_between"]
# Calls known to be cheap whose cost depends on the machine (a cold disk, a loaded CPU): they do
# not count against the demo budget, so that the report does not depend on the machine's load.
FREE_CALLS = {"dataset.mnist": ("load_mnist",)}


class _Anything:
    """A plotting stand-in: any attribute, call, index or operator gives another stand-in."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __setattr__(self, name, value) -> None:
        pass

    def __getitem__(self, key):
        return _Anything()

    def __setitem__(self, key, value) -> None:
        pass

    def __iter__(self):
        # ``fig, ax = plt.subplots()``: two is what unpacking most often expects.
        return iter((_Anything(), _Anything()))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def __repr__(self) -> str:
        return "<plotting stand-in>"

    def _same(self, *args):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _same
    __neg__ = __pow__ = __matmul__ = _same


def _progress_bar(iterable=None, *args, **kwargs):
    """``tqdm(iterable, ...)`` is the iterable itself; ``tqdm(total=n)`` a do-nothing bar."""
    return iterable if iterable is not None else _Anything()


class _StandInLoader:
    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__getattr__ = lambda name: _Anything()
        module.__all__ = list(PYPLOT_NAMES) if spec.name.split(".")[-1] in ("pyplot", "pylab") else []
        module.__path__ = []
        for name in module.__all__:
            setattr(module, name, _Anything())
        if spec.name.partition(".")[0] in PROGRESS_BARS:
            module.tqdm = _progress_bar
            module.trange = lambda *args, **kwargs: range(*args)
            module.__all__ = ["tqdm", "trange"]
        return module

    def exec_module(self, module) -> None:
        pass


def _decode_source(data: bytes) -> str:
    """Read source as Python does (a coding line, UTF-8), and also as learners save it on
    Windows without saying so (cp949 in Korea, cp932 in Japan, GBK in China).

    The same rule as grader.loaders.base.decode_source, kept here on purpose: the worker must
    never import the grader package."""
    import tokenize
    try:
        declared = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        declared = "utf-8"
    for encoding in (declared, "utf-8", "cp949", "cp932", "gb18030"):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        return text[1:] if text.startswith("\ufeff") else text
    return data.decode("utf-8", errors="replace")


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def parent_within(folder: str, root: str) -> str:
    """The folder above ``folder`` if it is still inside ``root``, else ``root``."""
    parent = os.path.dirname(os.path.realpath(folder))
    return parent if _within(parent, os.path.realpath(root)) else os.path.realpath(root)


class _StudentLoader:
    """Runs one of the student's own module files; ``path`` None is a folder without __init__.py."""

    def __init__(self, owner: "_BookPackages", path: str | None) -> None:
        self.owner, self.path = owner, path

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        if self.path is None:
            return
        with open(self.path, "rb") as handle:
            source = _decode_source(handle.read())
        cell, shown = self.owner.cell_of(self.path)
        try:
            tree = ast.parse(source, filename=shown)
        except SyntaxError as exc:
            self.owner.broken.append({"cell": cell, "line": exc.lineno or 0, "message": str(exc.msg)})
            raise SyntaxError(exc.msg, (shown, exc.lineno, exc.offset, exc.text)) from None
        module.__file__ = self.path
        # The book's helpers never fill in a name the student's module lacks: a learner's
        # common/gradient.py that forgot ``import numpy`` fails as Python fails it.
        exec(compile(tree, self.owner.filename_prefix + cell, "exec"), module.__dict__)
        self.owner.loaded(module, cell, tree)


class _BookPackages:
    """What ``import`` finds, by Python's rule and a student's expectations.

    * The student's own folders come first, with or without ``__init__.py``: a ``common/``
      beside their chapter folder is what ``import common.functions`` finds, even though
      the book's helpers (a regular package) are on the path too. Their modules run here,
      read in whatever encoding the student saved them, and every function and class
      they define is the student's work (reported to the worker as a definition).
    * The book's helpers only fill in modules the student's folder does not have
      (``common.gradient`` beside a copied ``common/functions.py``), never a name inside
      one of the student's modules (Python would not either).
    * Plotting libraries are stand-ins (:class:`_Anything`), installed or not.
    """

    def __init__(self, compat: list[str]) -> None:
        self.compat = compat
        self.roots: list[str] = []
        self.filename_prefix = "<submission cell "
        self.modules: list[dict] = []  # the student's module files that ran: cell, root, rel
        self.broken: list[dict] = []  # the student's module files that do not parse
        self.on_loaded = None  # (module, cell, tree) -> None, set by the worker
        self.public: dict[str, str] = {}  # private name of a module loaded under another -> its name

    def configure(self, roots: list[str], filename_prefix: str, on_loaded) -> None:
        self.roots = [os.path.realpath(r) for r in roots if r and os.path.isdir(r)]
        self.filename_prefix, self.on_loaded = filename_prefix, on_loaded

    # ---- finding ------------------------------------------------------------------
    def find_spec(self, fullname, path=None, target=None):
        import importlib.machinery
        top, _, rest = fullname.partition(".")
        if top in PLOTTING or top in PROGRESS_BARS:
            return importlib.machinery.ModuleSpec(fullname, _StandInLoader(), is_package=True)
        if not rest:
            found = self._top_level(fullname)
        else:
            parent = sys.modules.get(fullname.rpartition(".")[0])
            found = self._inside(fullname, list(getattr(parent, "__path__", None) or []))
        if found is None:
            return None
        file, locations = found
        real = os.path.realpath(file) if file else None
        if real is not None and self._is_mnist_loader(real):
            # A copied dataset/mnist.py downloads MNIST; the sandbox has no network, so the bundled
            # offline data answers load_mnist, as it does for a student who has no copy at all.
            file, real, locations = self._bundled_mnist(), None, None
            if file is None:
                return None
        elif real is None or any(_within(real, root) for root in self.roots):
            spec = importlib.machinery.ModuleSpec(fullname, _StudentLoader(self, real), origin=real,
                                                  is_package=locations is not None)
            if locations is not None:
                spec.submodule_search_locations = locations
            spec.has_location = real is not None
            return spec
        spec = importlib.util.spec_from_file_location(fullname, file, submodule_search_locations=locations)
        if spec is not None and (fullname in FREE_CALLS or os.path.basename(file) == "mnist.py"):
            original = spec.loader.exec_module

            def exec_module(module, _original=original):
                _original(module)
                _free_calls(module)

            spec.loader.exec_module = exec_module
        return spec

    @staticmethod
    def _is_mnist_loader(real: str) -> bool:
        return os.path.basename(real) == "mnist.py" and os.path.basename(os.path.dirname(real)) == "dataset"

    def _bundled_mnist(self) -> str | None:
        for compat in self.compat:
            candidate = os.path.join(compat, "dataset", "mnist.py")
            if os.path.isfile(candidate):
                return candidate
        return None

    def search_path(self) -> list[str]:
        """Where a top-level import looks, in order: the submission's folder, then sys.path's entries
        inside the staged repository (the student's own path edits: ``sys.path.append(os.pardir)``),
        then the folder above the submission's (the book's layout, as the grader always read it)."""
        if not self.roots:
            return []
        top = self.roots[-1]
        found = list(self.roots[:-1])
        for entry in sys.path:
            if isinstance(entry, str):
                real = os.path.realpath(entry or os.curdir)
                if _within(real, top) and os.path.isdir(real):
                    found.append(real)
        found.append(parent_within(self.roots[0], top) if len(self.roots) > 1 else top)
        return list(dict.fromkeys(found))

    def _top_level(self, name: str):
        for root in self.search_path():
            folder = os.path.join(root, name)
            if os.path.isdir(folder) and self._is_package(folder, name):
                init = os.path.join(folder, "__init__.py")
                return (init if os.path.isfile(init) else None), self._locations(name)
            if os.path.isfile(folder + ".py"):
                return folder + ".py", None
        return None

    def _is_package(self, folder: str, name: str) -> bool:
        """A folder counts when it holds Python or the book has a package of that name: a
        ``data/`` folder of images must not hide a library."""
        if any(os.path.isdir(os.path.join(c, name)) for c in self.compat):
            return True
        try:
            return any(entry.endswith(".py") for entry in os.listdir(folder))
        except OSError:
            return False

    def _locations(self, name: str) -> list[str]:
        mine = [os.path.join(r, name) for r in self.search_path() if os.path.isdir(os.path.join(r, name))]
        book = [os.path.join(c, name) for c in self.compat if os.path.isdir(os.path.join(c, name))]
        return mine + book

    def _inside(self, fullname: str, locations: list[str]):
        last = fullname.rpartition(".")[2]
        for location in locations:
            folder = os.path.join(location, last)
            if os.path.isdir(folder) and (os.path.isfile(os.path.join(folder, "__init__.py"))
                                          or self._is_package(folder, last)):
                init = os.path.join(folder, "__init__.py")
                subs = [os.path.join(l, last) for l in locations if os.path.isdir(os.path.join(l, last))]
                return (init if os.path.isfile(init) else None), subs
            if os.path.isfile(folder + ".py"):
                return folder + ".py", None
        return None

    # ---- what the student's modules are --------------------------------------------
    def cell_of(self, path: str) -> tuple[str, str]:
        """A student's module file as a 'cell' of the submission: ``path:ROOT:REL``, and its shown name.

        ROOT numbers the configured roots: 0 the submission's folder, the last the repository's root
        (a file outside the folder is named from there)."""
        for index, root in enumerate(self.roots):
            if index and index < len(self.roots) - 1:
                continue
            if _within(path, root):
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                cell = f"path:{index}:{rel}"
                if not any(m["cell"] == cell for m in self.modules):
                    self.modules.append({"cell": cell, "root": index, "rel": rel})
                return cell, rel
        return f"path:-1:{os.path.basename(path)}", os.path.basename(path)

    def loaded(self, module, cell: str, tree) -> None:
        _free_calls(module)
        if self.on_loaded is not None:
            self.on_loaded(module, cell, tree)


def _free_calls(module) -> None:
    """Wrap the module's known-cheap functions so their cost is not charged to the demo budget."""
    names = FREE_CALLS.get(module.__name__, ())
    if not names and os.path.basename(str(getattr(module, "__file__", ""))) == "mnist.py":
        names = FREE_CALLS["dataset.mnist"]  # the bundled loader imported as ``mnist``
    for name in names:
        fn = module.__dict__.get(name)
        if callable(fn) and not getattr(fn, "_dlfs_free", False):
            module.__dict__[name] = _budget_free(fn)


def _budget_free(fn):
    import functools

    @functools.wraps(fn)
    def free(*args, **kwargs):
        cpu = signal.setitimer(signal.ITIMER_PROF, 0)
        wall = signal.setitimer(signal.ITIMER_REAL, 0)
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _FREE_SPENT[0] += time.process_time() - started
            if cpu[0] > 0:
                signal.setitimer(signal.ITIMER_PROF, cpu[0])
            if wall[0] > 0:
                signal.setitimer(signal.ITIMER_REAL, wall[0])
    free._dlfs_free = True
    return free


_FREE_SPENT = [0.0]  # CPU seconds spent in FREE_CALLS so far
