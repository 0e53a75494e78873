"""Messages in the student's language: gettext catalogs (``locale/<lang>.po``), English as the key.

Every string a student reads is written in English in the code or the exercise specs,
wrapped in ``_()`` (the gettext convention), and that English text is the only source
of truth: the ``.po`` catalogs map it to Korean, Japanese and Chinese. A message with
no translation falls back to English. Catalogs are read with polib and used through the
standard library's gettext, plural forms included (``ngettext``); plugins add their own
catalogs through the ``grader_catalogs`` hook. ``python -m grader.i18n.extract`` regenerates
``locale/messages.pot`` from the code and the specs; the tests check that every
catalog covers it with the same ``{placeholders}``.
"""
from __future__ import annotations

import contextvars
import gettext
import io
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "ko", "ja", "zh")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("grader_language", default="en")
_plugin_dirs: list[Path] = []  # folders of plugins' catalogs (the grader_catalogs hook), in registration order


def _catalog(path: Path) -> gettext.GNUTranslations | None:
    """A ``.po`` file as a standard gettext translation (plural forms included), read with polib."""
    import polib  # only a language other than English needs it

    if not path.is_file():
        return None
    return gettext.GNUTranslations(io.BytesIO(polib.pofile(str(path)).to_binary()))


@lru_cache(maxsize=None)
def _translations(lang: str, plugin_dirs: tuple[Path, ...]) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    # The grader's own catalog first: a plugin adds translations, it never changes the grader's.
    chain = [c for c in [_catalog(LOCALE_DIR / f"{lang}.po")] + [_catalog(d / f"{lang}.po") for d in plugin_dirs]
             if c is not None]
    if not chain:
        return gettext.NullTranslations()
    for fallback in chain[1:]:
        chain[0].add_fallback(fallback)
    return chain[0]


def translations(lang: str) -> gettext.NullTranslations:
    return _translations(lang, tuple(_plugin_dirs))


def add_catalog_dirs(folders: Iterable[Path]) -> None:
    """Plugins' catalog folders (each holding ``ko.po``, ``ja.po``, ``zh.po``), from the ``grader_catalogs`` hook."""
    for folder in folders:
        folder = Path(folder).resolve()
        if folder not in _plugin_dirs:
            _plugin_dirs.append(folder)


def _(message: str) -> str:
    """Translate ``message`` into the current language (set with :func:`use`)."""
    return translations(_current.get()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n`` things ("1 more failing check", "3 more failing checks")."""
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural form; show it with ``ngettext(*MESSAGE, n)``."""
    return singular, plural


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
