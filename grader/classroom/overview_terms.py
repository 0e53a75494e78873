"""Each mistake of the class overview in general terms, in the overview's language.

A student's report says a mistake in their words: their function's name, their value, their
language. A page about many students must not show one student's version as everyone's (five
students listed under "numerical_gradient calls your numerical_gradient (In [17])", a Korean
sentence on an English page). The overview therefore says each mistake as its rule does:

* the rule's ``summary`` when it has one (a message with placeholders needs one);
* else the rule's message, which then has no placeholders to fill;
* for the grader's own notes that are no rule (``depends-on-failing``), the summary below;
* for a mistake no installed rule knows, the first student's wording translated back to the
  overview's language where the catalogs can, and as written otherwise.
"""
from __future__ import annotations

from functools import lru_cache

from ..i18n import N_, in_english, translations

# Notes the grader adds itself (grader/session.py), not through a DiagnosisRule.
GRADER_NOTES = {
    "depends-on-failing": N_("The exercise calls the student's own version of another exercise, which fails its "
                             "own checks: fixing that one first may fix this one."),
}


@lru_cache(maxsize=4)
def _rule_texts() -> dict[str, str]:
    """Diagnosis id -> its general English text, from every rule the built-in plugins register."""
    from ..plugins import make_manager

    texts = dict(GRADER_NOTES)
    for rules in make_manager().hook.grader_diagnoses():
        for rule in rules or ():
            general = getattr(rule, "summary", "") or ("" if "{" in rule.message else rule.message)
            if general:
                texts.setdefault(rule.id, general)
    return texts


def general_message(diagnosis_id: str, student_message: str, student_lang: str, lang: str = "en") -> str:
    """The mistake ``diagnosis_id`` in general terms, in ``lang`` (see the module's text)."""
    try:
        general = _rule_texts().get(diagnosis_id)
    except Exception:  # a plugin that cannot be loaded here: the students' wording, as before
        general = None
    if general:
        return general if lang == "en" else translations(lang).gettext(general)
    english = in_english(student_message, student_lang)
    if english is None:
        return student_message
    return english if lang == "en" else translations(lang).gettext(english)
