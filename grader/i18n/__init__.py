"""Messages in the student's language: gettext catalogs (``locale/<lang>.po``), English as the key.

Every string a student reads is written in English in the code or the exercise specs,
wrapped in ``_()`` (the gettext convention), and that English text is the only source
of truth: the ``.po`` catalogs map it to Korean, Japanese and Chinese. A message with
no translation falls back to English. ``python -m grader.i18n.extract`` regenerates
``locale/messages.pot`` from the code and the specs; the tests check that every
catalog covers it with the same ``{placeholders}``.
"""
from __future__ import annotations

import contextvars
import gettext
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from .po import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "ko", "ja", "zh")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("grader_language", default="en")


class CatalogTranslations(gettext.NullTranslations):
    """A gettext translation object backed by a parsed ``.po`` file (no compiled ``.mo`` needed)."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / f"{lang}.po"
    if lang == "en" or not path.exists():
        return gettext.NullTranslations()
    return CatalogTranslations(read_po(path.read_text(encoding="utf-8")))


def _(message: str) -> str:
    """Translate ``message`` into the current language (set with :func:`use`)."""
    return translations(_current.get()).gettext(message) if message else message


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


def current() -> str:
    return _current.get()


@contextmanager
def use(lang: str) -> Iterator[None]:
    token = _current.set(lang if lang in LANGUAGES else "en")
    try:
        yield
    finally:
        _current.reset(token)


def from_environment(environ: dict[str, str] | None = None) -> str:
    """The language of the locale (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), English if none fits."""
    environ = os.environ if environ is None else environ
    for key in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = environ.get(key, "")
        for part in value.split(":"):
            code = part.split(".")[0].split("_")[0].split("-")[0].lower()
            if code in LANGUAGES:
                return code
        if value and key != "LANGUAGE":
            break  # the first variable that is set decides, as in POSIX
    return "en"
