"""The three sections of the *Klaim & PDP* tab, built onto the panel (its inputs and buttons
become the panel's attributes, which its steps read): the death and the JKM claim, the PDP
requests, the BPJS file. Each button is connected to the panel's step of the same name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from storage.models import HEIR_RELATIONSHIPS
from ui.labels import t, term

if TYPE_CHECKING:
    from ui.claims_panel import ClaimsPanel


def date_edit(parent: QWidget) -> QDateEdit:
    """A day up to today, chosen from a calendar."""
    edit = QDateEdit(QDate.currentDate(), parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd-MM-yyyy")
    edit.setMaximumDate(QDate.currentDate())
    return edit


def day(edit: QDateEdit) -> date:
    return edit.date().toPython()


def _button(key: str) -> Callable[[QWidget], QPushButton]:
    return lambda parent: QPushButton(t(key), parent)


# Each group of the claim: its title, then (label, the panel's attribute, how it is made).
DEATH = ("claims.death", (
    ("claims.died_on", "died_on", date_edit), ("claims.death_place", "death_place", QLineEdit),
    ("claims.certificate", "certificate_no", QLineEdit),
    ("claims.reported_by", "reported_by", QLineEdit),
    ("", "death_button", _button("claims.death_button")),
))
CLAIMANT = ("claims.claimant", (
    ("claims.f.claimant", "claimant_combo", QComboBox), ("claims.f.name", "other_name", QLineEdit),
    ("claims.f.relationship", "other_relationship", QComboBox),
    ("claims.f.reason", "other_reason", QPlainTextEdit),
    ("", "claimant_button", _button("claims.claimant_button")),
))
STEPS = ("claims.steps", (  # submitted, paid, handed over: the day, what is recorded, the button
    ("claims.f.submitted_on", "submitted_on", date_edit),
    ("claims.f.reference", "reference", QLineEdit),
    ("", "submit_button", _button("claims.submit_button")),
    ("claims.f.paid_on", "paid_on", date_edit), ("claims.f.amount", "amount", QSpinBox),
    ("", "paid_button", _button("claims.paid_button")),
    ("claims.f.handed_on", "handed_on", date_edit),
    ("claims.f.received_by", "received_by", QLineEdit),
    ("", "handed_button", _button("claims.handed_button")),
))
# Which of the panel's steps each button runs.
CLAIM_BUTTONS = {"death_button": "record_death", "claimant_button": "choose_claimant",
                 "documents_button": "save_documents", "submit_button": "submit",
                 "paid_button": "paid", "handed_button": "handed_over"}
PDP_BUTTONS = {"copy_button": "make_copy", "withdraw_button": "withdraw",
               "erase_button": "erase"}


def _group(panel: ClaimsPanel, page: QWidget, declared: tuple) -> QGroupBox:
    """A titled form whose inputs become the panel's attributes."""
    title, rows = declared
    box = QGroupBox(t(title), page)
    form = QFormLayout(box)
    for key, name, make in rows:
        widget = make(box)
        setattr(panel, name, widget)
        form.addRow(t(key) if key else "", widget)
    return box


def _connect(panel: ClaimsPanel, buttons: dict[str, str]) -> None:
    for button, step in buttons.items():
        getattr(panel, button).clicked.connect(getattr(panel, step))


def claim_section(panel: ClaimsPanel) -> QWidget:
    """Death, claimant, documents, and the claim's submission, payment and hand-over."""
    page = QWidget(panel)
    layout = QVBoxLayout(page)
    death = _group(panel, page, DEATH)
    panel.reported_by.setPlaceholderText(t("claims.reported_by_hint"))
    panel.claim_label = QLabel(t("claims.choose_member"), page)
    panel.claim_label.setWordWrap(True)
    for widget in (death, panel.claim_label, _claimant(panel, page), _documents(panel, page),
                   _steps(panel, page)):
        layout.addWidget(widget)
    layout.addStretch(1)
    _connect(panel, CLAIM_BUTTONS)
    panel.claimant_combo.currentIndexChanged.connect(panel.claimant_changed)
    return page


def _claimant(panel: ClaimsPanel, page: QWidget) -> QGroupBox:
    claimant = _group(panel, page, CLAIMANT)
    for code in HEIR_RELATIONSHIPS:
        panel.other_relationship.addItem(term("relationship", code), code)
    panel.other_reason.setPlaceholderText(t("claims.other_reason_hint"))
    panel.other_reason.setMaximumHeight(60)
    return claimant


def _documents(panel: ClaimsPanel, page: QWidget) -> QGroupBox:
    docs = QGroupBox(t("claims.documents"), page)
    docs_layout = QVBoxLayout(docs)
    panel.document_boxes = {}
    for doc in panel.documents:
        box = QCheckBox(doc.label, docs)
        panel.document_boxes[doc.code] = box
        docs_layout.addWidget(box)
    panel.documents_button = QPushButton(t("claims.documents_button"), docs)
    docs_layout.addWidget(panel.documents_button)
    return docs


def _steps(panel: ClaimsPanel, page: QWidget) -> QGroupBox:
    steps = _group(panel, page, STEPS)
    panel.amount.setRange(1, 2_000_000_000)
    panel.amount.setSingleStep(1_000_000)
    panel.amount.setValue(panel.benefit)
    panel.amount.setPrefix("Rp ")
    panel.received_by.setPlaceholderText(t("claims.received_by_hint"))
    return steps


def pdp_section(panel: ClaimsPanel) -> QWidget:
    """A copy of everything held, the withdrawal of consent, erasure."""
    page = QWidget(panel)
    layout = QVBoxLayout(page)
    explain = QLabel(t("claims.pdp_explain"), page)
    explain.setWordWrap(True)
    panel.copy_button = QPushButton(t("claims.copy_button"), page)
    panel.withdraw_on = date_edit(page)
    panel.withdraw_button = QPushButton(t("claims.withdraw_button"), page)
    panel.erase_button = QPushButton(t("claims.erase_button"), page)
    form = QFormLayout()
    form.addRow("", panel.copy_button)
    form.addRow(t("claims.f.request_received"), panel.withdraw_on)
    form.addRow("", panel.withdraw_button)
    form.addRow("", panel.erase_button)
    layout.addWidget(explain)
    layout.addLayout(form)
    layout.addStretch(1)
    _connect(panel, PDP_BUTTONS)
    return page


def bpjs_section(panel: ClaimsPanel) -> QWidget:
    """The collective registration file, full or since the last, and BPJS's KPJ answer."""
    page = QWidget(panel)
    layout = QVBoxLayout(page)
    panel.export_full_button = QPushButton(t("claims.export_full"), page)
    panel.export_delta_button = QPushButton(t("claims.export_delta"), page)
    panel.kpj_button = QPushButton(t("claims.kpj_button"), page)
    panel.bpjs_report = QTextBrowser(page)
    for widget in (panel.export_full_button, panel.export_delta_button, panel.kpj_button,
                   panel.bpjs_report):
        layout.addWidget(widget)
    panel.export_full_button.clicked.connect(lambda: panel.export(False))
    panel.export_delta_button.clicked.connect(lambda: panel.export(True))
    panel.kpj_button.clicked.connect(panel.import_kpj)
    return page
