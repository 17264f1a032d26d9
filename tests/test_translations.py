"""The committed .pot matches the code, and nl.po translates all of it."""

import io
import re
from pathlib import Path

import polib

from odoo.tools.translate import trans_export

ADDON_NAME = "wholesale_customer_journey"
I18N = Path(__file__).resolve().parent.parent / ADDON_NAME / "i18n"


def test_pot_is_up_to_date(env):
    buffer = io.BytesIO()
    trans_export(False, [ADDON_NAME], buffer, "po", env.cr)
    exported = {entry.msgid for entry in polib.pofile(buffer.getvalue().decode())}
    committed = {entry.msgid for entry in polib.pofile(str(I18N / f"{ADDON_NAME}.pot"))}

    assert exported - committed == set(), "new strings: export the .pot again"
    assert committed - exported == set(), "strings gone from the code: export the .pot again"


def test_dutch_translation_is_complete():
    template = polib.pofile(str(I18N / f"{ADDON_NAME}.pot"))
    dutch = polib.pofile(str(I18N / "nl.po"))
    translated = {entry.msgid for entry in dutch.translated_entries()}

    missing = [entry.msgid for entry in template if entry.msgid not in translated]
    assert missing == [], f"untranslated in nl.po: {missing[:10]}"
    assert dutch.fuzzy_entries() == []
    for entry in dutch.translated_entries():
        placeholders = sorted(re.findall(r"%\(\w+\)s|%s", entry.msgid))
        assert sorted(re.findall(r"%\(\w+\)s|%s", entry.msgstr)) == placeholders, entry.msgid
