"""Where the registration form's widgets stand: personal data and address on the left; work,
heirs, consent and kegiatan on the right; each field with its findings under it; the warnings,
their confirmation and the buttons below. The widgets themselves are made by the form from its
declarations (ui/form_declarations.py)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QBoxLayout,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ui.labels import t


def build_layout(form: Any) -> None:
    place = _Placer(form)
    left = _column(place.person(), place.address())
    right = _column(place.work(), place.heirs(), place.consent())
    columns = QHBoxLayout()
    # The right column holds the heirs' row (name, relationship, phone, NIK): it gets more.
    columns.addLayout(left, 2)
    columns.addLayout(right, 3)

    buttons = QHBoxLayout()
    buttons.addWidget(form.feedback, 1)
    buttons.addWidget(form.clear_button)
    buttons.addWidget(form.save_button)

    outer = QVBoxLayout(form)
    outer.addLayout(columns)
    outer.addWidget(form._issue_labels[""])
    outer.addWidget(form.warnings_box)
    outer.addWidget(form.confirm_warnings)
    outer.addLayout(buttons)


def _column(*groups: QWidget) -> QBoxLayout:
    column = QVBoxLayout()
    for group in groups:
        column.addWidget(group)
    column.addStretch(1)
    return column


class _Placer:
    """Builds the form's groups; each field's row holds the field and its findings' labels."""

    def __init__(self, form: Any):
        self.form = form

    def with_issues(self, widget: QWidget, *fields: str, extra: QWidget | None = None) -> QWidget:
        box = QWidget(self.form)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        if extra is not None:
            column.addWidget(extra)
        for field_name in fields:
            column.addWidget(self.form._issue_labels[field_name])
        return box

    def row(self, *widgets: QWidget) -> QWidget:
        """Widgets side by side, kept at their own width."""
        box = QWidget(self.form)
        line = QHBoxLayout(box)
        line.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            line.addWidget(widget)
        line.addStretch(1)
        return box

    def group(self, title: str, *rows: tuple[str, QWidget]) -> QGroupBox:
        box = QGroupBox(t(title), self.form)
        form = QFormLayout(box)
        for label, widget in rows:
            form.addRow(t(label), widget)
        return box

    def person(self) -> QGroupBox:
        f, issues, row = self.form, self.with_issues, self.row
        return self.group(
            "section.person",
            ("f.nik", issues(f.nik, "nik", extra=f.nik_verdict)),
            ("f.full_name", issues(f.full_name, "full_name")),
            ("f.birth_place", issues(f.birth_place, "birth_place")),
            ("f.birth_date", issues(row(f.birth_date), "birth_date")),
            ("f.sex", issues(row(f.sex), "sex")),
            ("f.phone", issues(f.phone, "phone")))

    def address(self) -> QGroupBox:
        f, issues, row = self.form, self.with_issues, self.row
        return self.group(
            "section.address",
            ("f.street", issues(f.street, "street")),
            ("f.rt_rw", issues(row(f.rt, QLabel("/"), f.rw), "rt", "rw")),
            ("f.kecamatan", issues(f.kecamatan, "kecamatan_code")),
            ("f.kelurahan", issues(f.kelurahan, "kelurahan_code")),
            ("f.postal_code", issues(row(f.postal_code), "postal_code")))

    def work(self) -> QGroupBox:
        f, issues = self.form, self.with_issues
        return self.group(
            "section.work",
            ("f.occupation", issues(f.occupation, "occupation_code")),
            ("f.cohort", issues(f.cohort, "cohort")),
            ("f.income", issues(f.income, "monthly_income")))

    def heirs(self) -> QGroupBox:
        box = QGroupBox(t("section.heirs"), self.form)
        QVBoxLayout(box).addWidget(self.form.heirs)
        return box

    def consent(self) -> QGroupBox:
        f, issues, row = self.form, self.with_issues, self.row
        return self.group(
            "section.consent",
            ("f.consent", issues(f.consent, "consent_given",
                                 extra=row(f.consent_version, f.consent_view))),
            ("f.event", issues(row(f.event, f.event_new), "event_id")),
            ("f.notes", issues(f.notes, "notes")))
