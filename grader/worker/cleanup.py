"""Removing a worker's folder, whatever its code left in it, without ever raising.

A student's code can leave a tree deeper than ``shutil.rmtree`` can recurse (1,100
levels broke it with a RecursionError) and longer than any path the kernel accepts, so
this walks it with one directory descriptor at a time and names relative to it.
Cleanup never changes the exit code: every failure here is swallowed.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


def remove_tree(path: Path | str) -> None:
    """Remove ``path`` and everything under it; symlinks are removed, never followed."""
    try:
        if os.open in os.supports_dir_fd and os.unlink in os.supports_dir_fd:
            _remove_by_descriptor(str(path))
        else:  # Windows: no descriptor-relative calls; its paths are shallow enough for the plain walk
            _remove_by_path(str(path))
    except Exception:
        pass


def _remove_by_descriptor(path: str) -> None:
    try:
        info = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(path)
        return
    current = os.open(path, _DIR_FLAGS)
    names: list[str] = []  # the way down from ``path`` to ``current``
    try:
        while True:
            child = _next_subfolder(current)
            if child is not None:
                try:
                    descend = _open_dir(child, current)
                except OSError:
                    descend = None
                if descend is not None:
                    os.close(current)
                    current = descend
                    names.append(child)
                    continue
                os.rmdir(child, dir_fd=current)  # unreadable yet empty, or gone: try once, then give up
                continue
            if not names:
                break
            parent = os.open("..", _DIR_FLAGS, dir_fd=current)
            os.close(current)
            current = parent
            os.rmdir(names.pop(), dir_fd=current)
    finally:
        os.close(current)
    os.rmdir(path)


def _next_subfolder(fd: int) -> str | None:
    """Unlink every non-folder in the folder ``fd``; return one subfolder's name, if any is left."""
    for entry in os.scandir(fd):
        try:
            if entry.is_dir(follow_symlinks=False):
                return entry.name
            os.unlink(entry.name, dir_fd=fd)
        except FileNotFoundError:
            continue
    return None


def _open_dir(name: str, parent: int) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except PermissionError:
        os.chmod(name, 0o700, dir_fd=parent)  # a folder its code made unreadable (mode 000)
        return os.open(name, _DIR_FLAGS, dir_fd=parent)


def _remove_by_path(path: str) -> None:
    stack = [Path(path)]
    order = []
    while stack:
        current = stack.pop()
        order.append(current)
        try:
            for entry in os.scandir(current):
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        pass
        except OSError:
            continue
    for folder in reversed(order):
        try:
            os.rmdir(folder)
        except OSError:
            pass


def remove_stale_folders(prefix: str, parent: str | None = None) -> None:
    """Temporary folders named ``<prefix><pid>-...`` in ``parent`` (default: TMPDIR) whose process is
    gone (killed with SIGKILL, which no clean-up survives): removed by the next run. Another user's
    are left alone."""
    import tempfile

    for folder in Path(parent or tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            pid = int(folder.name[len(prefix):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not alive(pid):
            remove_tree(folder)


def alive(pid: int) -> bool:
    """Still running: a killed process its parent has not reaped yet (a zombie) is not."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        pass  # no /proc (macOS): ask the kernel whether the pid exists
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
