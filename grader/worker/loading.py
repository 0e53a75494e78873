"""The worker's loading of a submission: its top-level code run statement by statement, and what it defined.

A worker script (loaded by path by runner.py in the sandbox, never importing the ``grader``
package), holding the functions of the worker that load a submission: each statement under a
budget, every version of every function or class the student's code made, where it was written,
its parameters and which others it calls. runner.py's Worker answers the trusted side; the state
these functions keep (the namespaces, the versions) lives on it.
"""
from __future__ import annotations

import ast
import builtins
import functools
import os
import signal
import sys
import time
import types

SUBMISSION_MODULE = "__dlfs_submission__"


def _bound_names(node) -> list[str] | None:
    """Names a top-level statement binds, from its syntax; None when it cannot be told
    (``from m import *``, ``exec``, ``globals()``), and the caller looks at everything."""
    names: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.append(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            for alias in sub.names:
                if alias.name == "*":
                    return None
                names.append(alias.asname or alias.name.partition(".")[0])
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and \
                sub.func.id in ("exec", "globals", "setattr", "vars"):
            return None
    return names


FULL_SCANS = 64  # statements per load whose visible exec/globals() has the whole namespace looked at
TAIL_SLACK = 64  # names walked past the growth, in case the mark's newest name was deleted


def _namespace_mark(namespace: dict) -> tuple[int, object]:
    """How many names ``namespace`` holds and its newest one, taken before a statement runs."""
    return len(namespace), next(reversed(namespace), None)


def _new_names(namespace: dict, mark: tuple[int, object]) -> list[str]:
    """Names added to ``namespace`` since ``mark``: the tail after the mark's newest name.

    If that name was deleted meanwhile, the walk stops after the growth in size plus
    TAIL_SLACK names, so one statement never costs the whole namespace.
    """
    size, newest = mark
    limit = max(len(namespace) - size, 0) + TAIL_SLACK
    found = []
    for key in reversed(namespace):
        if key is newest or len(found) >= limit:
            break
        if type(key) is str:  # globals()[obj] = ... may add any key; only names are compared
            if key == newest:
                break
            found.append(key)
    return found


def _prefixes(dotted: str) -> list[str]:
    """``a``, ``a.b`` and ``a.b.c`` for ``a.b.c``: each is a module the import runs first."""
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _in_import_order(parsed: list) -> list:
    """Cells grouped by module, each module after the sibling modules it imports (then in
    the order given): ``train_neuralnet.py`` imports ``two_layer_net``, which must run first.
    The cells of one module keep their order."""
    groups: dict[str, list] = {}
    for cell, tree in parsed:
        groups.setdefault(str(cell.get("module") or SUBMISSION_MODULE), []).append((cell, tree))
    if len(groups) < 2:  # one file or notebook: nothing to order, and no tree to walk
        return list(parsed)
    importable = {name for name, items in groups.items() if items[0][0].get("importable")}
    needs: dict[str, list[str]] = {}
    for name, items in groups.items():
        wanted = []
        for _cell, tree in items:
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    wanted += [prefix for a in node.names for prefix in _prefixes(a.name)]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    wanted += _prefixes(node.module) + [f"{node.module}.{a.name}" for a in node.names]
        needs[name] = [w for w in wanted if w in importable and w != name]
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return  # an import cycle: Python would see a half-run module too
        visiting.add(name)
        for dependency in needs[name]:
            visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in groups:
        visit(name)
    return [item for name in order for item in groups[name]]


def _positional(fn) -> list:
    """[required, most] positional parameters of a function (most is None with ``*args``)."""
    code = fn.__code__
    required = code.co_argcount - len(fn.__defaults__ or ())
    return [required, None if code.co_flags & 0x04 else code.co_argcount]


def _uses(value, keys: dict) -> list:
    """The student's definitions (name, version) that ``value``'s code refers to by a global name."""
    functions = [value] if isinstance(value, types.FunctionType) else [
        v for v in vars(value).values() if isinstance(v, types.FunctionType)] if isinstance(value, type) else []
    found = []
    for fn in functions:
        names, stack = set(), [fn.__code__]
        while stack:
            code = stack.pop()
            names.update(code.co_names)
            stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        for name in sorted(names):
            key = keys.get(id(fn.__globals__.get(name)))
            if key is not None and key not in found and fn.__globals__.get(name) is not value:
                found.append(key)
    return found


def load(worker, request: dict, student_imports: types.ModuleType) -> dict:
    """Run the submission's top-level code, statement by statement, each under a budget.

    Each cell names the module it belongs to: a notebook or a single file is one module
    (``__dlfs_submission__``); each ``.py`` file of a folder is its own module, named
    after the file and importable by its siblings, which run after the files they import.
    Budgets count the worker's CPU time, not the clock, so that the same submission gets
    the same report on a busy machine; a generous wall-clock limit catches sleeping code.
    """
    worker.namespace.update({"__name__": SUBMISSION_MODULE, "__builtins__": builtins,
                           "__file__": request.get("file", "submission.py")})
    sys.modules[SUBMISSION_MODULE] = worker.module
    worker.namespaces = {SUBMISSION_MODULE: worker.namespace}
    worker.seen = set()
    worker.full_scans = 0  # statements whose visible exec/globals() had the whole namespace looked at
    # The submission's folder and the repository's root (its staged copy), then the book's helpers.
    # On sys.path: the folder and the one above it (the book's layout, ch04/ beside common/, as
    # the grader always read it); the root is where the student's own path edits may reach.
    paths = [p for p in request.get("paths", []) if isinstance(p, str)]
    on_path = paths[:1] + [student_imports.parent_within(paths[0], paths[-1])] if paths else []
    sys.path[1:1] = [p for p in dict.fromkeys(on_path) if p and p not in sys.path] + worker.compat
    worker.finder = next((f for f in sys.meta_path if isinstance(f, student_imports._BookPackages)), None)
    if worker.finder is not None:
        worker.finder.configure([os.getcwd()] + paths, worker.filename_prefix, functools.partial(record_module, worker))
    # Exercises from plugins keep their answer keys in their own folders: guard those too.
    worker.protected.extend(os.path.realpath(p) for p in request.get("protect", []))
    skip = {(s[0], s[1]) for s in request.get("skip", [])}
    demo_left = float(request.get("demo_budget", 1.0))
    import_budget = float(request["import_budget"])
    statements = []
    parsed = []
    for cell in request["cells"]:
        filename = worker.filename_prefix + str(cell["id"])
        try:
            parsed.append((cell, ast.parse(cell["source"], filename=filename)))
        except SyntaxError as exc:
            statements.append({"cell": cell["id"], "index": 0, "line": exc.lineno or 0,
                               "status": "syntax-error", "error": {"type": "SyntaxError",
                               "message": str(exc.msg), "where": []}})
    home = os.getcwd()
    for cell, tree in _in_import_order(parsed):
        filename = worker.filename_prefix + str(cell["id"])
        namespace = namespace_of(worker, cell)
        script_dir = _script_dir(home, cell.get("dir"))
        if script_dir is not None:
            sys.path.insert(0, script_dir)
        plan = cell.get("plan") or []
        for index, node in enumerate(tree.body):
            record = {"cell": cell["id"], "index": index, "line": node.lineno}
            statements.append(record)
            category = plan[index] if index < len(plan) else "demo"
            if (cell["id"], index) in skip:
                record["status"] = "skipped"
                continue
            if category == "skip":
                record["status"] = "skipped-training"
                continue
            if category == "demo" and demo_left <= 0:
                record["status"] = "skipped-budget"
                continue
            # Progress first, so that if this statement kills the process the
            # trusted side knows which one to skip when it starts a new worker.
            worker.send({"progress": [cell["id"], index]})
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                budget = import_budget
            elif category in ("demo", "plot"):
                budget = request["demo_statement_budget"]
                budget = min(budget, demo_left) if category == "demo" else budget
            else:
                budget = request["statement_budget"]
            code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")
            mark = _namespace_mark(namespace)
            started, free = time.process_time(), student_imports._FREE_SPENT[0]
            wall_budget = max(budget, min(budget * 10 + 2, import_budget))
            record.update(run_statement(worker, code, namespace, budget, wall_budget))
            if category == "demo":
                demo_left -= (time.process_time() - started) - (student_imports._FREE_SPENT[0] - free)
            record_versions(worker, cell["id"], node, namespace, mark)
        if script_dir is not None and script_dir in sys.path:
            sys.path.remove(script_dir)
    worker.output.take()
    return {"ok": True, "statements": statements, "definitions": inventory(worker)}

def _script_dir(home: str, folder) -> str | None:
    """A subfolder's file's own folder (inside the submission's), to put first on sys.path while it runs."""
    if not isinstance(folder, str) or not folder:
        return None
    path = os.path.realpath(os.path.join(home, folder))
    return path if path.startswith(os.path.realpath(home) + os.sep) and os.path.isdir(path) else None


def namespace_of(worker, cell: dict) -> dict:
    """The module a cell runs in: created on first use; a folder's file is importable by its name."""
    name = str(cell.get("module") or SUBMISSION_MODULE)
    namespace = worker.namespaces.get(name)
    if namespace is None:
        module = types.ModuleType(name)
        module.__file__ = os.path.join(os.getcwd(), str(cell.get("file") or name))
        module.__builtins__ = builtins
        namespace = worker.namespaces[name] = module.__dict__
        # Siblings import it by name; never over a module the worker itself already uses.
        if cell.get("importable") and all(p.isidentifier() for p in name.split(".")) and name not in sys.modules:
            sys.modules[name] = module
    return namespace

def run_statement(worker, code, namespace: dict, cpu_budget: float, wall_budget: float) -> dict:
    """Run one top-level statement; past its CPU budget (or, if it sleeps, its wall budget) it is abandoned."""
    sys.stdout = sys.stderr = worker.output
    signal.setitimer(signal.ITIMER_PROF, cpu_budget)
    signal.setitimer(signal.ITIMER_REAL, wall_budget)
    try:
        exec(code, namespace)
        return {"status": "ok"}
    except worker.budget_exceeded:
        return {"status": "abandoned"}
    except SystemExit as exc:
        return {"status": "error", "error": {"type": "SystemExit", "message": str(exc.code), "where": []}}
    except BaseException as exc:
        return {"status": "error", "error": worker.error_info(exc)}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__

def record_versions(worker, cell, node, namespace: dict, mark: tuple[int, object] | None = None) -> None:
    """Keep each function or class the statement bound, if the student's code made it.

    Looked at: the names the statement binds by its syntax, and every name that is new in
    the namespace since ``mark`` (a ``load_helpers("ch4.py")`` call whose function runs
    ``exec(open(path).read(), globals())`` binds names no syntax shows). Dicts keep insertion
    order, so new names are the namespace's tail after the newest name of the mark: only that
    tail is walked, and loading stays linear in the submission's size (issue 9: 64k statements).
    A statement whose own syntax calls ``exec`` or ``globals()`` also has the whole namespace
    looked at, for rebindings of existing names, at most FULL_SCANS times per load.

    Not caught: an existing name rebound indirectly (a function that runs ``exec`` or writes
    ``globals()[name]`` for a name already bound) by a statement whose syntax shows neither;
    after FULL_SCANS whole-namespace looks, an existing name rebound by a visible ``exec``; and
    new names beyond the tail walk's slack when one statement deletes many names and adds others.
    """
    names = _bound_names(node)
    if names is None:
        worker.full_scans += 1
        names = list(namespace) if worker.full_scans <= FULL_SCANS else []
    if mark is not None:
        names = list(names) + _new_names(namespace, mark)
    module = namespace.get("__name__")
    for name in names:
        value = namespace.get(name)
        if isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", None) == module:
            keep(worker, name, value, cell, node.lineno, namespace)

def record_module(worker, module, cell: str, tree) -> None:
    """A module of the student's own (``common/functions.py``) ran: its definitions are their work."""
    namespace = module.__dict__
    for node in tree.body:
        for name in _bound_names(node) or ():
            value = namespace.get(name)
            if isinstance(value, (types.FunctionType, type)) and \
                    getattr(value, "__module__", None) == module.__name__:
                keep(worker, name, value, cell, node.lineno, namespace)

def keep(worker, name: str, value, cell, line: int, namespace: dict) -> None:
    if id(value) in worker.seen:
        return
    worker.seen.add(id(value))
    worker.versions.setdefault(name, []).append((value, cell, line, namespace))

def inventory(worker) -> dict:
    """Every version of every definition, where it was written, its positional parameters
    and which other definitions of the student's it calls (names its code resolves to them)."""
    keys = {id(value): [name, number] for name, versions in worker.versions.items()
            for number, (value, _c, _l, _n) in enumerate(versions)}
    written = []
    for name, versions in worker.versions.items():
        for number, (value, cell, line, namespace) in enumerate(versions):
            entry = {"name": name, "version": number, "cell": cell, "line": line,
                     "kind": "class" if isinstance(value, type) else "function",
                     "current": namespace.get(name) is value, "module": str(namespace.get("__name__")),
                     "uses": _uses(value, keys)}
            if isinstance(value, types.FunctionType):
                entry["params"] = _positional(value)
                entry["param_names"] = list(value.__code__.co_varnames[:value.__code__.co_argcount])
            written.append(entry)
    imported, listed = [], set()
    finder = getattr(worker, "finder", None)
    for namespace in worker.namespaces.values():
        module_name = namespace.get("__name__")
        for name, value in namespace.items():
            if name.startswith("__") or name in listed or not callable(value):
                continue
            module = getattr(value, "__module__", None)
            if module != module_name and isinstance(module, str) and id(value) not in keys:
                imported.append({"name": name, "module": finder.public.get(module, module) if finder else module})
                listed.add(name)
    return {"written": written, "imported": imported[:500],
            "modules": list(finder.modules) if finder else [], "broken": list(finder.broken) if finder else []}
