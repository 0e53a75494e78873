"""Feedback in English, Korean, Japanese and Chinese, from gettext catalogs with English as the key."""
from __future__ import annotations

import re

import pytest

from conftest import SUBMISSIONS, run_grade
from grader.i18n import LOCALE_DIR, from_environment
from grader.i18n.extract import messages
from grader.i18n.po import read_po, write_po

LANGS = ("ko", "ja", "zh")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
FORWARD = ("Your result matches the forward difference (f(x+h) - f(x)) / h, whose error shrinks only like h. "
           "The book uses the central difference around x, which is far more accurate (book 4.3.1).")


def catalog(lang: str) -> dict[str, str]:
    return read_po((LOCALE_DIR / f"{lang}.po").read_text(encoding="utf-8"))


def squeeze(text: str) -> str:
    """Text as a terminal shows it, without the line breaks and box edges rich adds."""
    return re.sub(r"[\s│╭╮╰╯─]+", "", text)


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalog_translates_every_message_with_the_same_placeholders(lang):
    translated = catalog(lang)
    wanted = messages()
    assert sorted(set(wanted) - set(translated)) == []
    for message in wanted:
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(translated[message])), message


def test_the_template_catalog_lists_exactly_the_messages_in_use():
    """`python -m grader.i18n.extract` was run after the last change to a message."""
    pot = read_po((LOCALE_DIR / "messages.pot").read_text(encoding="utf-8"), keep_empty=True)
    assert set(pot) == set(messages())


@pytest.mark.parametrize("lang", LANGS)
def test_lang_option_gives_feedback_in_that_language_in_the_terminal(lang):
    result = run_grade(str(SUBMISSIONS / "mistake_forward_difference.py"), "--only", "numerical_diff", "--lang", lang)
    assert result.returncode == 1
    translated = catalog(lang)
    assert squeeze(translated[FORWARD]) in squeeze(result.stdout)
    assert squeeze(translated["failed"]) in squeeze(result.stdout)
    assert FORWARD[:40] not in result.stdout


@pytest.mark.parametrize("lang", LANGS)
def test_lang_option_gives_feedback_in_that_language_in_html(lang):
    result = run_grade(str(SUBMISSIONS / "mistake_forward_difference.py"), "--only", "numerical_diff", "--lang", lang,
                       "--format", "html")
    translated = catalog(lang)
    assert f'<html lang="{lang}">' in result.stdout
    assert translated["Grading report"] in result.stdout
    assert translated["likely mistake"] in result.stdout
    import html
    assert translated[FORWARD] in html.unescape(result.stdout)


@pytest.mark.parametrize("fmt", ["terminal", "html"])
def test_the_locale_decides_when_no_language_is_given(fmt):
    import html
    import os
    import subprocess
    import sys

    from conftest import ROOT
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", LANG="ko_KR.UTF-8")
    for key in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        env.pop(key, None)
    result = subprocess.run([sys.executable, "-m", "grader.cli", str(SUBMISSIONS / "mistake_forward_difference.py"),
                             "--only", "numerical_diff", "--format", fmt], env=env, capture_output=True, text=True,
                            timeout=120)
    translated = catalog("ko")[FORWARD]
    if fmt == "html":
        assert '<html lang="ko">' in result.stdout and translated in html.unescape(result.stdout)
    else:
        assert squeeze(translated) in squeeze(result.stdout)


def test_errors_about_the_submission_are_in_the_students_language():
    result = run_grade("no_such_file.py", "--lang", "ja")
    assert result.returncode == 2
    expected = catalog("ja")["{path}: no such file or folder"].format(path="no_such_file.py")
    assert expected in result.stderr


@pytest.mark.parametrize("environ, lang", [
    ({"LANG": "ko_KR.UTF-8"}, "ko"),
    ({"LANG": "ja_JP.UTF-8"}, "ja"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LC_ALL": "ja_JP.UTF-8", "LANG": "ko_KR.UTF-8"}, "ja"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
])
def test_the_language_follows_the_posix_locale_variables(environ, lang):
    assert from_environment(environ) == lang


def test_po_files_round_trip_quotes_newlines_and_placeholders():
    entries = [('say "{x}"', '"{x}"라고 말하기', ["a.py:1"]), ("two\nlines {n}", "두\n줄 {n}", []), ("empty", "", [])]
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    assert read_po(write_po(entries, header)) == {'say "{x}"': '"{x}"라고 말하기', "two\nlines {n}": "두\n줄 {n}"}
