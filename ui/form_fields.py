"""Small input helpers of the registration form: dates and rupiah as people type them."""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QCompleter, QLineEdit, QWidget

from ui import timefmt

_DATE_PARTS = re.compile(r"^\s*(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})\s*$")


def parse_date(text: str) -> date | None:
    """17-08-1985, 17/8/1985 or 17081985 → a date; None when empty or not a real date.
    Raises ValueError when something was typed that is not a date."""
    text = text.strip()
    if not text:
        return None
    match = _DATE_PARTS.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    elif text.isdigit() and len(text) == 8:
        day, month, year = int(text[:2]), int(text[2:4]), int(text[4:])
    else:
        raise ValueError(text)
    return date(year, month, day)  # ValueError for 31-02-1990


def format_date(value: date | None) -> str:
    return timefmt.format_date(value)


def format_rupiah(amount: int | None) -> str:
    """1500000 → "1.500.000" (Indonesian thousands separator)."""
    return "" if amount is None else f"{amount:,}".replace(",", ".")


def parse_rupiah(text: str) -> int | None:
    """ "Rp 1.500.000" → 1500000; None when empty; ValueError when not a whole amount."""
    compact = re.sub(r"[\s.]|^Rp", "", text.strip(), flags=re.IGNORECASE)
    if not compact:
        return None
    if not compact.isdigit():
        raise ValueError(text)
    return int(compact)


class RupiahEdit(QLineEdit):
    """A line edit that groups digits by thousands while the operator types."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.textEdited.connect(self._regroup)

    def _regroup(self, text: str) -> None:
        digits_before_cursor = sum(ch.isdigit() for ch in text[: self.cursorPosition()])
        digits = "".join(ch for ch in text if ch.isdigit())
        if not digits or any(not (ch.isdigit() or ch == ".") for ch in text):
            return  # something other than digits: leave it for the inline error
        grouped = format_rupiah(int(digits))
        self.setText(grouped)
        # Put the cursor back after the same number of digits.
        seen = 0
        for pos, ch in enumerate(grouped):
            if seen == digits_before_cursor:
                self.setCursorPosition(pos)
                break
            seen += ch.isdigit()
        else:
            self.setCursorPosition(len(grouped))

    def value(self) -> int | None:
        return parse_rupiah(self.text())

    def set_value(self, amount: int | None) -> None:
        self.setText(format_rupiah(amount))


class SearchableCombo(QComboBox):
    """An editable combo whose items are found by any part of their text (occupation list).

    Up and Down walk the list only while the text is empty or is an item's own text. While a
    search is typed they open the list of matches, and with no match they do nothing: a search
    that finds nothing must never pick an item (and with it a cohort) silently."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(self.model(), self)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompleter(completer)

    def matches(self, text: str | None = None) -> list[int]:
        """Indexes of the items whose text contains `text` (default: what is typed)."""
        needle = (self.currentText() if text is None else text).strip().casefold()
        if not needle:
            return []
        return [i for i in range(self.count()) if needle in self.itemText(i).casefold()]

    def choose_typed(self) -> bool:
        """Select the item the typed text names: its whole text, or the only item containing
        it. True when an item is selected afterwards."""
        if self.selected_data():
            self.setCurrentIndex(self.findText(self.currentText().strip(),
                                               Qt.MatchFlag.MatchFixedString))
            return True
        found = self.matches()
        if len(found) == 1:
            self.setCurrentIndex(found[0])
            return True
        return False

    def searching(self) -> bool:
        """Something is typed that is not the text of the current item."""
        text = self.currentText().strip()
        return bool(text) and text.casefold() != self.itemText(self.currentIndex()).casefold()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown,
                           Qt.Key.Key_PageUp) and self.searching():
            if self.matches():
                self.completer().setCompletionPrefix(self.currentText().strip())
                self.completer().complete()  # the matches, to walk with the arrows
            event.accept()  # no match: nothing is chosen
            return
        super().keyPressEvent(event)

    def selected_data(self) -> str:
        """The data of the item whose text was typed or chosen ("" when none matches)."""
        text = self.currentText().strip().casefold()
        for i in range(self.count()):
            if self.itemText(i).casefold() == text:
                return self.itemData(i) or ""
        return ""

    def select_data(self, value: str) -> None:
        index = self.findData(value)
        self.setCurrentIndex(index)
        if index < 0:
            self.setEditText("")
