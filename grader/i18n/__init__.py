"""Messages in the student's language: gettext catalogs (``locale/<lang>.po``), English as the key.

Every string a student reads is written in English in the code or the exercise specs,
wrapped in ``_()`` (the gettext convention), and that English text is the only source
of truth: the ``.po`` catalogs map it to Korean, Japanese and Chinese. A message with
no translation falls back to English. Catalogs are read with polib and used through the
standard library's gettext, plural forms included (``ngettext``); plugins add their own
catalogs through the ``grader_catalogs`` hook. ``python -m grader.i18n.extract`` regenerates
``locale/messages.pot`` from the code and the specs; the tests check that every
catalog covers it with the same ``{placeholders}``.

Each ``.po`` has its compiled ``.mo`` beside it, written by the same command and stamped with
the CRC-32 of the ``.po`` it was compiled from: a grading in Korean reads the ``.mo`` (0.6 ms)
instead of parsing the ``.po`` with polib (11 ms), and a ``.mo`` whose stamp does not match its
``.po`` (a catalog edited by hand since) is ignored, so what is read is always the ``.po``'s text.
"""
from __future__ import annotations

import contextvars
import io
import os
import zlib
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Iterator

if TYPE_CHECKING:
    import gettext
    from pathlib import Path

# Paths are strings here: the render process (grader/reporters/render_process.py) loads this
# module without pathlib. LOCALE_DIR, the Path, is made on first use (module __getattr__).
_LOCALE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
LANGUAGES = ("en", "ko", "ja", "zh")
SOURCE_STAMP = "X-Source-CRC32"  # the .mo header naming the .po it was compiled from
_current: contextvars.ContextVar[str] = contextvars.ContextVar("grader_language", default="en")
_plugin_dirs: list[str] = []  # folders of plugins' catalogs (the grader_catalogs hook), in registration order


def __getattr__(name: str):
    if name == "LOCALE_DIR":
        from pathlib import Path
        return Path(_LOCALE)
    raise AttributeError(name)


def source_stamp(po_bytes: bytes) -> str:
    return f"{zlib.crc32(po_bytes):08x}"


class _English:
    """What gettext.NullTranslations does, without importing gettext (and locale) for it: English is
    the key, so a message is its own translation."""

    @staticmethod
    def gettext(message: str) -> str:
        return message

    @staticmethod
    def ngettext(singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def _catalog(path: str) -> "gettext.GNUTranslations | None":
    """A ``.po`` file as a standard gettext translation (plural forms included): its compiled ``.mo``
    when that was compiled from this very ``.po``, else the ``.po`` itself, read with polib."""
    import gettext

    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    try:
        with open(path[:-3] + ".mo", "rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        if compiled.info().get(SOURCE_STAMP.lower()) == source_stamp(source):
            return compiled
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    import polib  # only a language other than English, without a fresh .mo, needs it

    return gettext.GNUTranslations(io.BytesIO(polib.pofile(source.decode("utf-8")).to_binary()))


@lru_cache(maxsize=None)
def _translations(lang: str, plugin_dirs: tuple[str, ...]) -> "gettext.NullTranslations | _English":
    if lang == "en":
        return _English()
    # The grader's own catalog first: a plugin adds translations, it never changes the grader's.
    chain = [c for c in [_catalog(os.path.join(_LOCALE, f"{lang}.po"))] +
             [_catalog(os.path.join(d, f"{lang}.po")) for d in plugin_dirs] if c is not None]
    if not chain:
        return _English()
    for fallback in chain[1:]:
        chain[0].add_fallback(fallback)
    return chain[0]


def translations(lang: str) -> "gettext.NullTranslations | _English":
    return _translations(lang, tuple(_plugin_dirs))


def in_english(text: str, lang: str) -> str | None:
    """The English message that ``text`` translates into ``lang``, or None: a text filled in with
    values (a name, a number) is nobody's translation, and an English one is itself."""
    if lang == "en":
        return text
    return _originals(lang, tuple(_plugin_dirs)).get(text)


@lru_cache(maxsize=None)
def _originals(lang: str, plugin_dirs: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    catalog = _translations(lang, plugin_dirs)
    while catalog is not None:  # the grader's catalog, then the plugins' (its fallbacks)
        for original, translated in getattr(catalog, "_catalog", {}).items():
            if isinstance(original, str) and original and isinstance(translated, str):
                found.setdefault(translated, original)
        catalog = getattr(catalog, "_fallback", None)
    return found


def add_catalog_dirs(folders: Iterable[str | os.PathLike]) -> None:
    """Plugins' catalog folders (each holding ``ko.po``, ``ja.po``, ``zh.po``), from the ``grader_catalogs`` hook."""
    for folder in folders:
        folder = os.path.realpath(os.fspath(folder))
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
