"""Focus is visible on dropdowns and checkboxes (the style sheet of ui/look.py)."""

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QVBoxLayout, QWidget

from ui import look


@pytest.fixture(autouse=True)
def app_style(qapp):
    """The style sheet is the application's: put it back for the tests that follow."""
    before = qapp.styleSheet()
    yield
    qapp.setStyleSheet(before)


def _has_focus_color(image) -> bool:
    target = QColor(look.FOCUS_COLOR)
    return any(image.pixelColor(x, y) == target
               for x in range(image.width()) for y in range(image.height()))


@pytest.mark.parametrize("make", [
    lambda parent: QComboBox(parent),
    lambda parent: QCheckBox("Peserta sudah membaca pernyataan persetujuan", parent),
])
def test_a_focused_dropdown_or_checkbox_is_framed_in_blue(qtbot, make):
    look.install()
    window = QWidget()
    qtbot.addWidget(window)
    other = QLineEdit(window)
    widget = make(window)
    if isinstance(widget, QComboBox):
        widget.addItems(["— pilih —", "Alam Barajo"])
    column = QVBoxLayout(window)
    column.addWidget(other)
    column.addWidget(widget)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    other.setFocus()
    qtbot.waitUntil(other.hasFocus, timeout=3000)
    before = widget.grab().toImage()
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=3000)
    after = widget.grab().toImage()
    assert not _has_focus_color(before)
    assert _has_focus_color(after)


def test_installing_twice_adds_the_style_once(qapp):
    look.install()
    look.install()
    assert qapp.styleSheet().count("visible focus") == 1
