"""The registration form, keyboard first.

Tab and Enter walk the fields in the order an enumerator reads a KTP; Enter on the last field
saves. Sixteen NIK digits fill birth date and sex (as defaults) and show the NIK's verdict at
once; the whole record is validated in the background (through the database worker, so the
duplicate check never blocks typing) and findings appear next to their fields. Warnings must be
confirmed with a checkbox before the save goes through. The form is kept as a draft while typing.
"""

from __future__ import annotations

import getpass
from dataclasses import replace
from datetime import date
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storage.models import COHORT_LABELS, Issue, Registration, ValidationResult, mask_nik
from storage.nik import check_nik, strip_separators
from storage.vocabulary import local_now_iso
from ui import errors
from ui.form_fields import RupiahEdit, SearchableCombo, format_date, parse_date
from ui.heirs_editor import HeirsEditor
from ui.labels import plain, t, term
from ui.standard_buttons import confirm

DRAFT_KEY = "registration_form"
DRAFT_DELAY_MS = 500
VALIDATE_DELAY_MS = 300
ERROR_COLOR = "#b00020"
WARNING_COLOR = "#8a5a00"
OK_COLOR = "#1b6e20"

# Text fields of the draft, by Registration field name.
_TEXT_FIELDS = ("nik", "full_name", "birth_place", "street", "rt", "rw", "postal_code", "phone",
                "notes")


def draft_key_for(username: str) -> str:
    """The draft key of an operator ("registration_form:budi"); the plain key without one."""
    return f"{DRAFT_KEY}:{username.lower()}" if username else DRAFT_KEY


def consent_info(config: Any) -> tuple[str, str]:
    """(version, text) of the consent statement currently in force, from the programme config."""
    consent = getattr(config, "consent", None) or getattr(config, "current_consent", None)
    if callable(consent):
        consent = consent()
    if consent is None:
        return "", ""
    return getattr(consent, "version", ""), getattr(consent, "text", "")


def occupation_cohorts(config: Any) -> dict[str, str]:
    """Occupation code → the cohort it usually belongs to (a default the operator can change)."""
    try:
        entries = config.for_date(date.today()).occupations
    except Exception:  # noqa: BLE001 - without the table the cohort simply is not defaulted
        return {}
    return {o.code: o.cohort for o in entries if getattr(o, "cohort", "")}


class RegistrationForm(QWidget):
    """Registers a new worker, or (with `editing`) corrects one: a correction is a new version."""

    saved = Signal(object)  # the saved Registration
    message = Signal(str)  # a short note for the status bar

    def __init__(self, worker: Any, *, editing: Registration | None = None,
                 operator: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._worker = worker
        self._reader = worker.readonly
        self._regions = self._reader.regions
        self._editing = editing
        self._operator = operator  # without a logged-in operator: this, the setting, the OS user
        self._touched: set[str] = set()
        self._derived: dict[str, str] = {}  # what the NIK filled in, to know if it was changed
        self._validation = ValidationResult()
        self._validate_seq = 0
        self._saving = False
        self._loading = False
        self._arrived: QObject | None = None  # a field reached by itself (see eventFilter)
        self._consent_version, self._consent_text = consent_info(self._reader.config)
        self._occupation_cohorts = occupation_cohorts(self._reader.config)

        self._build_widgets()
        self._build_layout()
        self._connect()
        self._rebuild_focus_chain()
        self._reset_messages()
        if editing is not None:
            self.load_registration(editing)

    # -- building -------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.nik = QLineEdit(self)
        self.nik.setPlaceholderText(t("ph.nik"))
        self.nik.setMaxLength(24)  # room for pasted separators
        self.nik_verdict = self._issue_label("nik_verdict")
        self.full_name = QLineEdit(self)
        self.full_name.setMaxLength(120)
        self.birth_place = QLineEdit(self)
        self.birth_date = QLineEdit(self)
        self.birth_date.setPlaceholderText(t("ph.date"))
        self.sex = QComboBox(self)
        self.sex.addItem(t("sex.none"), "")
        self.sex.addItem(t("sex.L"), "L")
        self.sex.addItem(t("sex.P"), "P")
        self.street = QLineEdit(self)
        self.rt = QLineEdit(self)
        self.rt.setMaxLength(3)
        self.rt.setMaximumWidth(60)
        self.rw = QLineEdit(self)
        self.rw.setMaxLength(3)
        self.rw.setMaximumWidth(60)
        self.kecamatan = QComboBox(self)
        self.kecamatan.addItem(t("choose"), "")
        for kec in self._regions.kecamatan_list():
            self.kecamatan.addItem(kec.name, kec.code)
        self.kelurahan = QComboBox(self)
        self.kelurahan.addItem(t("choose"), "")
        self.postal_code = QLineEdit(self)
        self.postal_code.setMaxLength(5)
        self.postal_code.setMaximumWidth(80)
        self.phone = QLineEdit(self)
        self.phone.setPlaceholderText(t("ph.phone"))
        self.occupation = SearchableCombo(self)
        self.occupation.lineEdit().setPlaceholderText(t("ph.search_occupation"))
        self.occupation.addItem("", "")
        for occ in self._reader.occupations():
            self.occupation.addItem(occ.name, occ.code)
        self.cohort = QComboBox(self)
        for cohort in COHORT_LABELS:
            self.cohort.addItem(term("cohort", cohort.value), cohort.value)
        self.income = RupiahEdit(self)
        self.income.setPlaceholderText(t("ph.income"))
        self.heirs = HeirsEditor(self)
        self.consent = QCheckBox(t("consent.check"), self)
        self.consent_version = QLabel(
            t("consent.version", version=self._consent_version) if self._consent_version
            else t("consent.missing"), self)
        self.consent_view = QPushButton(t("consent.view"), self)
        self.event = QComboBox(self)
        self.event_new = QPushButton(t("event.new"), self)
        self.notes = QLineEdit(self)
        self.warnings_box = QLabel(self)
        self.warnings_box.setObjectName("warnings_box")
        self.warnings_box.setWordWrap(True)
        self.warnings_box.setStyleSheet(f"color: {WARNING_COLOR};")
        self.confirm_warnings = QCheckBox(t("warn.confirm"), self)
        self.confirm_warnings.setObjectName("confirm_warnings")
        self.save_button = QPushButton(
            t("btn.save_correction") if self._editing else t("btn.save"), self)
        self.save_button.setDefault(True)
        self.clear_button = QPushButton(
            t("btn.revert") if self._editing else t("btn.clear"), self)
        self.feedback = QLabel(self)
        self.feedback.setObjectName("feedback")
        self.feedback.setWordWrap(True)
        self._load_events()

        for name in (*_TEXT_FIELDS, "birth_date", "sex", "kecamatan", "kelurahan", "occupation",
                     "cohort", "income", "consent", "event"):
            getattr(self, name).setObjectName(name)
        self._issue_labels = {name: self._issue_label(f"{name}_issues") for name in (
            "nik", "full_name", "birth_place", "birth_date", "sex", "street", "rt", "rw",
            "kecamatan_code", "kelurahan_code", "postal_code", "phone", "occupation_code",
            "cohort", "monthly_income", "consent_given", "event_id", "notes", "")}

    def _issue_label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.hide()
        return label

    def _build_layout(self) -> None:
        def with_issues(widget: QWidget, *fields: str, extra: QWidget | None = None) -> QWidget:
            box = QWidget(self)
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(widget)
            if extra is not None:
                column.addWidget(extra)
            for field_name in fields:
                column.addWidget(self._issue_labels[field_name])
            return box

        def row(*widgets: QWidget) -> QWidget:
            box = QWidget(self)
            line = QHBoxLayout(box)
            line.setContentsMargins(0, 0, 0, 0)
            for widget in widgets:
                line.addWidget(widget)
            line.addStretch(1)
            return box

        person = QGroupBox(t("section.person"), self)
        form = QFormLayout(person)
        form.addRow(t("f.nik"), with_issues(self.nik, "nik", extra=self.nik_verdict))
        form.addRow(t("f.full_name"), with_issues(self.full_name, "full_name"))
        form.addRow(t("f.birth_place"), with_issues(self.birth_place, "birth_place"))
        form.addRow(t("f.birth_date"), with_issues(row(self.birth_date), "birth_date"))
        form.addRow(t("f.sex"), with_issues(row(self.sex), "sex"))
        form.addRow(t("f.phone"), with_issues(self.phone, "phone"))

        address = QGroupBox(t("section.address"), self)
        form = QFormLayout(address)
        form.addRow(t("f.street"), with_issues(self.street, "street"))
        form.addRow(t("f.rt_rw"), with_issues(row(self.rt, QLabel("/"), self.rw), "rt", "rw"))
        form.addRow(t("f.kecamatan"), with_issues(self.kecamatan, "kecamatan_code"))
        form.addRow(t("f.kelurahan"), with_issues(self.kelurahan, "kelurahan_code"))
        form.addRow(t("f.postal_code"), with_issues(row(self.postal_code), "postal_code"))

        work = QGroupBox(t("section.work"), self)
        form = QFormLayout(work)
        form.addRow(t("f.occupation"), with_issues(self.occupation, "occupation_code"))
        form.addRow(t("f.cohort"), with_issues(self.cohort, "cohort"))
        form.addRow(t("f.income"), with_issues(self.income, "monthly_income"))

        heirs = QGroupBox(t("section.heirs"), self)
        QVBoxLayout(heirs).addWidget(self.heirs)

        consent = QGroupBox(t("section.consent"), self)
        form = QFormLayout(consent)
        form.addRow(t("f.consent"), with_issues(
            self.consent, "consent_given", extra=row(self.consent_version, self.consent_view)))
        form.addRow(t("f.event"), with_issues(row(self.event, self.event_new), "event_id"))
        form.addRow(t("f.notes"), with_issues(self.notes, "notes"))

        left = QVBoxLayout()
        left.addWidget(person)
        left.addWidget(address)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(work)
        right.addWidget(heirs)
        right.addWidget(consent)
        right.addStretch(1)
        columns = QHBoxLayout()
        # The right column holds the heirs' row (name, relationship, phone, NIK): it gets more.
        columns.addLayout(left, 2)
        columns.addLayout(right, 3)

        buttons = QHBoxLayout()
        buttons.addWidget(self.feedback, 1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.save_button)

        outer = QVBoxLayout(self)
        outer.addLayout(columns)
        outer.addWidget(self._issue_labels[""])
        outer.addWidget(self.warnings_box)
        outer.addWidget(self.confirm_warnings)
        outer.addLayout(buttons)

    def _connect(self) -> None:
        self.nik.textEdited.connect(self._nik_typed)
        for name in ("full_name", "birth_place", "birth_date", "street", "rt", "rw",
                     "postal_code", "phone", "income", "notes"):
            widget = getattr(self, name)
            widget.textEdited.connect(lambda _text, n=name: self._user_changed(n))
        self.occupation.lineEdit().textEdited.connect(lambda _text: self._occupation_changed())
        self.occupation.lineEdit().returnPressed.connect(self._occupation_return)
        for fixed in (self.rt, self.rw):
            fixed.textEdited.connect(lambda text, w=fixed: self._fixed_length_edited(w, text))
        self.occupation.activated.connect(lambda _i: self._occupation_changed())
        self.occupation.currentIndexChanged.connect(lambda _i: self._occupation_changed())
        self.sex.activated.connect(lambda _i: self._user_changed("sex"))
        self.cohort.activated.connect(lambda _i: self._user_changed("cohort"))
        self.kecamatan.currentIndexChanged.connect(self._kecamatan_changed)
        self.kelurahan.currentIndexChanged.connect(self._kelurahan_changed)
        self.consent.toggled.connect(lambda _on: self._user_changed("consent"))
        self.event.activated.connect(self._event_chosen)
        self.heirs.changed.connect(
            lambda: self._user_changed(self._heir_field(self.window().focusWidget()) or "heirs"))
        self.heirs.rows_changed.connect(self._rebuild_focus_chain)
        self.consent_view.clicked.connect(self._show_consent_text)
        self.event_new.clicked.connect(self._new_event)
        self.save_button.clicked.connect(self.submit)
        self.clear_button.clicked.connect(self._clear_clicked)
        self.confirm_warnings.toggled.connect(lambda _on: self._rebuild_focus_chain())
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.submit)

        changed = getattr(self._worker, "changed", None)
        if changed is not None:  # after every write (a sync or the demo among them)
            changed.connect(self.reload_events)

        self._validate_timer = QTimer(self, singleShot=True, interval=VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.save_draft_now)

    # -- keyboard -------------------------------------------------------------------------

    def _rebuild_focus_chain(self) -> None:
        """Enter walks `self._chain`; Tab walks the same order plus the buttons."""
        chain: list[QWidget] = [
            self.nik, self.full_name, self.birth_place, self.birth_date, self.sex, self.phone,
            self.street, self.rt, self.rw, self.kecamatan, self.kelurahan, self.postal_code,
            self.occupation, self.cohort, self.income, *self.heirs.focus_chain(),
            self.consent, self.event, self.notes,
        ]
        if self.confirm_warnings.isVisible() or not self.confirm_warnings.isHidden():
            chain.append(self.confirm_warnings)
        self._chain = chain
        tab_order = [*chain[: chain.index(self.consent)], self.heirs.add_button, self.consent,
                     self.consent_view, self.event, self.event_new, self.notes, *chain[
                         chain.index(self.notes) + 1:], self.save_button, self.clear_button]
        for first, second in zip(tab_order, tab_order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        for widget in [*tab_order, self.occupation.lineEdit()]:
            widget.removeEventFilter(self)
            widget.installEventFilter(self)
        for row in self.heirs.rows:
            row.remove.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            if watched is self._arrived:
                self._arrived = None  # the habit-Enter guard holds only until the field is left
            self._left(watched, event)
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return,
                                                                    Qt.Key.Key_Enter):
            if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
                return False
            if watched is self.occupation.lineEdit():
                watched = self.occupation
            if isinstance(watched, QComboBox) and watched.view().isVisible():
                return False  # Enter picks the item in the open list
            if watched is self.occupation and self.occupation.completer().popup().isVisible():
                return False  # the completer picks; its Enter then reaches returnPressed
            if isinstance(watched, QAbstractButton) and watched not in self._chain:
                watched.click()
                return True
            if watched is self._arrived and self._is_blank(watched):
                # The field was reached by itself (a full NIK, RT or RW moves on): an Enter
                # typed out of habit right after must not skip this empty field.
                self._arrived = None
                return True
            if watched is self.occupation:
                self._occupation_enter()
                return True
            self._enter_pressed(watched)
            return True
        return super().eventFilter(watched, event)

    def _left(self, widget: QObject, event: QEvent) -> None:
        """A field the operator leaves shows its findings from now on (an empty required
        field says so once it is left, not while the fields before it are being filled)."""
        if event.reason() in (Qt.FocusReason.PopupFocusReason,
                              Qt.FocusReason.ActiveWindowFocusReason) or self._loading:
            return
        if widget is self.occupation.lineEdit():
            widget = self.occupation
        if self._heir_field(widget):
            name = self._heir_field(widget)
        elif widget in self._chain and isinstance(widget, (QLineEdit, QComboBox)):
            name = widget.objectName()
        else:
            return
        if name not in self._touched:
            self._touched.add(name)
            self._show_issues()

    def _heir_field(self, widget: QObject | None) -> str | None:
        """"heirs[0].relationship" for that heir's relationship box (None: not an heir's)."""
        for i, row in enumerate(self.heirs.rows):
            for part, box in (("name", row.name), ("relationship", row.relationship),
                              ("phone", row.phone), ("nik", row.nik)):
                if widget is box:
                    return f"heirs[{i}].{part}"
        return None

    def _occupation_enter(self) -> None:
        """Enter on Pekerjaan: the item the search names is chosen and the form moves on; a
        search that fits several items opens them; one that fits none stays to be corrected."""
        combo = self.occupation
        if not combo.currentText().strip() or combo.choose_typed():
            self._enter_pressed(combo)
        elif combo.matches():
            combo.completer().setCompletionPrefix(combo.currentText().strip())
            combo.completer().complete()
        else:
            self._touched.add("occupation")
            self._show_issues()

    def _occupation_return(self) -> None:
        # Enter in the completer's list: the list has set the text; choose it and move on.
        if self.occupation.choose_typed():
            QTimer.singleShot(0, lambda: self._enter_pressed(self.occupation))

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
        following = chain[chain.index(widget) + 1:]
        for candidate in following:
            if candidate.isEnabled() and not candidate.isHidden() and (
                    not self._filled_by_the_form(candidate)):
                candidate.setFocus(Qt.FocusReason.TabFocusReason)
                if isinstance(candidate, QLineEdit):
                    candidate.selectAll()
                return

    # -- reference data -------------------------------------------------------------------

    @property
    def operator(self) -> str:
        """Who is recorded as having saved (and imported) registrations from this window."""
        return self.operator_name()

    def _setting(self, name: str) -> Any:
        try:
            return self._reader.get_setting(name)
        except Exception:  # noqa: BLE001 - a missing setting is not worth a failure here
            return None

    def _load_events(self, select: str | None = None) -> None:
        current = select if select is not None else (
            self._editing.event_id if self._editing else self._setting("current_event_id"))
        items = [(t("event.none"), "")] + [
            (ev.name + (f" ({format_date(ev.held_on)})" if ev.held_on else ""), ev.id)
            for ev in self._reader.events()]
        shown = [(self.event.itemText(i), self.event.itemData(i))
                 for i in range(self.event.count())]
        if items != shown:  # rebuilt only when it changed: an open list is left alone
            self.event.blockSignals(True)
            self.event.clear()
            for label, event_id in items:
                self.event.addItem(label, event_id)
            self.event.blockSignals(False)
        self.event.setCurrentIndex(max(self.event.findData(current or ""), 0))

    def reload_events(self) -> None:
        """Kegiatan made elsewhere (pull, the demo, another window) join the list; the chosen
        one stays chosen (none chosen yet: the device's current kegiatan, if one is set)."""
        chosen = self.event.currentData() or ""
        self._load_events(select=chosen or None if self._editing is None else chosen)

    def _event_chosen(self, _index: int) -> None:
        self._user_changed("event")
        if self._editing is None:  # only new registrations move the current event
            event_id = self.event.currentData() or ""
            self._worker.call(lambda r, v: r.set_setting("current_event_id", v), event_id)

    def _new_event(self) -> None:
        name, ok = QInputDialog.getText(self, t("event.new.title"), t("event.new.prompt"))
        name = " ".join(name.split())
        if not ok or not name:
            return
        kelurahan = self.kelurahan.currentData() or ""

        def create(registry, name, kelurahan):
            event = registry.add_event(name, date.today(), kelurahan)
            registry.set_setting("current_event_id", event.id)
            return event

        self._worker.call(create, name, kelurahan, on_result=self._event_created,
                          on_error=self._show_error)

    def _event_created(self, event: Any) -> None:
        self._load_events(select=event.id)
        self._user_changed("event")
        self.event.setFocus()

    def _show_consent_text(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(t("consent.title"))
        box.setText(t("consent.version", version=self._consent_version or "—"))
        box.setInformativeText(self._consent_text or t("consent.missing"))
        box.exec()

    # -- reacting to typing ---------------------------------------------------------------

    def _user_changed(self, name: str) -> None:
        if self._loading:
            return
        self._touched.add(name)
        self.feedback.clear()
        if self.confirm_warnings.isChecked() and name != "confirm":
            self.confirm_warnings.setChecked(False)  # a changed record needs a fresh look
        self._validate_timer.start()
        if self._editing is None:
            self._draft_timer.start()

    def _occupation_changed(self) -> None:
        """A religious worker's occupation suggests that cohort, unless the cohort was chosen."""
        if self._loading:
            return
        cohort = self._occupation_cohorts.get(self.occupation.selected_data())
        if cohort and "cohort" not in self._touched:
            self.cohort.setCurrentIndex(max(self.cohort.findData(cohort), 0))
        self._user_changed("occupation")

    def _nik_typed(self, text: str) -> None:
        self._nik_edited(text)
        digits = strip_separators(text)
        if len(digits) == 16 and self.nik.cursorPosition() == len(text) and (
                check_nik(text, date.today(), self._regions).valid):
            self._advance_by_itself(self.nik)  # sixteen good digits: on to the name

    def _nik_edited(self, text: str) -> None:
        self._user_changed("nik")
        digits = strip_separators(text)
        if len(digits) < 16 and digits.isdigit():
            self._forget_derived()
            self._show_verdict(t("nik.typing", n=len(digits)), "#555555")
            return
        check = check_nik(text, date.today(), self._regions)
        if check.valid:
            self._fill_from_nik(check.birth_date, check.sex)
            sex = t(f"sex.{check.sex}") if check.sex else "?"
            values = dict(date=format_date(check.birth_date), sex=sex)
            if check.warnings:  # readable, but not "sah" while something needs a look
                lines = [t("nik.check", **values), *(w.message for w in check.warnings)]
                self._show_verdict("\n".join(lines), WARNING_COLOR)
            else:
                self._show_verdict(t("nik.ok", **values), OK_COLOR)
            self._validate_timer.stop()
            self.validate_now()  # the duplicate check, at once
        else:
            self._forget_derived()
            self._show_verdict("\n".join(e.message for e in check.errors), ERROR_COLOR)

    def _forget_derived(self) -> None:
        """The NIK no longer gives a birth date and sex: take back what an earlier NIK filled
        (what the operator typed stays)."""
        if self.birth_date.text() and self.birth_date.text() == self._derived.get("birth_date"):
            self.birth_date.clear()
        if self.sex.currentData() and self.sex.currentData() == self._derived.get("sex"):
            self.sex.setCurrentIndex(0)
        self._derived.clear()

    def _show_verdict(self, text: str, color: str) -> None:
        self.nik_verdict.setText(text)
        self.nik_verdict.setStyleSheet(f"color: {color};")
        self.nik_verdict.setVisible(bool(text))

    def _fill_from_nik(self, birth: date | None, sex: str) -> None:
        """Offer the NIK's birth date and sex unless the operator typed something else."""
        new_date = format_date(birth)
        current = self.birth_date.text().strip()
        if not current or current == self._derived.get("birth_date"):
            self.birth_date.setText(new_date)
            self._derived["birth_date"] = new_date
        current_sex = self.sex.currentData() or ""
        if sex and (not current_sex or current_sex == self._derived.get("sex")):
            self.sex.setCurrentIndex(max(self.sex.findData(sex), 0))
            self._derived["sex"] = sex

    def _kecamatan_changed(self, _index: int) -> None:
        """The kelurahan list holds only the chosen kecamatan's kelurahan."""
        code = self.kecamatan.currentData() or ""
        keep = self.kelurahan.currentData() or ""
        self.kelurahan.blockSignals(True)
        self.kelurahan.clear()
        self.kelurahan.addItem(t("choose"), "")
        for kel in self._regions.kelurahan_list(code):
            self.kelurahan.addItem(kel.name, kel.code)
        self.kelurahan.setCurrentIndex(max(self.kelurahan.findData(keep), 0))
        self.kelurahan.blockSignals(False)
        self._fill_postal_code()
        self._user_changed("kecamatan")  # the kelurahan's own findings wait for the operator

    def _kelurahan_changed(self, _index: int) -> None:
        self._fill_postal_code()
        self._user_changed("kelurahan")

    def _fill_postal_code(self) -> None:
        if self._loading:
            return
        code = self.kelurahan.currentData() or ""
        if code:
            self.postal_code.setText(self._regions.postal_code(code))
        else:
            self.postal_code.clear()

    # -- reading and filling --------------------------------------------------------------

    def local_issues(self) -> list[Issue]:
        """Problems the form itself finds before storage sees the record (unreadable input)."""
        issues = []
        try:
            parse_date(self.birth_date.text())
        except ValueError:
            issues.append(Issue("birth_date", "form.date", plain("err.date")))
        try:
            self.income.value()
        except ValueError:
            issues.append(Issue("monthly_income", "form.income", plain("err.income")))
        typed = self.occupation.currentText().strip()
        if typed and not self.occupation.selected_data() and not self.occupation.matches():
            issues.append(Issue("occupation_code", "form.occupation",
                                plain("err.occupation", text=typed)))
        return issues

    def to_registration(self) -> Registration:
        """The record as typed (unreadable date or income left empty; see local_issues)."""
        try:
            birth = parse_date(self.birth_date.text())
        except ValueError:
            birth = None
        try:
            income = self.income.value()
        except ValueError:
            income = None
        base = self._editing or Registration(nik="", full_name="")
        return replace(
            base,
            nik=self.nik.text().strip(),
            full_name=self.full_name.text(),
            birth_place=self.birth_place.text().strip(),
            birth_date=birth,
            sex=self.sex.currentData() or "",
            street=self.street.text().strip(),
            rt=self.rt.text().strip(),
            rw=self.rw.text().strip(),
            kecamatan_code=self.kecamatan.currentData() or "",
            kelurahan_code=self.kelurahan.currentData() or "",
            postal_code=self.postal_code.text().strip(),
            phone=self.phone.text().strip(),
            occupation_code=self.occupation.selected_data(),
            cohort=self.cohort.currentData() or "",
            monthly_income=income,
            heirs=self.heirs.heirs(),
            consent_version=self._consent_version if self.consent.isChecked() else (
                base.consent_version if base.consent_given else ""),
            consent_given=self.consent.isChecked(),
            event_id=self.event.currentData() or None,
            notes=self.notes.text().strip(),
            operator=self.operator_name(),
        )

    def load_registration(self, reg: Registration) -> None:
        self._loading = True
        try:
            for name in _TEXT_FIELDS:
                getattr(self, name).setText(getattr(reg, name) or "")
            self.birth_date.setText(format_date(reg.birth_date))
            self.sex.setCurrentIndex(max(self.sex.findData(reg.sex), 0))
            self.kecamatan.setCurrentIndex(max(self.kecamatan.findData(reg.kecamatan_code), 0))
            self._kecamatan_changed(0)
            self.kelurahan.setCurrentIndex(max(self.kelurahan.findData(reg.kelurahan_code), 0))
            self.postal_code.setText(reg.postal_code)
            self.occupation.select_data(reg.occupation_code)
            self.cohort.setCurrentIndex(max(self.cohort.findData(reg.cohort), 0))
            self.income.set_value(reg.monthly_income)
            self.heirs.set_heirs(reg.heirs)
            self.consent.setChecked(reg.consent_given)
            self.event.setCurrentIndex(max(self.event.findData(reg.event_id or ""), 0))
        finally:
            self._loading = False
        self._rebuild_focus_chain()
        if reg.nik:
            self._nik_edited(self.nik.text())
            self._touched.discard("nik")

    def draft_data(self) -> dict:
        """Everything typed, as text, so that even unreadable input comes back as it was."""
        data: dict[str, Any] = {name: getattr(self, name).text() for name in _TEXT_FIELDS}
        data.update(
            birth_date=self.birth_date.text(),
            sex=self.sex.currentData() or "",
            kecamatan_code=self.kecamatan.currentData() or "",
            kelurahan_code=self.kelurahan.currentData() or "",
            occupation=self.occupation.currentText(),
            cohort=self.cohort.currentData() or "",
            income=self.income.text(),
            heirs=[vars(h) for h in self.heirs.heirs()],
            consent_given=self.consent.isChecked(),
            event_id=self.event.currentData() or "",
            saved_at=local_now_iso(),
            operator=self.operator_name(),
        )
        return data

    def apply_draft(self, data: dict) -> None:
        from storage.models import Heir

        self._loading = True
        try:
            for name in _TEXT_FIELDS:
                getattr(self, name).setText(str(data.get(name, "")))
            self.birth_date.setText(str(data.get("birth_date", "")))
            self.sex.setCurrentIndex(max(self.sex.findData(data.get("sex", "")), 0))
            self.kecamatan.setCurrentIndex(
                max(self.kecamatan.findData(data.get("kecamatan_code", "")), 0))
            self._kecamatan_changed(0)
            self.kelurahan.setCurrentIndex(
                max(self.kelurahan.findData(data.get("kelurahan_code", "")), 0))
            self.postal_code.setText(str(data.get("postal_code", "")))
            self.occupation.setEditText(str(data.get("occupation", "")))
            self.cohort.setCurrentIndex(max(self.cohort.findData(data.get("cohort", "")), 0))
            self.income.setText(str(data.get("income", "")))
            heirs = [Heir(**{k: str(v) for k, v in h.items()
                             if k in ("name", "relationship", "phone", "nik")})
                     for h in data.get("heirs") or []]
            self.heirs.set_heirs(heirs)
            self.consent.setChecked(bool(data.get("consent_given")))
            if data.get("event_id"):
                self.event.setCurrentIndex(max(self.event.findData(data["event_id"]), 0))
        finally:
            self._loading = False
        self._rebuild_focus_chain()
        self._touched = {n for n in _TEXT_FIELDS if data.get(n)}
        if self.nik.text():
            self._nik_edited(self.nik.text())
        self.validate_now()

    def is_empty(self) -> bool:
        reg = self.to_registration()
        return not any((reg.nik, reg.full_name.strip(), reg.birth_place, self.birth_date.text(),
                        reg.street, reg.phone, reg.kelurahan_code, reg.heirs,
                        self.income.text(), reg.notes, self.occupation.currentText()))

    def clear(self) -> None:
        """Empty the form for the next person; the current event stays."""
        self._loading = True
        try:
            for name in (*_TEXT_FIELDS, "birth_date", "income"):
                getattr(self, name).clear()
            self.sex.setCurrentIndex(0)
            self.kecamatan.setCurrentIndex(0)
            self.kelurahan.setCurrentIndex(0)
            self.postal_code.clear()
            self.occupation.setCurrentIndex(0)
            self.occupation.setEditText("")
            self.cohort.setCurrentIndex(0)
            self.heirs.set_heirs([])
            self.consent.setChecked(False)
            self.confirm_warnings.setChecked(False)
        finally:
            self._loading = False
        self._touched.clear()
        self._derived.clear()
        self._validation = ValidationResult()
        self._validate_timer.stop()
        self._draft_timer.stop()
        self._reset_messages()
        self.nik.setFocus()

    # -- validation and saving ------------------------------------------------------------

    def validate_now(self) -> None:
        """Ask the registry (on the writer thread) for the record's findings, duplicates too."""
        self._validate_seq += 1
        seq = self._validate_seq
        self._worker.call(lambda r, reg: r.validate(reg), self.to_registration(),
                          on_result=lambda result: self._validated(seq, result),
                          on_error=lambda _exc: None)

    def _validated(self, seq: int, result: ValidationResult) -> None:
        if seq != self._validate_seq or self._saving:
            return  # an older answer: the form has changed since
        self._validation = result
        self._show_issues()

    def _field_touched(self, field_name: str) -> bool:
        base = field_name.split("[")[0].split(".")[0]
        aliases = {"kecamatan_code": "kecamatan", "kelurahan_code": "kelurahan",
                   "occupation_code": "occupation", "monthly_income": "income",
                   "consent_given": "consent", "consent_version": "consent",
                   "event_id": "event"}
        if field_name.startswith("heirs["):  # one heir's field: once that field was reached
            return bool({field_name, "heirs", "*"} & self._touched)
        return aliases.get(base, base) in self._touched or "*" in self._touched

    def _show_issues(self) -> None:
        local = self.local_issues()
        unreadable = {issue.field for issue in local}
        # What was typed cannot be read: say that, not that the field is empty ("wajib diisi").
        errors = [e for e in [*(e for e in self._validation.errors if e.field not in unreadable),
                              *local] if self._field_touched(e.field)]
        warnings = list(self._validation.warnings)
        verdict = self.nik_verdict.text()
        by_field: dict[str, list[tuple[str, str]]] = {}
        for issue, color in [*((e, ERROR_COLOR) for e in errors),
                             *((w, WARNING_COLOR) for w in warnings)]:
            if issue.field == "nik" and issue.message in verdict:
                continue  # already said by the NIK verdict line
            by_field.setdefault(issue.field, []).append((issue.message, color))
        heir_messages = []
        for field_name, label in self._issue_labels.items():
            items = by_field.pop(field_name, [])
            self._set_issue_label(label, items)
        for field_name, items in by_field.items():
            if field_name.startswith("heirs"):
                heir_messages += items
            else:
                self._set_issue_label(self._issue_labels[""], items, append=True)
        color = ERROR_COLOR if any(c == ERROR_COLOR for _, c in heir_messages) else WARNING_COLOR
        self.heirs.show_issues([m for m, _ in heir_messages], color)
        self._show_warnings_panel(warnings)

    @staticmethod
    def _set_issue_label(label: QLabel, items: list[tuple[str, str]], append: bool = False):
        if append and label.isVisible() and label.text():
            text = label.text() + "\n" + "\n".join(m for m, _ in items)
        else:
            text = "\n".join(m for m, _ in items)
        color = ERROR_COLOR if any(c == ERROR_COLOR for _, c in items) else WARNING_COLOR
        label.setText(text)
        label.setStyleSheet(f"color: {color};")
        label.setVisible(bool(text))

    def _show_warnings_panel(self, warnings: list[Issue]) -> None:
        codes = sorted({w.code for w in warnings})
        if codes != getattr(self, "_warning_codes", []):
            self.confirm_warnings.setChecked(False)  # new findings need a new confirmation
        self._warning_codes = codes
        if warnings:
            lines = [t("warn.title"), *(f"• {w.message}" for w in warnings)]
            self.warnings_box.setText("\n".join(lines))
        self.warnings_box.setVisible(bool(warnings))
        was_visible = not self.confirm_warnings.isHidden()
        self.confirm_warnings.setVisible(bool(warnings))
        if was_visible != bool(warnings):
            self._rebuild_focus_chain()

    def _reset_messages(self) -> None:
        for label in self._issue_labels.values():
            label.clear()
            label.hide()
        self.nik_verdict.hide()
        self.heirs.show_issues([], WARNING_COLOR)
        self.warnings_box.hide()
        self.confirm_warnings.hide()
        self._warning_codes = []
        self._rebuild_focus_chain()

    def operator_name(self) -> str:
        """Who is recorded on a save: the operator logged in to this window wins; without one,
        the name given, the `operator_name` setting, then the OS user."""
        from ui.session import session_of

        session = session_of(self)
        if session is not None and session.operator is not None:
            return session.display_name
        return self._operator or self._setting("operator_name") or getpass.getuser()

    def submit(self) -> None:
        """Save the record through the worker; on findings, show them and keep the form."""
        if self._saving:
            return
        self._validate_timer.stop()
        self._touched.add("*")  # from now on every error shows
        if self.local_issues():
            self._show_issues()
            self._say(plain("err.fix"), ERROR_COLOR)
            return
        reg = self.to_registration()
        confirmed = set(self._warning_codes) if self.confirm_warnings.isChecked() else set()
        operator = self.operator_name()
        self._saving = True
        self.save_button.setEnabled(False)
        self._validate_seq += 1  # answers to earlier checks are stale now
        self._worker.call(
            lambda r, reg, conf: r.save(reg, operator=operator, confirmed_warnings=conf),
            reg, frozenset(confirmed),
            on_result=self._save_done, on_error=self._save_failed, changes=True,
        )

    def _save_done(self, result: Any) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self._validation = result.validation
        if result.saved:
            self._after_save(result.registration)
            return
        self._show_issues()
        if result.validation.errors:
            self._say(plain("err.fix"), ERROR_COLOR)
            self._focus_first_issue(result.validation.errors)
        else:
            self._say(plain("warn.need_confirm"), WARNING_COLOR)
            self.confirm_warnings.setFocus()

    def _after_save(self, reg: Registration) -> None:
        if self._editing is None:
            key = self.draft_key()
            self._worker.call(lambda r: r.discard_draft(key))
            text = plain("saved.new", name=reg.full_name, nik=mask_nik(reg.nik))
            self.clear()
        else:
            self._editing = reg
            text = plain("saved.correction", name=reg.full_name, nik=mask_nik(reg.nik),
                         version=reg.version)
            self._reset_messages()
        self._say(text, OK_COLOR)
        self.message.emit(text)
        self.saved.emit(reg)

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        errors.show_error(self, exc)

    def _focus_first_issue(self, issues: list[Issue]) -> None:
        widgets = {"nik": self.nik, "full_name": self.full_name, "birth_date": self.birth_date,
                   "birth_place": self.birth_place, "sex": self.sex, "phone": self.phone,
                   "street": self.street, "rt": self.rt, "rw": self.rw,
                   "kecamatan_code": self.kecamatan, "kelurahan_code": self.kelurahan,
                   "postal_code": self.postal_code, "occupation_code": self.occupation,
                   "cohort": self.cohort, "monthly_income": self.income,
                   "consent_given": self.consent, "event_id": self.event}
        for issue in issues:
            if issue.field in widgets:
                widgets[issue.field].setFocus()
                return
            if issue.field.startswith("heirs") and self.heirs.rows:
                self.heirs.rows[0].name.setFocus()
                return

    def _say(self, text: str, color: str) -> None:
        self.feedback.setText(text)
        self.feedback.setStyleSheet(f"color: {color}; font-weight: bold;")

    def _clear_clicked(self) -> None:
        if not self.is_empty():
            if not confirm(self, plain("btn.clear"), t("clear.confirm")):
                return
        if self._editing is None:
            key = self.draft_key()
            self._worker.call(lambda r: r.discard_draft(key))
            self.clear()
        else:
            self.load_registration(self._editing)

    # -- drafts ---------------------------------------------------------------------------

    def save_draft_now(self) -> None:
        """Keep what is typed (only for a new registration; a correction has its record)."""
        if self._editing is not None:
            return
        key = self.draft_key()
        if self.is_empty():
            self._worker.call(lambda r: r.discard_draft(key))
            return
        self._worker.call(lambda r, data: r.save_draft(key, data), self.draft_data())

    def flush_draft(self) -> None:
        """Write a pending draft at once (the window is closing)."""
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self.save_draft_now()

    def draft_key(self) -> str:
        """Drafts belong to their operator: the key names the logged-in operator (the plain
        key without a log-in)."""
        return draft_key_for(self.operator_username())

    def operator_username(self) -> str:
        from ui.session import session_of

        session = session_of(self)
        return session.username if session is not None else ""

    def clear_for_operator_change(self) -> dict | None:
        """The operator leaves (lock, log-out, another operator): keep what is typed as their
        draft and empty the form. Returns the draft (None when nothing was typed)."""
        if self._editing is not None:
            return None
        self._draft_timer.stop()
        data = None if self.is_empty() else self.draft_data()
        self.save_draft_now()
        self.clear()
        return data
