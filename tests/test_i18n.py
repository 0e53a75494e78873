"""Feedback in English, Korean, Japanese and Chinese, from gettext catalogs with English as the key."""
from __future__ import annotations

import re

import pytest

from conftest import SUBMISSIONS, run_grade
from grader.i18n import LOCALE_DIR, from_environment
from grader.i18n.extract import catalog as read_catalog
from grader.i18n.extract import messages

LANGS = ("ko", "ja", "zh")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
FORWARD = ("Your result matches the forward difference (f(x+h) - f(x)) / h, whose error shrinks only like h. "
           "The book uses the central difference around x, which is far more accurate (book 4.3.1).")


def catalog(lang: str) -> dict[str, str]:
    """msgid -> its (first) translated form."""
    return {msgid: forms[0] for (msgid, _plural), forms in read_catalog(LOCALE_DIR / f"{lang}.po").items() if forms}


def squeeze(text: str) -> str:
    """Text as a terminal shows it, without the line breaks and box edges rich adds."""
    return re.sub(r"[\s│╭╮╰╯─]+", "", text)


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalog_translates_every_message_with_the_same_placeholders(lang):
    translated = {key: forms for key, forms in read_catalog(LOCALE_DIR / f"{lang}.po").items() if forms}
    wanted = messages()
    assert sorted(set(wanted) - set(translated)) == []
    for (msgid, plural), forms in ((key, translated[key]) for key in wanted):
        for form in forms:  # Korean, Japanese and Chinese have one form, used for every number
            assert sorted(PLACEHOLDER.findall(plural or msgid)) == sorted(PLACEHOLDER.findall(form)), msgid


@pytest.mark.parametrize("lang", LANGS)
def test_each_compiled_catalog_is_the_po_it_is_stamped_with(lang, tmp_path):
    """`python -m grader.i18n.extract --compile` was run after the last edit of a .po."""
    from grader.i18n.extract import compile_catalog

    (tmp_path / f"{lang}.po").write_bytes((LOCALE_DIR / f"{lang}.po").read_bytes())
    assert compile_catalog(tmp_path / f"{lang}.po").read_bytes() == (LOCALE_DIR / f"{lang}.mo").read_bytes()


def test_the_compiled_catalog_translates_as_the_po_does_and_a_stale_one_is_not_read(tmp_path):
    import gettext
    import io

    import polib

    from grader.i18n import _catalog

    source = polib.pofile(str(LOCALE_DIR / "ko.po"))
    from_po = gettext.GNUTranslations(io.BytesIO(source.to_binary()))
    read = _catalog(str(LOCALE_DIR / "ko.po"))
    for entry in source:
        assert read.gettext(entry.msgid) == from_po.gettext(entry.msgid)
    # A .po edited after its .mo was compiled: the .po is what counts.
    (tmp_path / "ko.po").write_bytes((LOCALE_DIR / "ko.po").read_bytes())
    (tmp_path / "ko.mo").write_bytes((LOCALE_DIR / "ko.mo").read_bytes())
    edited = polib.pofile(str(tmp_path / "ko.po"))
    edited.find("grade: interrupted").msgstr = "채점이 중단되었습니다 (고침)"
    edited.save(str(tmp_path / "ko.po"))
    assert _catalog(str(tmp_path / "ko.po")).gettext("grade: interrupted") == "채점이 중단되었습니다 (고침)"


def test_the_template_catalog_lists_exactly_the_messages_in_use():
    """`python -m grader.i18n.extract` was run after the last change to a message."""
    assert set(read_catalog(LOCALE_DIR / "messages.pot")) == set(messages())


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


def test_plural_forms_follow_the_number_in_english_and_use_the_one_form_in_korean():
    from grader.i18n import ngettext, use
    from grader.reporters import labels

    with use("en"):
        assert ngettext(*labels.MORE_FAILURES, 1).format(count=1, path="x.py").startswith("... and 1 more failing check:")
        assert ngettext(*labels.MORE_FAILURES, 3).format(count=3, path="x.py").startswith("... and 3 more failing checks:")
    with use("ko"):
        one, many = (ngettext(*labels.MORE_FAILURES, n).format(count=n, path="x.py") for n in (1, 3))
        assert "1개" in one and "3개" in many and "failing" not in one + many


def test_the_terminal_says_1_more_failing_check_in_the_singular(tmp_path):
    """Five failing checks: four are shown, then exactly one more is announced."""
    from grader.report import CheckResult, ExerciseResult, Report
    from grader.reporters.terminal import render

    checks = tuple(CheckResult(f"case {i}", False, "wrong") for i in range(5))
    text = render(Report("s.py", (ExerciseResult("x", "X", "1", "failed", 0.0, 1.0, "x", checks),)))
    assert "and 1 more failing check:" in text and "checks:" not in text.split("and 1 more")[1].split("\n")[0]
    assert "`grade s.py --format html -o report.html`" in text  # a command that runs as it is


def test_a_plugin_ships_its_own_catalog_through_a_hook():
    """The chapter-3 example's titles and diagnoses come in Korean, from its own locale/ folder."""
    import sys
    from grader.i18n import _, use
    from grader.plugins import make_manager

    example = LOCALE_DIR.parents[2] / "examples" / "dlfs-grader-chapter3"
    sys.path.insert(0, str(example))
    try:
        make_manager(extra=["dlfs_grader_chapter3.plugin"], entry_points=False)
    finally:
        sys.path.remove(str(example))
    plugin_catalog = read_catalog(example / "dlfs_grader_chapter3" / "locale" / "ko.po")
    assert plugin_catalog and all(plugin_catalog.values())  # complete
    with use("ko"):
        assert _("Sigmoid function") == "시그모이드 함수"
        assert _("Grading report") == catalog("ko")["Grading report"]  # the grader's own still there
    with use("en"):
        assert _("Sigmoid function") == "Sigmoid function"


def test_extract_keeps_translations_from_another_catalog_such_as_the_other_side_of_a_merge(tmp_path):
    from grader.i18n.extract import update
    other = tmp_path / "theirs.po"
    other.write_text('msgid ""\nmsgstr ""\n"Language: ko\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                     '#: grader/x.py:12\nmsgid "new message {n}"\nmsgstr "새 메시지 {n}"\n', encoding="utf-8")
    locale = tmp_path / "locale"
    update({("new message {n}", ""): ["grader/x.py"], ("untranslated", ""): ["grader/y.py"]}, locale, "t", [other])
    assert read_catalog(locale / "ko.po") == {("new message {n}", ""): ["새 메시지 {n}"], ("untranslated", ""): []}
    assert read_catalog(locale / "ja.po")[("new message {n}", "")] == []  # another language's catalog is not used


def test_a_fixed_message_in_any_language_is_traced_back_to_its_english():
    from grader.diagnoses import chapter4, code_mistakes
    from grader.i18n import _, in_english, use
    rules = list(chapter4.RULES) + list(code_mistakes.RULES)
    for lang in ("ko", "ja", "zh"):
        for rule in rules:
            with use(lang):
                said = _(rule.message)
            assert said != rule.message and in_english(said, lang) == rule.message, (lang, rule.id)
    assert in_english("anything at all", "en") == "anything at all"
    with use("ko"):
        filled = _(code_mistakes.RULES[0].message).format(name="sigmoid", advice="import it")
    assert in_english(filled, "ko") is None  # filled in with a name: nobody's translation
