"""The registration form's keyboard path, mixed into the form.

Enter walks the declared fields in the order an enumerator reads a KTP (ui/form_declarations.py
`FIELDS`, an heir's inputs in place of the heirs) and saves on the last; it passes what the form
filled itself and an heir's empty optional fields, which Tab still reaches. A full NIK, RT or RW
moves on by itself, and an Enter typed out of habit right after does not skip the next field. A
field the operator leaves shows its findings from then on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QWidget

from ui.form_declarations import FIELDS
from ui.heirs_editor import HEIR_PARTS

_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class FormKeyboard:
    """Enter, Tab and leaving a field (the form's widgets, `_touched`, `_derived`, `submit`)."""

    def _rebuild_focus_chain(self) -> None:
        """Enter walks `self._chain`; Tab walks the same order plus the buttons."""
        chain: list[QWidget] = [
            widget for f in FIELDS for widget in f.kind.focus_chain(getattr(self, f.name))]
        if self.confirm_warnings.isVisible() or not self.confirm_warnings.isHidden():
            chain.append(self.confirm_warnings)
        self._chain = chain
        self._set_tab_order(chain)
        for row in self.heirs.rows:
            row.remove.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def _set_tab_order(self, chain: list[QWidget]) -> None:
        consent, notes = chain.index(self.consent), chain.index(self.notes)
        tab_order = [*chain[:consent], self.heirs.add_button, self.consent, self.consent_view,
                     self.event, self.event_new, self.notes, *chain[notes + 1:],
                     self.save_button, self.clear_button]
        for first, second in zip(tab_order, tab_order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        for widget in [*tab_order, self.occupation.lineEdit()]:
            widget.removeEventFilter(self)
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            if watched is self._arrived:
                self._arrived = None  # the habit-Enter guard holds only until the field is left
            self._left(watched, event)
        if event.type() == QEvent.Type.KeyPress and event.key() in _ENTER_KEYS:
            if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
                return False
            return self._enter_key(watched)
        return super().eventFilter(watched, event)

    def _enter_key(self, watched: QObject) -> bool:
        """Enter on a field of the form; False leaves the key to the widget."""
        if watched is self.occupation.lineEdit():
            watched = self.occupation
        if isinstance(watched, QComboBox) and watched.view().isVisible():
            return False  # Enter picks the item in the open list
        if watched is self.occupation and self.occupation.completer().popup().isVisible():
            return False  # the completer picks; its Enter then reaches returnPressed
        if isinstance(watched, QAbstractButton) and watched not in self._chain:
            watched.click()
        elif watched is self._arrived and self._is_blank(watched):
            # The field was reached by itself (a full NIK, RT or RW moves on): an Enter typed
            # out of habit right after must not skip this empty field.
            self._arrived = None
        elif watched is self.occupation:
            self._occupation_enter()
        else:
            self._enter_pressed(watched)
        return True

    def _left(self, widget: QObject, event: QEvent) -> None:
        """A field the operator leaves shows its findings from now on (an empty required
        field says so once it is left, not while the fields before it are being filled)."""
        if event.reason() in (Qt.FocusReason.PopupFocusReason,
                              Qt.FocusReason.ActiveWindowFocusReason) or self._loading:
            return
        if widget is self.occupation.lineEdit():
            widget = self.occupation
        name = self._heir_field(widget)
        if name is None and widget in self._chain and isinstance(widget, (QLineEdit, QComboBox)):
            name = widget.objectName()
        if name and name not in self._touched:
            self._touched.add(name)
            self._show_issues()

    def _heir_field(self, widget: QObject | None) -> str | None:
        """"heirs[0].relationship" for that heir's relationship box (None: not an heir's)."""
        for i, row in enumerate(self.heirs.rows):
            for part in HEIR_PARTS:
                if widget is getattr(row, part):
                    return f"heirs[{i}].{part}"
        return None

    def _advance_by_itself(self, widget: QWidget) -> None:
        """A fixed-length field is full: go to the next field, as Enter would."""
        if self.window().focusWidget() is widget and not self._loading:
            self._enter_pressed(widget)
            following = self.window().focusWidget()
            if following is not widget and following is not None:
                self._arrived = following

    def _fixed_length_edited(self, widget: QLineEdit, text: str) -> None:
        if len(text) == widget.maxLength() and text.isdigit():
            self._advance_by_itself(widget)

    @staticmethod
    def _is_blank(widget: QObject) -> bool:
        if isinstance(widget, QLineEdit):
            return not widget.text().strip()
        if isinstance(widget, QComboBox):
            return not widget.currentText().strip() or not widget.currentData()
        return False

    def _filled_by_the_form(self, widget: QWidget) -> bool:
        """Fields Enter passes over: what the form filled itself (birth date and sex from the
        NIK, postal code from the kelurahan, the cohort that goes with the occupation) and an
        heir's optional phone and NIK left empty. Tab still reaches every one of them."""
        if widget is self.birth_date:
            return bool(widget.text()) and widget.text() == self._derived.get("birth_date")
        if widget is self.sex:
            return bool(widget.currentData()) and widget.currentData() == self._derived.get("sex")
        if widget is self.postal_code:
            code = self.kelurahan.currentData() or ""
            return bool(code) and widget.text() == self._regions.postal_code(code)
        if widget is self.cohort:
            return bool(self.occupation.selected_data())
        if any(widget in (row.phone, row.nik) for row in self.heirs.rows):
            return not widget.text().strip()
        return False

    def _enter_pressed(self, widget: QObject) -> None:
        chain = self._chain
        if widget not in chain or widget is chain[-1]:
            self.submit()
            return
        for candidate in chain[chain.index(widget) + 1:]:
            if candidate.isEnabled() and not candidate.isHidden() and (
                    not self._filled_by_the_form(candidate)):
                candidate.setFocus(Qt.FocusReason.TabFocusReason)
                if isinstance(candidate, QLineEdit):
                    candidate.selectAll()
                return
