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
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from .i18n import _

SECRET_ENV = "DLFS_GRADER_SECRET"
_secret: bytes | None = None  # set from --secret-file; None: the environment variable is read


def use_secret(secret: str | None) -> None:
    """The secret for this process (what ``--secret-file`` held); None goes back to the environment."""
    global _secret
    _secret = secret.encode("utf-8") if secret is not None else None


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
    """This process's secret: what --secret-file held, else the environment variable ("" for none)."""
    return _secret if _secret is not None else os.environ.get(SECRET_ENV, "").encode("utf-8")


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
