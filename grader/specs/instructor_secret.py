"""The instructor's secret: it salts the seeds of random cases, and never leaves this process.

A student has the specs and the generators, so without a secret every random input of a
grading can be reproduced on their machine, and its expected value read off a report. With
the instructor's secret (``grade --secret-file FILE``, or the ``DLFS_GRADER_SECRET``
environment variable), the seeds are an HMAC of the secret, the exercise id and the spec's
seed: the instructor's run draws inputs no student has seen, so a table of inputs and answers
harvested from ``grade -f json`` matches nothing there. The same secret always gives the same
inputs, so reports stay deterministic.

Only the inputs drawn with the salted seeds reach the worker (whose environment is built from
nothing, see worker/spawn.py); reports name the spec's seed, never the salted one.

Where grades count there is a secret by default: ``grade class`` without one makes one in
OUTDIR (:func:`outdir_secret`, mode 0600) and uses it on every rerun into that OUTDIR.
"""
from __future__ import annotations

import argparse
import contextvars
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..i18n import _

SECRET_ENV = "DLFS_GRADER_SECRET"
OUTDIR_SECRET = ".instructor-secret"  # in a class's OUTDIR, beside .results/ (never in reports/)
MAX_SECRET_BYTES = 4096
_secret: bytes | None = None  # set from --secret-file; None: the environment variable is read
# A secret for one task of one thread only (a Dask worker grades several drivers' students at once).
_task_secret: contextvars.ContextVar[bytes | None] = contextvars.ContextVar("grader_task_secret", default=None)


def _UNUSABLE() -> str:
    return _("the instructor's secret {path} cannot be used (empty, too long or not text): delete it to make a "
             "new one (every student is then graded again)")


class SecretError(Exception):
    """The secret kept in OUTDIR cannot be read or made; the message says what to do."""


def use_secret(secret: str | None) -> None:
    """The secret for this process (what ``--secret-file`` held); None goes back to the environment."""
    global _secret
    _secret = secret.encode("utf-8") if secret is not None else None


def current_secret_setting() -> bytes | None:
    """What :func:`use_secret` set (None: none), to give back with :func:`restore_secret_setting`."""
    return _secret


def restore_secret_setting(secret: bytes | None, environment: str | None) -> None:
    """Put this process's secret and its ``DLFS_GRADER_SECRET`` back as they were."""
    global _secret
    _secret = secret
    if environment is None:
        os.environ.pop(SECRET_ENV, None)
    else:
        os.environ[SECRET_ENV] = environment


def secret_file(path: str) -> str:
    """argparse's ``type`` for ``--secret-file``: reads the file and uses its secret, so a missing
    or empty file is a usage error (exit 2), never a traceback. Returns the path, not the secret,
    so the secret is not kept in the parsed arguments."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(_("cannot read the secret file {path} ({error})").format(
            path=path, error=type(exc).__name__)) from None
    if not text:
        raise argparse.ArgumentTypeError(_("the secret file {path} is empty").format(path=path))
    use_secret(text)
    return path


def current_secret() -> bytes:
    """This task's secret (:func:`task_secret`), else what --secret-file held, else the environment
    variable (b"" for none)."""
    task = _task_secret.get()
    if task is not None:
        return task
    return _secret if _secret is not None else os.environ.get(SECRET_ENV, "").encode("utf-8")


@contextmanager
def task_secret(secret: str | None) -> Iterator[None]:
    """Inside the block, in this thread only, ``secret`` is the secret (None: no change)."""
    if secret is None:
        yield
        return
    token = _task_secret.set(secret.encode("utf-8"))
    try:
        yield
    finally:
        _task_secret.reset(token)


def new_secret() -> str:
    """A fresh secret: 256 random bits, as text that fits in a file or an environment variable."""
    import secrets

    return secrets.token_urlsafe(32)


def outdir_secret(outdir: Path) -> tuple[str, bool]:
    """The secret of a class graded into ``outdir``: the one kept there, else a new one written
    there first (mode 0600, readable by this user only). Returns (secret, whether it was made now).

    Made with a link, never a rename: of two runs starting together, both use the first one's."""
    path = outdir / OUTDIR_SECRET
    existing = _read_kept(path)
    if existing is not None:
        return existing, False
    import tempfile

    fd, temporary = tempfile.mkstemp(dir=outdir, prefix=f"{OUTDIR_SECRET}.", suffix=".part")  # mode 0600
    try:
        secret = new_secret()
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secret + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another run made it a moment ago: theirs is the class's
            kept = _read_kept(path)
            if kept is None:
                raise SecretError(_UNUSABLE().format(path=path)) from None
            return kept, False
        except OSError:  # a file system without hard links: a rename, while there is still none
            if os.path.lexists(path):
                raise
            os.replace(temporary, path)
            temporary = ""
    except OSError as exc:
        raise SecretError(_("cannot write the instructor's secret {path} ({reason})").format(
            path=path, reason=exc.strerror or type(exc).__name__)) from None
    finally:
        if temporary:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return secret, True


def _read_kept(path: Path) -> str | None:
    """The secret in ``path``; None when there is no such file; :class:`SecretError` when it is unusable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretError(_("cannot read the instructor's secret {path} ({reason})").format(
            path=path, reason=exc.strerror or type(exc).__name__)) from None
    with os.fdopen(fd, "rb") as source:
        import stat

        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            raise SecretError(_("cannot read the instructor's secret {path} ({reason})").format(
                path=path, reason="not a regular file"))
        data = source.read(MAX_SECRET_BYTES + 1)
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        text = ""
    if not text or len(data) > MAX_SECRET_BYTES:
        raise SecretError(_UNUSABLE().format(path=path))
    return text


def secret_fingerprint() -> str:
    """Which secret is in use, without revealing it (a class rerun regrades when it changes)."""
    secret = current_secret()
    if not secret:
        return ""
    import hashlib, hmac  # only with a secret: loading OpenSSL costs a few ms of every `grade`

    return hmac.new(secret, b"dlfs-grader fingerprint", hashlib.sha256).hexdigest()[:16]


def salted_seed(seed: int, exercise_id: str) -> int:
    """The seed a random case's inputs are drawn with: the spec's ``seed`` itself without a
    secret, else 63 bits of HMAC-SHA256(secret, "exercise_id:seed")."""
    secret = current_secret()
    if not secret:
        return seed
    import hashlib, hmac

    digest = hmac.new(secret, f"{exercise_id}:{seed}".encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1
