"""What a worker without namespaces may open: the sandbox's own view, as a Landlock allow-list.

Standard library only, like isolation.py: it is on the way to the worker's start.

bubblewrap builds the worker's filesystem from nothing (isolation.bwrap_command). Where it
cannot run (a root container, user namespaces off), the worker is a plain process on the
host's filesystem, and Landlock (Linux 5.13+, no privilege needed) is what still keeps it to
the same list: the runtime read-only, the book's helpers read-only, its own private folder
read-write, a few devices, nothing else: not the grader, the answer key, the class folder,
a classmate's files, the instructor's secret file, /proc, /tmp or /dev/shm.

The list is computed here, on the trusted side, from the very arguments that build the
sandbox (``isolation.runtime_binds``), so the two views cannot drift apart. Landlock can only
allow (a rule covers a whole folder), so a folder that holds something hidden (the grader in
its site-packages, a hidden site folder under /usr/local/lib) is not allowed whole: it may be
listed, and each of its entries is allowed on its own, except the hidden ones. A listing shows
names only; what the names hold cannot be opened.

The view is plain data for the worker's confine.py, which turns it into Landlock's rules.
"""
from __future__ import annotations

import os
import stat

from . import isolation

DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_RUNTIME: list[tuple[list[str], list[str]]] = []  # computed once per process (a class pool starts many workers)


def landlock_view(workdir: str, worker_files: dict[str, str], compat: str, mnist: str | None) -> dict[str, list[str]]:
    """What a plain worker whose private folder is ``workdir`` may open: "read" (read-only, each
    folder less what "hidden" names under it), "devices" (read and write), "write" (everything).
    The worker expands it into Landlock's rules itself (confine.restrict_files): a site folder of
    a thousand packages would not fit on its command line as one rule per entry."""
    if not _RUNTIME:
        _RUNTIME.append(_runtime_view())
    roots, hidden = _RUNTIME[0]
    read = roots + [os.fspath(path) for path in worker_files.values()]
    read += [os.path.realpath(folder) for folder in (compat, mnist) if folder and os.path.exists(folder)]
    return {"read": read, "hidden": list(hidden), "devices": [d for d in DEVICES if os.path.exists(d)],
            "write": [os.fspath(workdir)]}


def _runtime_view() -> tuple[list[str], list[str]]:
    """What ``isolation.runtime_binds`` binds read-only, and what it masks."""
    args = isolation.runtime_binds()
    roots: list[str] = []
    hidden: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--ro-bind":
            source, target = args[i + 1], args[i + 2]
            if source == os.devnull:
                hidden.append(target)  # a file masked by /dev/null
            elif source not in roots:
                roots.append(source)
        elif arg == "--tmpfs":
            hidden.append(args[i + 1])  # a folder masked by an empty tmpfs
    return roots, hidden


def unreadable_for(uid: int, paths: list[str]) -> str:
    """Why a process of ``uid`` without groups could not use ``paths`` ("" when it can): a folder
    on the way it may not enter, or a file it may not read. (A Python in a 0700 /root, a TMPDIR
    of root's own: dropping to ``uid`` there would break the worker instead of confining it.)"""
    for path in paths:
        target = os.path.abspath(path)
        here = os.sep
        for part in [p for p in target.split(os.sep) if p]:
            here = os.path.join(here, part)
            try:
                info = os.stat(here)
            except OSError:
                break  # not there: nothing to read on this way
            if here != target:
                need = stat.S_IXOTH  # a folder on the way: enter it
            elif stat.S_ISDIR(info.st_mode):
                need = stat.S_IROTH | stat.S_IXOTH  # the folder itself: list it and enter it
            else:
                need = stat.S_IROTH
            mode = info.st_mode if info.st_uid != uid else info.st_mode >> 6  # its owner's bits, if it is uid's
            if mode & need != need:
                return f"{here} is not open to uid {uid} (mode {stat.filemode(info.st_mode)})"
    return ""
