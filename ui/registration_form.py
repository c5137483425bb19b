"""The registration form, keyboard first.

Its fields are declared once (ui/form_declarations.py); reading the record, loading one, the
draft and clearing walk those declarations. The parts of the form live beside it, mixed into
`RegistrationForm`: where the widgets stand (ui/form_layout.py), the keyboard path
(ui/form_keyboard.py), what the NIK, the kelurahan and the occupation fill by themselves
(ui/form_behaviours.py), the consent and kegiatan (ui/form_event_consent.py), the findings
(ui/form_issues.py), and saving and drafts (ui/form_saving.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton, QWidget

from storage.models import Registration, ValidationResult
from storage.vocabulary import local_now_iso
from ui.form_behaviours import WARNING_COLOR, FieldBehaviours, occupation_cohorts
from ui.form_declarations import FIELDS, Field, has_input
from ui.form_event_consent import EventAndConsent, consent_info
from ui.form_issues import FormIssues
from ui.form_keyboard import FormKeyboard
from ui.form_layout import build_layout
from ui.form_saving import DRAFT_KEY, FormSaving, draft_key_for
from ui.labels import t

__all__ = ["DRAFT_KEY", "RegistrationForm", "consent_info", "draft_key_for"]

DRAFT_DELAY_MS = 500
VALIDATE_DELAY_MS = 300


class RegistrationForm(FormKeyboard, FieldBehaviours, EventAndConsent, FormIssues, FormSaving,
                       QWidget):
    """Registers a new worker, or (with `editing`) corrects one: a correction is a new version.

    Each declared field's widget is the form's attribute of that name (`form.nik`, `form.heirs`);
    the parts mixed in use them by those names."""

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
        self._init_state()
        self._consent_version, self._consent_text = consent_info(self._reader.config)
        self._occupation_cohorts = occupation_cohorts(self._reader.config)

        self._build_fields()
        self._build_controls()
        build_layout(self)
        self._connect()
        self._rebuild_focus_chain()
        self._reset_messages()
        if editing is not None:
            self.load_registration(editing)

    def _init_state(self) -> None:
        self._touched: set[str] = set()
        self._derived: dict[str, str] = {}  # what the NIK filled in, to know if it was changed
        self._validation = ValidationResult()
        self._validate_seq = 0
        self._warning_codes: list[str] = []
        self._saving = False
        self._loading = False
        self._arrived: QObject | None = None  # a field reached by itself (see eventFilter)

    # -- building -------------------------------------------------------------------------

    def _build_fields(self) -> None:
        """The declared fields' widgets, each with its findings' label (by record field)."""
        self._issue_labels: dict[str, QLabel] = {}
        for declared in FIELDS:
            widget = declared.make(self)
            widget.setObjectName(declared.name)
            setattr(self, declared.name, widget)
            if not declared.issues_inside:
                self._issue_labels[declared.record] = self._issue_label(f"{declared.record}_issues")
        self._issue_labels[""] = self._issue_label("_issues")  # findings of no field: last
        self.nik_verdict = self._issue_label("nik_verdict")

    def _build_controls(self) -> None:
        self.consent_version = QLabel(
            t("consent.version", version=self._consent_version) if self._consent_version
            else t("consent.missing"), self)
        self.consent_view = QPushButton(t("consent.view"), self)
        self.event_new = QPushButton(t("event.new"), self)
        self.warnings_box = self._message_label("warnings_box")
        self.warnings_box.setStyleSheet(f"color: {WARNING_COLOR};")
        self.confirm_warnings = QCheckBox(t("warn.confirm"), self)
        self.confirm_warnings.setObjectName("confirm_warnings")
        self.save_button = QPushButton(
            t("btn.save_correction") if self._editing else t("btn.save"), self)
        self.save_button.setDefault(True)
        self.clear_button = QPushButton(
            t("btn.revert") if self._editing else t("btn.clear"), self)
        self.feedback = self._message_label("feedback")
        self._load_events()

    def _message_label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        return label

    def _issue_label(self, name: str) -> QLabel:
        label = self._message_label(name)
        label.hide()
        return label

    def _connect(self) -> None:
        self._connect_fields()
        self._connect_controls()
        changed = getattr(self._worker, "changed", None)
        if changed is not None:  # after every write (a sync or the demo among them)
            changed.connect(self.reload_events)
        self._validate_timer = QTimer(self, singleShot=True, interval=VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS)
        self._draft_timer.timeout.connect(self.save_draft_now)

    def _connect_fields(self) -> None:
        self.nik.textEdited.connect(self._nik_typed)
        for declared in FIELDS:  # every other line edit: a change of that field
            widget = getattr(self, declared.name)
            if isinstance(widget, QLineEdit) and declared.name != "nik":
                widget.textEdited.connect(lambda _text, n=declared.name: self._user_changed(n))
        for fixed in (self.rt, self.rw):
            fixed.textEdited.connect(lambda text, w=fixed: self._fixed_length_edited(w, text))
        self.occupation.lineEdit().textEdited.connect(lambda _text: self._occupation_changed())
        self.occupation.lineEdit().returnPressed.connect(self._occupation_return)
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

    def _connect_controls(self) -> None:
        self.consent_view.clicked.connect(self._show_consent_text)
        self.event_new.clicked.connect(self._new_event)
        self.save_button.clicked.connect(self.submit)
        self.clear_button.clicked.connect(self._clear_clicked)
        self.confirm_warnings.toggled.connect(lambda _on: self._rebuild_focus_chain())
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.submit)

    def _setting(self, name: str) -> Any:
        try:
            return self._reader.get_setting(name)
        except Exception:  # noqa: BLE001 - a missing setting is not worth a failure here
            return None

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

    # -- reading and filling, by the declarations -------------------------------------------

    def _widgets(self) -> list[tuple[Field, QWidget]]:
        return [(declared, getattr(self, declared.name)) for declared in FIELDS]

    def to_registration(self) -> Registration:
        """The record as typed (unreadable date or income left empty; see local_issues)."""
        base = self._editing or Registration(nik="", full_name="")
        values = {f.record: f.kind.read(widget) for f, widget in self._widgets()}
        given = values["consent_given"]
        return replace(
            base, **values, operator=self.operator_name(),
            consent_version=self._consent_version if given else (
                base.consent_version if base.consent_given else ""))

    def load_registration(self, reg: Registration) -> None:
        with self._filling():
            for f, widget in self._widgets():
                f.kind.write(widget, getattr(reg, f.record))
        self._rebuild_focus_chain()
        if reg.nik:
            self._nik_edited(self.nik.text())
            self._touched.discard("nik")

    def draft_data(self) -> dict:
        """Everything typed, as text, so that even unreadable input comes back as it was."""
        data: dict[str, Any] = {f.draft_key: f.kind.to_draft(w) for f, w in self._widgets()}
        data.update(saved_at=local_now_iso(), operator=self.operator_name())
        return data

    def apply_draft(self, data: dict) -> None:
        with self._filling():
            for f, widget in self._widgets():
                f.kind.from_draft(widget, data.get(f.draft_key, ""))
        self._rebuild_focus_chain()
        self._touched = {f.name for f in FIELDS
                         if f.kind.touched_by_draft and data.get(f.draft_key)}
        if self.nik.text():
            self._nik_edited(self.nik.text())
        self.validate_now()

    def is_empty(self) -> bool:
        return not any(has_input(f.kind.to_draft(widget))
                       for f, widget in self._widgets() if f.counts)

    def clear(self) -> None:
        """Empty the form for the next person; the current event stays."""
        with self._filling():
            for f, widget in self._widgets():
                if f.kind.clear is not None:  # None: the field stays for the next person
                    f.kind.clear(widget)
            self.confirm_warnings.setChecked(False)
        self._touched.clear()
        self._derived.clear()
        self._validation = ValidationResult()
        self._validate_timer.stop()
        self._draft_timer.stop()
        self._reset_messages()
        self.nik.setFocus()

    @contextmanager
    def _filling(self) -> Iterator[None]:
        """While the form fills its own fields, its reactions to typing stay quiet."""
        self._loading = True
        try:
            yield
        finally:
            self._loading = False
