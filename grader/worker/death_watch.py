"""A sandbox that ends with its grading process, however that process dies.

bwrap's ``--die-with-parent`` leaves one gap. Its inner process (pid 1 of the worker's namespaces)
waits for the outer bwrap's go-ahead before it sets a parent-death signal of its own, and the outer
sets its own just before it gives that go-ahead. A grading process killed while the outer is in
between (SIGKILL, the OOM killer, a class run killed as a whole) takes the outer with it, and the
inner then waits forever with parent 1: seen after a killed class run, alive an hour later.

So bwrap is started under a shell that outlives the outer: setpriv gives the shell a parent-death
SIGTERM, and the shell's trap SIGKILLs its process group. Until its go-ahead the inner is still in
that group; it leaves it (``--new-session``) only after it has set its own parent-death signal.
The outer must not die in that window on its own either, and a dying grading process would make
it: the kernel closes a dying process's files before it signals its children, so the outer's
--info-fd report met a broken pipe, the outer died of SIGPIPE, the shell's wait ended before any
SIGTERM came and the shell exited without its trap (seen after a killed class run, on a busy
machine). So the shell also holds the report pipe's read end: the report is written whoever
reads it, and the SIGTERM that follows finds the inner still in the group.
Nothing of the student's runs in the shell, and it costs a worker's start about 1.5 ms (setpriv
and dash). Where setpriv or /bin/sh is missing, bwrap is started as before.
"""
from __future__ import annotations

import functools
import os

SETPRIV_PATHS = ("/usr/bin/setpriv", "/bin/setpriv")
SHELL = "/bin/sh"


@functools.lru_cache(maxsize=None)
def _watcher() -> tuple[str, str] | None:
    """setpriv and the shell, looked for once per process (a worker starts many times)."""
    setpriv = next((path for path in SETPRIV_PATHS if os.access(path, os.X_OK)), None)
    return (setpriv, SHELL) if setpriv and os.access(SHELL, os.X_OK) else None


def held_report_fd(keep_fd: int) -> int:
    """The descriptor number the shell holds the report pipe's read end on (one digit, as sh wants;
    never the one bwrap reports on)."""
    return 9 if keep_fd != 9 else 8


def watched(command: list[str], keep_fd: int) -> list[str]:
    """``command`` (bwrap) run under the watching shell; the shell's group is the worker's session,
    so killing that group (ProcessTree.kill) still ends everything in it. The shell is given the
    report pipe's read end as ``held_report_fd(keep_fd)`` (SpawnedProcess.start's ``hold_fd``)."""
    watcher = _watcher()
    if watcher is None:
        return command
    setpriv, shell = watcher
    # A background job's standard input would be /dev/null: the worker's is passed on through a
    # spare descriptor. bwrap gets neither that nor the held read end.
    spare = 3 if keep_fd != 3 else 4
    held = held_report_fd(keep_fd)
    script = (f'trap "kill -9 0" TERM; exec {spare}<&0; "$@" 0<&{spare} {spare}<&- {held}<&- & exec {spare}<&-; '
              'wait $!; exit $?')
    return [setpriv, "--pdeathsig", "TERM", shell, "-c", script, "dlfs-sandbox", *command]
