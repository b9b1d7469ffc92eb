"""The French catalogue (locale/fr/LC_MESSAGES): complete, and the committed .mo is the .po compiled.

Read with polib and Python's own gettext, so the check needs no GNU gettext on the machine, like a clean
clone running the app. `make messages` (docs/development.md) brings new strings in and compiles.
"""

import gettext
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"
# %(name)s of gettext, {name} of format_lazy: a lost or renamed one is a KeyError when the page renders.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(CATALOGUE / "django.po"))


def _key(entry: polib.POEntry) -> str:
    # gettext's catalogue keys a string with a context as "context\x04msgid".
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def _translations(entry: polib.POEntry) -> list[str]:
    return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)] if entry.msgid_plural else [entry.msgstr]


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    untranslated = [entry.msgid for entry in po if not all(_translations(entry))]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]

    assert untranslated == []
    assert fuzzy == []
    assert len(po.translated_entries()) > 200


def _placeholders(text: str) -> set[tuple[str, str]]:
    return set(PLACEHOLDER.findall(text))


def test_each_translation_keeps_the_placeholders_of_its_english(po):
    wrong = [
        (entry.msgid, text)
        for entry in po
        for text in _translations(entry)
        if _placeholders(text) not in (_placeholders(entry.msgid), _placeholders(entry.msgid_plural))
    ]

    assert wrong == []


def test_the_committed_mo_is_the_po_compiled(po):
    with open(CATALOGUE / "django.mo", "rb") as file:
        compiled = gettext.GNUTranslations(file)._catalog
    expected = {}
    for entry in po.translated_entries():
        if entry.msgid_plural:
            for index, text in enumerate(_translations(entry)):
                expected[(_key(entry), index)] = text
        else:
            expected[_key(entry)] = entry.msgstr
    compiled = {key: value for key, value in compiled.items() if key != ""}  # "" is the header

    assert compiled == expected
