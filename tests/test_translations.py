"""The committed .pot matches the code, and nl.po translates all of it."""

import io
import re
from pathlib import Path

import polib
import pytest

from odoo.tools.translate import trans_export

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ADDON_NAMES = ("wholesale_customer_journey", "wholesale_customer_journey_loyalty")


@pytest.mark.parametrize("addon", ADDON_NAMES)
def test_pot_is_up_to_date(env, addon):
    buffer = io.BytesIO()
    trans_export(False, [addon], buffer, "po", env.cr)
    exported = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode())}
    committed = {entry.msgid for entry in polib.pofile(str(PROJECT_ROOT / addon / "i18n" / f"{addon}.pot"))}

    assert exported - committed == set(), "new strings: export the .pot again"
    assert committed - exported == set(), "strings gone from the code: export the .pot again"


@pytest.mark.parametrize("addon", ADDON_NAMES)
def test_dutch_translation_is_complete(addon):
    i18n = PROJECT_ROOT / addon / "i18n"
    template = polib.pofile(str(i18n / f"{addon}.pot"))
    dutch = polib.pofile(str(i18n / "nl.po"))
    translated = {entry.msgid for entry in dutch.translated_entries()}

    missing = [entry.msgid for entry in template if entry.msgid not in translated]
    assert missing == [], f"untranslated in nl.po: {missing[:10]}"
    assert dutch.fuzzy_entries() == []
    for entry in dutch.translated_entries():
        placeholders = sorted(re.findall(r"%\(\w+\)s|%s", entry.msgid))
        assert sorted(re.findall(r"%\(\w+\)s|%s", entry.msgstr)) == placeholders, entry.msgid
