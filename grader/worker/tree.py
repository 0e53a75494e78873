"""One worker process seen from the trusted side: reading its pipe, and killing its whole tree.

In the bubblewrap sandbox the tree is bwrap, the PID namespace's init (bwrap's reaper)
and the runner: killing the init ends every process of the namespace, and the kernel
reaps them before the init itself is gone, so waiting for the init's /proc entry to
vanish is waiting for the whole tree. A plain process is killed with its process group.
"""
from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import threading
import time

# Windows cannot select() on pipes: a thread reads the worker's stdout there instead.
USE_READER_THREAD = os.name == "nt"
KILL_WAIT_SECONDS = 5.0


class ProcessTree:
    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen
        self.stdin = popen.stdin
        self.fd_out = popen.stdout.fileno()
        self.buffer = bytearray()
        self.sandboxed = bool(getattr(popen, "sandboxed", False))
        self.info_fd: int | None = getattr(popen, "info_fd", None)
        self.child_pid: int | None = None
        self.ready = False  # the worker has said it is ready (before any student code ran)
        _widen(self.fd_out)
        self.fd_in_size = _widen(popen.stdin.fileno()) if popen.stdin is not None else 0
        self.chunks: queue.Queue | None = None
        if USE_READER_THREAD:
            self.chunks = queue.Queue()
            threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd_out, 1 << 20)
            except OSError:
                chunk = b""
            self.chunks.put(chunk)
            if not chunk:
                return

    def readable(self) -> bool:
        """Has the worker written something not yet read (without waiting)?"""
        if self.chunks is not None:
            return not self.chunks.empty()
        return bool(select.select([self.fd_out], [], [], 0)[0])

    def read(self, timeout: float) -> bytes | None:
        """Some bytes, b"" at end of stream, None if nothing came within ``timeout``."""
        if self.chunks is not None:
            try:
                return self.chunks.get(timeout=max(0.0, timeout))
            except queue.Empty:
                return None
        ready, _, _ = select.select([self.fd_out], [], [], max(0.0, timeout))
        if not ready:
            return None
        try:
            return os.read(self.fd_out, 1 << 20)
        except OSError:
            return b""

    def room(self) -> int:
        """Bytes that can be written to the worker before it reads any (an empty pipe's size; 0 if unknown)."""
        return self.fd_in_size - 4096  # a margin: the size the kernel reports is rounded to pages

    def exit_code(self, seconds: float) -> int | None:
        """The process's exit code, waiting up to ``seconds`` for it to be reaped (None if it is not)."""
        try:
            return self.popen.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def poll(self) -> int | None:
        return self.popen.poll()

    def startup_error(self) -> str:
        """Why the process ended before it was ready: the first line it (or bwrap) wrote to stderr."""
        try:
            self.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return ""
        try:
            text = self.popen.stderr.read(4000).decode("utf-8", "replace") if self.popen.stderr else ""
        except (OSError, ValueError):
            text = ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[0][:300]
        return f"the sandboxed worker exited with code {self.popen.returncode} before it was ready"

    def _read_child_pid(self) -> None:
        """bwrap's --info-fd names the namespace's init by its pid outside the namespace."""
        if self.info_fd is None or self.child_pid is not None:
            return
        try:
            ready, _, _ = select.select([self.info_fd], [], [], 0)
            if ready:
                data = os.read(self.info_fd, 4096)
                pid = json.loads(data.decode("utf-8")).get("child-pid") if data else None
                if type(pid) is int and pid > 1:
                    self.child_pid = pid
        except (OSError, ValueError, AttributeError):
            pass

    def kill(self) -> None:
        """SIGKILL the whole tree and return once it is gone (bounded wait)."""
        self._read_child_pid()
        if self.child_pid is not None:
            try:
                os.kill(self.child_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            if hasattr(os, "killpg"):
                os.killpg(self.popen.pid, signal.SIGKILL)
            else:
                self.popen.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
        try:
            self.popen.wait(timeout=KILL_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        if self.child_pid is not None:
            deadline = time.monotonic() + KILL_WAIT_SECONDS
            while _alive(self.child_pid) and time.monotonic() < deadline:
                time.sleep(0.002)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if self.info_fd is not None:
            try:
                os.close(self.info_fd)
            except OSError:
                pass
            self.info_fd = None
        group = getattr(self.popen, "memory_group", None)
        if group is not None:  # whatever left the worker's session is still in its cgroup
            self.popen.memory_group = None
            group.remove()


PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process (/proc/sys/fs/pipe-max-size)


def _widen(fd: int) -> int:
    """A 1 MiB pipe instead of 64 KiB, and its size (0 when unknown). From the worker, an array of
    the book's TwoLayerNet (W1 is 784 x 100, 836 kB on the wire) then crosses in one write and one
    read, not thirteen of each with a switch between the processes every time; to the worker, the
    load request fits before the worker reads it (see WorkerClient.start_load). Where the system
    says no, the pipe stays as it is."""
    try:
        import fcntl
        return fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    """Still running? A zombie init has already outlived every process of its namespace."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")
