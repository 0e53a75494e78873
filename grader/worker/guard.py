"""The worker's in-process guard: an audit hook, the second line of defence.

Loaded by file path inside the worker, standard library only. The first line is the
operating system (grader/worker/isolation.py: namespaces, an unprivileged uid, a
filesystem view without the grader, and the seccomp filter). Everything here lives in
the student's own process, so a determined submission can reach it (PEP 578 says as
much); it stays because it turns most mistakes and casual attempts into a clear
PermissionError, on machines where the OS layers are missing too.

It is installed before any folder the student controls is on ``sys.path``, so that no
file of theirs (a ``_posixsubprocess.py`` beside the submission) runs before it.
"""
from __future__ import annotations

import os
import sys

# The answer key and the specs are installed as grader._reference and grader.specs._exercises: a
# student's own reference.py or exercises.py is theirs to import (a checkout's folders of those
# names stay unreadable through the protected paths).
BLOCKED_IMPORTS = frozenset({"grader"})
# Loaded once, disarmed, then never loaded again: its fork_exec starts processes without
# any audit event, and a fresh copy (after deleting it from sys.modules) would be armed.
DISARMED = "_posixsubprocess"
REFUSED = frozenset({
    "os.system", "subprocess.Popen", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
    "socket.__new__", "resource.setrlimit", "resource.prlimit", "ctypes.dlopen", "ctypes.dlsym",
    "ctypes.cdata", "sys.remote_exec", "pty.spawn", "os.setsid", "os.chroot",
    # gc reaches the hook's closure cells; a second line that can be emptied is no line.
    "gc.get_referrers", "gc.get_referents", "gc.get_objects",
})
PATH_EVENTS = frozenset({"os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.truncate", "os.chmod",
                         "os.chown", "os.link", "os.symlink", "os.mkdir", "shutil.move", "shutil.copyfile"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def install(workdir: str, protected: list[str], allowed: list[str]) -> list[str]:
    """Install the audit hook (which, unlike a meta-path finder, student code cannot remove).

    ``protected`` folders (the grader, the answer key, the exercise specs) cannot even be
    read: ``importlib.import_module`` and ``spec_from_file_location`` bypass the import
    event, but every way of loading code opens its file, and that is audited. ``allowed``
    are exceptions inside them (the book's helper modules). Returns the list the hook
    reads for folders protected later (plugins' answer keys, sent with the load request).
    """
    work = os.path.realpath(workdir)
    fixed = tuple(os.path.realpath(p) for p in protected)  # immutable: gc cannot empty it
    later: list[str] = []
    exceptions = tuple(os.path.realpath(p) for p in allowed)
    realpath, fsdecode, isdir, sep = os.path.realpath, os.fsdecode, os.path.isdir, os.sep

    def within(real: str, folder: str) -> bool:
        return real == folder or real.startswith(folder + sep)

    def resolve(path) -> str | None:
        try:
            return realpath(fsdecode(path))
        except Exception:
            return None

    def inside(path) -> bool:
        real = resolve(path)
        return real is not None and within(real, work)

    def hook(event: str, args: tuple) -> None:
        if event == "import":
            if args and str(args[0]).partition(".")[0] in BLOCKED_IMPORTS:
                raise ImportError(f"the grader's own modules cannot be imported by a submission ({args[0]})")
            if args and args[0] == DISARMED:
                raise ImportError(f"{DISARMED} cannot be loaded again while grading")
        elif event in REFUSED:
            raise PermissionError(f"not allowed while grading: {event}")
        elif event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if not isinstance(path, (str, bytes)):
                return
            real = resolve(path)
            if real is not None and any(within(real, p) for p in fixed + tuple(later)) \
                    and not any(within(real, a) for a in exceptions):
                raise PermissionError("the grader's own files cannot be read by a submission")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS)
            if writing and not inside(path):
                raise PermissionError(f"writing outside the grading folder is not allowed: {path!r}")
            # A descriptor of an outside folder would let os.open(..., dir_fd=fd) reach
            # beyond it (the event only shows the relative name): refuse such descriptors.
            if mode is None and not inside(path) and isdir(path):
                raise PermissionError(f"opening folders outside the grading folder is not allowed: {path!r}")
        elif event in PATH_EVENTS:
            for path in args:
                if isinstance(path, (str, bytes, os.PathLike)) and not inside(path):
                    raise PermissionError(f"not allowed outside the grading folder: {event}")

    try:
        import _posixsubprocess
    except ImportError:  # Windows
        _posixsubprocess = None

    def refuse_process(*args, **kwargs):
        raise PermissionError("not allowed while grading: starting a process")

    if _posixsubprocess is not None:
        _posixsubprocess.fork_exec = refuse_process
    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED_IMPORTS:
            del sys.modules[name]
    sys.addaudithook(hook)
    return later
