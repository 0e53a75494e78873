"""A memory cgroup for each plain worker, where the grader may make one: memory bounded as a whole.

The worker's RLIMIT_AS bounds its address space, but not what it puts in shared memory or a
tmpfs (/dev/shm, /tmp): those pages outlive any mapping and are charged to no limit of the
process. In the namespace sandbox the worker sees only size-limited tmpfs mounts, and Landlock
keeps a plain worker out of /dev/shm and /tmp. Where neither holds (a kernel without Landlock, as
root in a container), a cgroup is what bounds them: every page the worker's processes touch,
shared memory and tmpfs included, counts against the group's limit.

The grader makes the group beside its own (cgroup v1's memory hierarchy, or a cgroup v2 whose
memory controller is delegated to it), and the worker is started inside it: a shell writes its
own pid into the group, then becomes the worker (``exec``), so no process of the worker ever runs
outside it. Where no group can be made (not root, no delegation, not Linux) nothing changes
and ``grade --doctor`` says so.
"""
from __future__ import annotations

import itertools
import os
import signal
import time
from dataclasses import dataclass

V1_ROOT = "/sys/fs/cgroup/memory"
V2_ROOTS = ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")
PREFIX = "dlfs-worker-"
_numbers = itertools.count()
_parent: list[tuple[str, int] | None] = []  # found once per process: (folder, cgroup version)
_why_not: list[str] = []


@dataclass(frozen=True)
class MemoryGroup:
    path: str
    version: int

    @property
    def procs(self) -> str:
        return os.path.join(self.path, "cgroup.procs")

    def pids(self) -> list[int]:
        try:
            with open(self.procs, encoding="ascii") as handle:
                return [int(line) for line in handle if line.strip()]
        except (OSError, ValueError):
            return []

    def remove(self, seconds: float = 2.0) -> None:
        """Kill whatever is left in the group (a process that left the worker's session is still
        in it) and remove the group once it is empty."""
        deadline = time.monotonic() + seconds
        while True:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() >= deadline:
                    return  # the kernel removes an empty group's memory later; a stale folder is harmless
                time.sleep(0.01)


def _own_groups() -> dict[str, str]:
    """This process's cgroup paths: controller -> path ("" for cgroup v2's unified hierarchy)."""
    found: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as handle:
            for line in handle:
                number, controllers, path = line.rstrip("\n").split(":", 2)
                for controller in (controllers.split(",") if controllers else [""]):
                    found[controller if number != "0" else ""] = path
    except (OSError, ValueError):
        pass
    return found


def _find_parent() -> tuple[tuple[str, int] | None, str]:
    if not os.path.isdir("/sys/fs/cgroup"):
        return None, "no cgroup file system (not Linux, or not mounted)"
    groups = _own_groups()
    if "memory" in groups and os.path.isdir(V1_ROOT):
        own = os.path.join(V1_ROOT, groups["memory"].lstrip("/"))
        folder = own if os.path.isdir(own) else V1_ROOT
        if os.access(folder, os.W_OK):
            return (folder, 1), ""
        return None, f"the memory cgroup {folder} is not writable by the grader (not root)"
    if "" in groups:
        for root in V2_ROOTS:
            own = os.path.join(root, groups[""].lstrip("/"))
            try:
                with open(os.path.join(own, "cgroup.subtree_control"), encoding="ascii") as handle:
                    delegated = "memory" in handle.read().split()
            except OSError:
                continue
            if delegated and os.access(own, os.W_OK):
                return (own, 2), ""
        return None, "the memory controller is not delegated to the grader's cgroup"
    return None, "no memory cgroup"


def why_unavailable() -> str:
    """"" when workers get a memory group here, else why not."""
    if not _parent:
        parent, why = _find_parent()
        _parent.append(parent)
        _why_not.append(why)
        if parent is not None:
            _sweep(parent)
    return _why_not[0]


def _sweep(parent: tuple[str, int]) -> None:
    """Groups of grading processes that are gone (killed before they could remove them)."""
    try:
        names = os.listdir(parent[0])
    except OSError:
        return
    for name in names:
        if not name.startswith(PREFIX):
            continue
        owner = name[len(PREFIX):].split("-")[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            MemoryGroup(os.path.join(parent[0], name), parent[1]).remove(seconds=0.2)


def make(limit_bytes: int) -> MemoryGroup | None:
    """A new group limited to ``limit_bytes`` (swap included), or None where none can be made."""
    if why_unavailable():
        return None
    folder, version = _parent[0]
    path = os.path.join(folder, f"{PREFIX}{os.getpid()}-{next(_numbers)}")
    try:
        os.mkdir(path, 0o755)
    except OSError:
        return None
    group = MemoryGroup(path, version)
    limits = [("memory.limit_in_bytes", True), ("memory.memsw.limit_in_bytes", False)] if version == 1 else \
        [("memory.max", True), ("memory.swap.max", False)]
    for name, required in limits:
        value = str(limit_bytes) if name != "memory.swap.max" else "0"
        try:
            with open(os.path.join(path, name), "w", encoding="ascii") as handle:
                handle.write(value)
        except OSError:
            if required:
                group.remove()
                return None
    return group


def enter_then_exec(group: MemoryGroup, command: list[str]) -> list[str]:
    """``command`` started inside ``group``: a shell joins it, then becomes the command."""
    # The shell exports PWD to what it execs: unset, so the worker's environment is WORKER_ENV alone.
    return ["/bin/sh", "-c", 'echo $$ > "$0" && unset PWD && exec "$@"', group.procs, *command]
