"""Small pieces of the window: labels in both languages, dates and rupiah, the heirs editor."""

import re
from datetime import date

import pytest
from PySide6.QtCore import Qt

from ui import labels
from ui.form_fields import RupiahEdit, format_rupiah, parse_date, parse_rupiah
from ui.heirs_editor import HeirsEditor


def test_every_label_has_both_languages_with_the_same_placeholders():
    for key, (indonesian, english) in labels.TEXT.items():
        assert indonesian.strip() and english.strip(), key
        assert set(re.findall(r"{(\w+)}", indonesian)) == set(re.findall(r"{(\w+)}", english)), key


def test_language_switch():
    try:
        labels.set_language("en")
        assert labels.t("tab.form") == "Registration"
        labels.set_language("xx")  # unknown: Indonesian
        assert labels.t("tab.form") == "Pendaftaran"
    finally:
        labels.set_language("id")
    assert labels.plain("btn.save") == "Simpan"


@pytest.mark.parametrize("text, expected", [
    ("17-08-1985", date(1985, 8, 17)),
    ("17/8/1985", date(1985, 8, 17)),
    ("17081985", date(1985, 8, 17)),
    (" 01.01.2000 ", date(2000, 1, 1)),
    ("", None),
])
def test_dates_as_people_write_them(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31-02-1990", "1985-08-17", "kemarin", "17-08-85"])
def test_unreadable_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_rupiah():
    assert format_rupiah(1_500_000) == "1.500.000"
    assert parse_rupiah("Rp 1.500.000") == 1_500_000
    assert parse_rupiah("") is None
    with pytest.raises(ValueError):
        parse_rupiah("1,5 juta")


def test_rupiah_edit_groups_while_typing(qtbot):
    edit = RupiahEdit()
    qtbot.addWidget(edit)
    qtbot.keyClicks(edit, "2750000")
    assert edit.text() == "2.750.000"
    assert edit.value() == 2_750_000
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    assert edit.text() == "275.000"


def test_heirs_editor_adds_and_removes_rows_but_keeps_one(qtbot):
    editor = HeirsEditor()
    qtbot.addWidget(editor)
    assert len(editor.rows) == 1 and editor.heirs() == []
    qtbot.keyClicks(editor.rows[0].name, "Rina")
    editor.rows[0].relationship.setCurrentIndex(editor.rows[0].relationship.findData("istri"))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert len(editor.rows) == 2
    qtbot.keyClicks(editor.rows[1].name, "Andi")
    editor.rows[1].relationship.setCurrentIndex(editor.rows[1].relationship.findData("anak"))
    assert [(h.name, h.relationship) for h in editor.heirs()] == [("Rina", "istri"),
                                                                  ("Andi", "anak")]
    editor.remove_row(editor.rows[0])
    assert [h.name for h in editor.heirs()] == ["Andi"]
    editor.remove_row(editor.rows[0])  # the last row stays
    assert len(editor.rows) == 1
