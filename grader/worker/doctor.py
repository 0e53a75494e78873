"""``grade --doctor``: which isolation layers this machine gives the worker, and why not.

It starts a real worker and reports what that worker confirmed before any student code
could run, not what the machine merely seems to allow.
"""
from __future__ import annotations

import os
import sys

from . import isolation
from .client import Limits, WorkerClient, WorkerDied, WorkerTimeout


def _(message: str) -> str:
    from ..i18n import _ as translate
    return translate(message)


def layers(info) -> list[isolation.Layer]:
    """Each layer with whether the started worker has it, and the reason when it does not."""
    why_not = info.fallback if info else isolation.bwrap_unavailable_reason()
    sandboxed = bool(info and info.sandboxed)
    seccomp = bool(info and info.seccomp == "")
    dropped = bool(info and info.uid_dropped)
    as_root = getattr(os, "geteuid", lambda: -1)() == 0
    if dropped:
        uid_detail = _("uid {uid}, a dedicated uid of this machine, with no groups and no capabilities").format(
            uid=info.uid)
    elif not sandboxed:
        from .spawn import drop_target
        from .spawn import runtime_closed_to
        uid_detail = _("the worker has the grader's own uid") + f" ({drop_target(None)[1]})"
        if as_root and runtime_closed_to(isolation.sandbox_uid(None)):
            uid_detail += "; " + _("install the grader in a virtual environment made from a Python other users may "
                                   "run (for example /usr/bin/python3 -m venv /opt/dlfs-grader)")
    elif as_root:
        uid_detail = _("uid {uid}, a dedicated uid of this machine").format(uid=info.uid)
    else:
        uid_detail = _("uid {uid} inside a user namespace, your own uid outside it").format(uid=info.uid)
    found = [
        isolation.Layer(_("namespaces (PID, network, IPC, UTS, mount) via {bwrap}").format(
            bwrap=isolation.bwrap_path() or "bwrap"), sandboxed,
            _("it sees only the Python runtime, the book's helper modules and a copy of the student's files")
            if sandboxed else why_not or _("the worker did not start")),
        isolation.Layer(_("unprivileged uid"), (sandboxed and info.uid != 0) or dropped, uid_detail),
    ]
    if not sandboxed:  # inside bwrap the namespaces are the worker's view; Landlock is for a plain worker
        landlock = bool(info and info.landlock == "")
        found.append(isolation.Layer(
            _("file access limited by Landlock to the runtime, the book's helper modules and its own folder"),
            landlock, "" if landlock else (info.landlock if info else _("the worker did not start"))))
        from . import memory_cgroup
        why = memory_cgroup.why_unavailable()
        found.append(isolation.Layer(_("memory cgroup: shared memory and tmpfs count against the worker's memory "
                                       "limit"), not why, why))
    return found + [
        isolation.Layer(_("seccomp filter and no_new_privs"), seccomp,
                        _("no new processes, exec, ptrace, mounts, namespaces, BPF, io_uring, keyring or network "
                          "sockets") if seccomp else (info.seccomp if info else _("the worker did not start"))),
        isolation.Layer(_("resource limits (memory, CPU time, file size, processes)"), bool(info and info.limits),
                        "" if info and info.limits else _("this platform has no `resource` module")),
        isolation.Layer(_("time limits inside the worker (CPU time, and the clock for code that sleeps)"),
                        bool(info and info.alarm),
                        "" if info and info.alarm else _("no SIGALRM here: the grader's own deadline ends slow calls")),
        isolation.Layer(_("audit hook in the worker (a second line)"), info is not None, ""),
    ]


def _started_worker() -> tuple[object | None, str]:
    """Start one worker as grading would: what isolation it got, or why it could not start."""
    client = WorkerClient(Limits())
    try:
        client.start()
        client._await_ready()
        return client.isolation, ""
    except (WorkerDied, WorkerTimeout, OSError) as exc:
        return None, str(exc)
    finally:
        client.close()


def probe_level() -> tuple[str, str]:
    """The isolation level a worker gets on this machine, and why a layer is missing ("" when none is)."""
    info, error = _started_worker()
    if info is None:
        return isolation.PROCESS_ONLY, error
    missing = "; ".join(f"{layer.name}: {layer.detail}" for layer in layers(info) if not layer.available)
    return info.level, missing


def run(out=sys.stdout) -> int:
    """Print the report; 0 when the strongest level is available, 1 when the worker is weaker."""
    info, error = _started_worker()
    if error:
        out.write(_("the worker could not start: {reason}").format(reason=error) + "\n")
    level = info.level if info else isolation.PROCESS_ONLY
    out.write(_("isolation: {level}").format(level=level) + "\n")
    for layer in layers(info):
        mark = "✔" if layer.available else "✘"
        out.write(f"  {mark} {layer.name}" + (f": {layer.detail}" if layer.detail else "") + "\n")
    return 0 if level == isolation.STRONG else 1
