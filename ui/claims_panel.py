"""*Klaim & PDP*: the programme office's tab for verifiers and admins (online).

Find a registration on the server (name, status), then:

- **Kematian & klaim JKM**: record the member's death (date, place, death certificate number,
  who reported it), choose the claimant from the registered heirs (another person only with a
  written reason), tick the documents the branch asks for, and record the submission to BPJS,
  the payment (Rp42,000,000 unless BPJS paid another amount) and the hand-over.
- **Permintaan PDP**: a copy of everything held about the person (a PDF saved where the
  verifier chooses, for the person), the withdrawal of consent, and erasure (refused by the
  server, with the date it becomes possible, before the retention period).
- **Berkas BPJS**: the collective registration file (full, or the changes since the last one)
  and BPJS's answer with the KPJ numbers (rows that match nobody, or are refused, are listed).

The panel finds and shows a registration and says who may act; its sections are built by
`ui/claims_sections.py`, their buttons run `ui/claims_steps.py`, its texts are
`ui/claims_text.py` (pure). Every request runs on the panel's thread pool through
`ui/server_link.py`, as in the verifier's tab; who does it is the operator logged in to the
window, never typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from storage import roles
from storage.config import load_program_config
from sync import claims as office
from sync import enrol as enrolment
from sync import verifier as api
from sync.client import SyncClient
from ui import claims_sections, verifier_confirm
from ui.claims_steps import ClaimSteps
from ui.claims_text import claim_text, heir_label, result_line, summary_html
from ui.labels import t, term
from ui.server_link import OnlineTab, ServerLink
from ui.session import Session

STATUS_FILTERS = ("funded", "card_printed", "card_handed_over", "died", "inactive")


def _lookup(registry) -> SyncClient | None:
    return enrolment.client_for(registry) if enrolment.is_enrolled(registry) else None


class ClaimsPanel(ClaimSteps, OnlineTab, QWidget):
    """The *Klaim & PDP* tab."""

    def __init__(self, worker: Any, parent: QWidget | None = None, *,
                 session: Session | None = None):
        super().__init__(parent)
        self.worker = worker
        self._session = session
        self.detail: dict | None = None  # the registration chosen, as the server sent it
        self.claim: dict | None = None
        self.items: list[dict] = []
        office_config = load_program_config().office
        self.documents = office_config.claim_documents
        self.benefit = office_config.jkm_benefit_rupiah
        # Replaced in tests: (title, text, yes) -> bool; (caption, name) -> path or "".
        self.confirm: Callable[[str, str, str], bool] = (
            lambda title, text, yes: verifier_confirm.ask(self, title, text, yes))
        self.ask_save_path: Callable[[str, str], str] = lambda caption, name: (
            QFileDialog.getSaveFileName(self, caption, name)[0])
        self.ask_open_path: Callable[[str], str] = lambda caption: QFileDialog.getOpenFileName(
            self, caption, "", t("claims.kpj_filter"))[0]
        self.message = QLabel("", self)  # what the server answered, or why not
        self.message.setWordWrap(True)
        self.message.setObjectName("claims_message")
        self.link = ServerLink(self, self.message, "claims")
        self._loaded = False
        self._build()
        self.apply_roles()

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.who_label = QLabel("", self)
        split = QSplitter(self)
        split.addWidget(self._build_search())
        split.addWidget(self._build_sections())
        split.setStretchFactor(1, 1)
        split.setSizes([440, 860])
        layout = QVBoxLayout(self)
        layout.addWidget(self.who_label)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

    def _build_search(self) -> QWidget:
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(t("claims.search"))
        self.status_combo = QComboBox(self)
        self.status_combo.addItem(t("claims.all_statuses"), "")
        for code in STATUS_FILTERS:
            self.status_combo.addItem(term("status", code), code)
        self.search_button = QPushButton(t("claims.search_button"), self)
        self.results = QListWidget(self)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.summary = QTextBrowser(self)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        row = QHBoxLayout()
        row.addWidget(self.search_edit, 1)
        row.addWidget(self.status_combo)
        row.addWidget(self.search_button)
        left_layout.addLayout(row)
        left_layout.addWidget(self.results, 1)
        left_layout.addWidget(self.summary, 1)
        self.search_button.clicked.connect(self.search)
        self.search_edit.returnPressed.connect(self.search)
        self.results.currentRowChanged.connect(self._chosen)
        return left

    def _build_sections(self) -> QTabWidget:
        self.sections = QTabWidget(self)
        claim_page = QScrollArea(self)  # the claim's steps are taller than a laptop's screen
        claim_page.setWidget(claims_sections.claim_section(self))
        claim_page.setWidgetResizable(True)
        self.sections.addTab(claim_page, t("claims.tab.claim"))
        self.sections.addTab(claims_sections.pdp_section(self), t("claims.tab.pdp"))
        self.sections.addTab(claims_sections.bpjs_section(self), t("claims.tab.bpjs"))
        return self.sections

    # --- who acts ----------------------------------------------------------------------------

    def may_act(self) -> bool:
        session = self.session()
        return session is not None and session.operator is not None and session.may(
            roles.VERIFY)

    def apply_roles(self) -> None:
        self.show_who()
        self._set_actions()

    def operator(self) -> dict[str, str]:
        return self.session().operator_ref()

    def guard(self) -> bool:
        """True when the operator may act on a chosen registration; else says why not."""
        if not self.may_act():
            self.say(t("claims.not_allowed"), error=True)
            return False
        if self.detail is None:
            self.say(t("claims.choose_first"), error=True)
            return False
        return True

    # --- requests ------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._loaded:
            self.reload()

    def reload(self) -> None:
        self._loaded = True
        self.worker.call(_lookup, on_result=self._connected)

    def _connected(self, client: SyncClient | None) -> None:
        if self.link.use(client):
            self.search()

    # --- finding a registration ------------------------------------------------------------------

    def search(self) -> None:
        query = api.RegistrationQuery(q=self.search_edit.text().strip(),
                                      status=self.status_combo.currentData() or "")
        self.run("list", api.list_registrations, query, on_done=self._listed)

    def _listed(self, page: dict) -> None:
        self.items = page.get("items", [])
        self.results.clear()
        for item in self.items:
            QListWidgetItem(result_line(item), self.results)
        self.say(t("claims.found", n=page.get("total", 0)))

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.items):
            self.open(self.items[row]["id"])

    def open(self, record_id: str) -> None:
        self.run("detail", api.registration_detail, record_id, on_done=self._opened)

    def _opened(self, body: dict) -> None:
        # Shown together with its claim (or none), so that the buttons never act on a
        # registration whose claim is not known yet.
        registration = body["registration"]
        self.run("claim", office.claim, registration["id"],
                 on_done=lambda claim: self._got_claim(registration, claim),
                 on_error=lambda exc: self._no_claim(registration, exc))

    def _no_claim(self, registration: dict, exc: BaseException) -> None:
        if getattr(exc, "code", "") == "claim.not_found":  # no death recorded: no claim yet
            self._got_claim(registration, None)
        else:
            self.show_error(exc)

    def _got_claim(self, registration: dict, claim: dict | None) -> None:
        self.detail, self.claim = registration, claim
        self._show()

    def _show(self) -> None:
        reg, claim = self.detail or {}, self.claim
        self.summary.setHtml(summary_html(reg))
        self._fill_claimants((reg.get("data") or {}).get("heirs") or [])
        self.claim_label.setText(claim_text(claim))
        for item in (claim or {}).get("checklist", []):
            if item["code"] in self.document_boxes:
                self.document_boxes[item["code"]].setChecked(item["checked"])
        self._set_actions()

    def _fill_claimants(self, heirs: list[dict]) -> None:
        """The registered heirs by position, then another person."""
        self.claimant_combo.blockSignals(True)
        self.claimant_combo.clear()
        for position, heir in enumerate(heirs):
            self.claimant_combo.addItem(heir_label(heir), position)
        self.claimant_combo.addItem(t("claims.other_person"), None)
        self.claimant_combo.blockSignals(False)
        self.claimant_changed()

    def claimant_changed(self) -> None:
        other = self.claimant_combo.currentData() is None
        for widget in (self.other_name, self.other_relationship, self.other_reason):
            widget.setEnabled(other)

    def _set_actions(self) -> None:
        allowed = self.may_act()
        chosen = self.detail is not None
        stage = (self.claim or {}).get("stage", "")
        member = bool((self.detail or {}).get("member_number"))
        open_claim = stage in ("death_recorded", "claimant_chosen")
        self.death_button.setEnabled(allowed and chosen and self.claim is None)
        self.claimant_button.setEnabled(allowed and member and open_claim)
        self.documents_button.setEnabled(allowed and member and open_claim)
        self.submit_button.setEnabled(allowed and stage == "claimant_chosen")
        self.paid_button.setEnabled(allowed and stage == "submitted")
        self.handed_button.setEnabled(allowed and stage == "paid")
        for button in (self.copy_button, self.withdraw_button, self.erase_button):
            button.setEnabled(allowed and chosen)
        for button in (self.export_full_button, self.export_delta_button, self.kpj_button):
            button.setEnabled(allowed)
