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
    bwrap = isolation.bwrap_path() or "bwrap"
    as_root = getattr(os, "geteuid", lambda: -1)() == 0
    uid_detail = ("the worker's own uid is the grader's" if not sandboxed else
                  f"uid {info.uid} (a dedicated uid of this machine)" if as_root else
                  f"uid {info.uid} inside a user namespace, mapped to yours outside")
    return [
        isolation.Layer("namespaces (user or root-made: PID, network, IPC, UTS, mount) via " + bwrap, sandboxed,
                        "a filesystem view of only the runtime, the book's helpers and a private copy of the files"
                        if sandboxed else why_not or "not started"),
        isolation.Layer("unprivileged uid", sandboxed and info.uid != 0, uid_detail),
        isolation.Layer("seccomp filter and no_new_privs", bool(info and info.seccomp == ""),
                        "no new processes, exec, ptrace, mounts, namespaces, BPF, io_uring, keyring, network sockets"
                        if info and info.seccomp == "" else (info.seccomp if info else "worker not started")),
        isolation.Layer("resource limits (memory, CPU time, file size, processes)", bool(info and info.limits),
                        "" if info and info.limits else "no `resource` module on this platform"),
        isolation.Layer("time limits inside the worker (SIGALRM)", bool(info and info.alarm),
                        "" if info and info.alarm else "no SIGALRM here: the grader's own deadline ends slow calls"),
        isolation.Layer("audit hook in the worker (a second line)", info is not None, ""),
    ]


def run(out=sys.stdout) -> int:
    """Print the report; 0 when the strongest level is available, 1 when the worker is weaker."""
    client = WorkerClient(Limits())
    info = None
    try:
        client.start()
        client._await_ready()
        info = client.isolation
    except (WorkerDied, WorkerTimeout, OSError) as exc:
        out.write(f"worker could not start: {exc}\n")
    finally:
        client.close()
    level = info.level if info else isolation.PROCESS_ONLY
    out.write(_("isolation: {level}").format(level=level) + "\n")
    for layer in layers(info):
        mark = "yes" if layer.available else "no "
        out.write(f"  [{mark}] {layer.name}" + (f": {layer.detail}" if layer.detail else "") + "\n")
    return 0 if level == isolation.STRONG else 1
