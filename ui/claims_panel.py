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

Every request runs on the panel's thread pool (ui/verifier_calls.py, shared with the verifier's
tab); who does it is the operator logged in to the window, never typed. Death, withdrawal and erasure are asked
once more with *Batal* as the default (ui/verifier_confirm.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from storage import roles
from storage.config import load_program_config
from storage.models import HEIR_RELATIONSHIPS
from storage.vocabulary import show_date
from sync import claims as office
from sync import enrol as enrolment
from sync import verifier as api
from sync.client import SyncClient, SyncError
from ui import verifier_confirm
from ui.labels import TEXT, t, term
from ui.session import Session, session_of
from ui.timefmt import format_date
from ui.verifier_calls import ServerCalls

STATUS_FILTERS = ("funded", "card_printed", "card_handed_over", "died", "inactive")


def _lookup(registry) -> SyncClient | None:
    return enrolment.client_for(registry) if enrolment.is_enrolled(registry) else None


def _rupiah(amount: int | None) -> str:
    return f"Rp{amount or 0:,}".replace(",", ".")


def _relationship(heir: dict) -> str:
    return term("relationship", heir.get("relationship") or "") if heir.get("relationship") else ""


def _stage(claim: dict) -> str:
    """The claim's stage in the window's language (the server's label for one unknown here)."""
    key = f"claims.stage.{claim.get('stage', '')}"
    return t(key) if key in TEXT else claim.get("stage_label", "")


def _date_edit(parent: QWidget) -> QDateEdit:
    edit = QDateEdit(QDate.currentDate(), parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd-MM-yyyy")
    edit.setMaximumDate(QDate.currentDate())
    return edit


def _day(edit: QDateEdit) -> date:
    return edit.date().toPython()


class ClaimsPanel(QWidget):
    """The *Klaim & PDP* tab."""

    def __init__(self, worker: Any, parent: QWidget | None = None, *,
                 session: Session | None = None):
        super().__init__(parent)
        self.worker = worker
        self._session = session
        self.client: SyncClient | None = None
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
        self.calls = ServerCalls(self, self._show_error)
        self._loaded = False
        self._build()
        self.apply_roles()

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.who_label = QLabel("", self)
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
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setObjectName("claims_message")
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        row = QHBoxLayout()
        row.addWidget(self.search_edit, 1)
        row.addWidget(self.status_combo)
        row.addWidget(self.search_button)
        left_layout.addLayout(row)
        left_layout.addWidget(self.results, 1)
        left_layout.addWidget(self.summary, 1)
        self.sections = QTabWidget(self)
        claim_page = QScrollArea(self)  # the claim's steps are taller than a laptop's screen
        claim_page.setWidget(self._claim_section())
        claim_page.setWidgetResizable(True)
        self.sections.addTab(claim_page, t("claims.tab.claim"))
        self.sections.addTab(self._pdp_section(), t("claims.tab.pdp"))
        self.sections.addTab(self._bpjs_section(), t("claims.tab.bpjs"))
        split = QSplitter(self)
        split.addWidget(left)
        split.addWidget(self.sections)
        split.setStretchFactor(1, 1)
        split.setSizes([440, 860])
        layout = QVBoxLayout(self)
        layout.addWidget(self.who_label)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)
        self.search_button.clicked.connect(self.search)
        self.search_edit.returnPressed.connect(self.search)
        self.results.currentRowChanged.connect(self._chosen)

    def _claim_section(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        death = QGroupBox(t("claims.death"), page)
        form = QFormLayout(death)
        self.died_on = _date_edit(death)
        self.death_place = QLineEdit(death)
        self.certificate_no = QLineEdit(death)
        self.reported_by = QLineEdit(death)
        self.reported_by.setPlaceholderText(t("claims.reported_by_hint"))
        self.death_button = QPushButton(t("claims.death_button"), death)
        form.addRow(t("claims.died_on"), self.died_on)
        form.addRow(t("claims.death_place"), self.death_place)
        form.addRow(t("claims.certificate"), self.certificate_no)
        form.addRow(t("claims.reported_by"), self.reported_by)
        form.addRow("", self.death_button)
        self.claim_label = QLabel(t("claims.choose_member"), page)
        self.claim_label.setWordWrap(True)
        claimant = QGroupBox(t("claims.claimant"), page)
        form = QFormLayout(claimant)
        self.claimant_combo = QComboBox(claimant)
        self.other_name = QLineEdit(claimant)
        self.other_relationship = QComboBox(claimant)
        for code in HEIR_RELATIONSHIPS:
            self.other_relationship.addItem(term("relationship", code), code)
        self.other_reason = QPlainTextEdit(claimant)
        self.other_reason.setPlaceholderText(t("claims.other_reason_hint"))
        self.other_reason.setMaximumHeight(60)
        self.claimant_button = QPushButton(t("claims.claimant_button"), claimant)
        form.addRow(t("claims.f.claimant"), self.claimant_combo)
        form.addRow(t("claims.f.name"), self.other_name)
        form.addRow(t("claims.f.relationship"), self.other_relationship)
        form.addRow(t("claims.f.reason"), self.other_reason)
        form.addRow("", self.claimant_button)
        docs = QGroupBox(t("claims.documents"), page)
        docs_layout = QVBoxLayout(docs)
        self.document_boxes: dict[str, QCheckBox] = {}
        for doc in self.documents:
            box = QCheckBox(doc.label, docs)
            self.document_boxes[doc.code] = box
            docs_layout.addWidget(box)
        self.documents_button = QPushButton(t("claims.documents_button"), docs)
        docs_layout.addWidget(self.documents_button)
        steps = QGroupBox(t("claims.steps"), page)
        form = QFormLayout(steps)
        self.submitted_on, self.reference = _date_edit(steps), QLineEdit(steps)
        self.submit_button = QPushButton(t("claims.submit_button"), steps)
        self.paid_on, self.amount = _date_edit(steps), QSpinBox(steps)
        self.amount.setRange(1, 2_000_000_000)
        self.amount.setSingleStep(1_000_000)
        self.amount.setValue(self.benefit)
        self.amount.setPrefix("Rp ")
        self.paid_button = QPushButton(t("claims.paid_button"), steps)
        self.handed_on, self.received_by = _date_edit(steps), QLineEdit(steps)
        self.received_by.setPlaceholderText(t("claims.received_by_hint"))
        self.handed_button = QPushButton(t("claims.handed_button"), steps)
        form.addRow(t("claims.f.submitted_on"), self.submitted_on)
        form.addRow(t("claims.f.reference"), self.reference)
        form.addRow("", self.submit_button)
        form.addRow(t("claims.f.paid_on"), self.paid_on)
        form.addRow(t("claims.f.amount"), self.amount)
        form.addRow("", self.paid_button)
        form.addRow(t("claims.f.handed_on"), self.handed_on)
        form.addRow(t("claims.f.received_by"), self.received_by)
        form.addRow("", self.handed_button)
        for widget in (death, self.claim_label, claimant, docs, steps):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.death_button.clicked.connect(self.record_death)
        self.claimant_button.clicked.connect(self.choose_claimant)
        self.documents_button.clicked.connect(self.save_documents)
        self.submit_button.clicked.connect(self.submit)
        self.paid_button.clicked.connect(self.paid)
        self.handed_button.clicked.connect(self.handed_over)
        self.claimant_combo.currentIndexChanged.connect(self._claimant_changed)
        return page

    def _pdp_section(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        explain = QLabel(t("claims.pdp_explain"), page)
        explain.setWordWrap(True)
        self.copy_button = QPushButton(t("claims.copy_button"), page)
        self.withdraw_on = _date_edit(page)
        self.withdraw_button = QPushButton(t("claims.withdraw_button"), page)
        self.erase_button = QPushButton(t("claims.erase_button"), page)
        form = QFormLayout()
        form.addRow("", self.copy_button)
        form.addRow(t("claims.f.request_received"), self.withdraw_on)
        form.addRow("", self.withdraw_button)
        form.addRow("", self.erase_button)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addStretch(1)
        self.copy_button.clicked.connect(self.make_copy)
        self.withdraw_button.clicked.connect(self.withdraw)
        self.erase_button.clicked.connect(self.erase)
        return page

    def _bpjs_section(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.export_full_button = QPushButton(t("claims.export_full"), page)
        self.export_delta_button = QPushButton(t("claims.export_delta"), page)
        self.kpj_button = QPushButton(t("claims.kpj_button"), page)
        self.bpjs_report = QTextBrowser(page)
        for widget in (self.export_full_button, self.export_delta_button, self.kpj_button,
                       self.bpjs_report):
            layout.addWidget(widget)
        self.export_full_button.clicked.connect(lambda: self.export(False))
        self.export_delta_button.clicked.connect(lambda: self.export(True))
        self.kpj_button.clicked.connect(self.import_kpj)
        return page

    # --- who acts ----------------------------------------------------------------------------

    def session(self) -> Session | None:
        return self._session or session_of(self)

    def may_act(self) -> bool:
        session = self.session()
        return session is not None and session.operator is not None and session.may(
            roles.VERIFY)

    def apply_roles(self) -> None:
        session = self.session()
        if session is None or session.operator is None:
            self.who_label.setText(t("claims.not_logged_in"))
        else:
            self.who_label.setText(t("claims.who", name=session.display_name,
                                     username=session.username))
        self._set_actions()

    def _operator(self) -> dict[str, str]:
        return self.session().operator_ref()

    # --- requests ------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._loaded:
            self.reload()

    def reload(self) -> None:
        self._loaded = True
        self.worker.call(_lookup, on_result=self._connected)

    def _connected(self, client: SyncClient | None) -> None:
        if self.client is not None:
            self.client.close()
        self.client = client
        if client is None:
            self._say(t("claims.not_enrolled"), error=True)
            return
        self.search()

    def shutdown(self) -> None:
        self.calls.wait()
        if self.client is not None:
            self.client.close()

    def _run(self, kind: str, fn: Callable, *args: Any, on_done: Callable,
             on_error: Callable | None = None) -> None:
        if self.client is None:
            self._say(t("claims.not_enrolled"), error=True)
            return
        self.calls.run(kind, fn, (self.client, *args), on_done=on_done, on_error=on_error)

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, SyncError):
            self._say(exc.message, error=True)
        else:
            self._say(t("claims.failed", kind=type(exc).__name__), error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)

    # --- finding a registration ------------------------------------------------------------------

    def search(self) -> None:
        query = api.RegistrationQuery(q=self.search_edit.text().strip(),
                                      status=self.status_combo.currentData() or "")
        self._run("list", api.list_registrations, query, on_done=self._listed)

    def _listed(self, page: dict) -> None:
        self.items = page.get("items", [])
        self.results.clear()
        for item in self.items:
            status = term("status", item["status"])
            QListWidgetItem(f"{item['full_name']} · {item['nik_masked']} · {status}"
                            f"{' · ' + item['member_number'] if item['member_number'] else ''}",
                            self.results)
        self._say(t("claims.found", n=page.get("total", 0)))

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.items):
            self.open(self.items[row]["id"])

    def open(self, record_id: str) -> None:
        self._run("detail", api.registration_detail, record_id, on_done=self._opened)

    def _opened(self, body: dict) -> None:
        # Shown together with its claim (or none), so that the buttons never act on a
        # registration whose claim is not known yet.
        registration = body["registration"]
        self._run("claim", office.claim, registration["id"],
                  on_done=lambda claim: self._got_claim(registration, claim),
                  on_error=lambda exc: self._no_claim(registration, exc))

    def _no_claim(self, registration: dict, exc: BaseException) -> None:
        if getattr(exc, "code", "") == "claim.not_found":  # no death recorded: no claim yet
            self._got_claim(registration, None)
        else:
            self._show_error(exc)

    def _got_claim(self, registration: dict, claim: dict | None) -> None:
        self.detail, self.claim = registration, claim
        self._show()

    def _show(self) -> None:
        reg, claim = self.detail or {}, self.claim
        data = reg.get("data") or {}
        heirs = data.get("heirs") or []
        status = term("status", reg.get("status", ""))
        named = ", ".join(f"{h['name']} ({_relationship(h)})" for h in heirs) or "—"
        lines = [f"<h3>{reg.get('full_name', '')}</h3>",
                 f"NIK {reg.get('nik_masked', '')} · {status} {reg.get('status_reason', '')}",
                 f"<br>{t('claims.member_number', number=reg.get('member_number') or '—')}",
                 f"<br>{t('claims.heirs', heirs=named)}"]
        self.summary.setHtml("".join(lines))
        self.claimant_combo.blockSignals(True)
        self.claimant_combo.clear()
        for position, heir in enumerate(heirs):
            self.claimant_combo.addItem(
                f"{heir['name']} ({_relationship(heir)})", position)
        self.claimant_combo.addItem(t("claims.other_person"), None)
        self.claimant_combo.blockSignals(False)
        self._claimant_changed()
        if claim is None:
            self.claim_label.setText(t("claims.no_death"))
        else:
            done = sum(1 for d in claim["checklist"] if d["checked"])
            text = t("claims.claim_line", stage=_stage(claim), day=format_date(claim["died_on"]),
                     done=done, total=len(claim["checklist"]))
            if claim["claimant_name"]:
                text += t("claims.claim_claimant", name=claim["claimant_name"])
            if claim["amount"]:
                text += t("claims.claim_paid", amount=_rupiah(claim["amount"]))
            self.claim_label.setText(text)
            for item in claim["checklist"]:
                if item["code"] in self.document_boxes:
                    self.document_boxes[item["code"]].setChecked(item["checked"])
        self._set_actions()

    def _claimant_changed(self) -> None:
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

    def _guard(self) -> bool:
        if not self.may_act():
            self._say(t("claims.not_allowed"), error=True)
            return False
        if self.detail is None:
            self._say(t("claims.choose_first"), error=True)
            return False
        return True

    def _claim_step(self, fn: Callable, *args: Any, **kw: Any) -> None:
        """Send one claim step; the answer is the claim, shown at once."""
        self._say(t("claims.sending"))
        operator, record_id = self._operator(), self.detail["id"]

        def call(client):
            return fn(client, record_id, *args, operator=operator, **kw)

        self._run("step", call, on_done=self._stepped)

    def _stepped(self, claim: dict) -> None:
        self._say(t("claims.saved", stage=_stage(claim)))
        self.open(self.detail["id"])

    # --- the claim ---------------------------------------------------------------------------

    def record_death(self) -> None:
        if not self._guard():
            return
        fields = (self.death_place.text().strip(), self.certificate_no.text().strip(),
                  self.reported_by.text().strip())
        if not all(fields):
            self._say(t("claims.fill_death"), error=True)
            return
        day = _day(self.died_on)
        text = t("claims.confirm.death", who=verifier_confirm.who(self.detail), day=show_date(day))
        if not self.confirm(t("claims.ask.death"), text, t("claims.yes.record")):
            return
        self._claim_step(office.record_death, self.detail["revision"], died_on=day,
                         place=fields[0], certificate_no=fields[1], reported_by=fields[2])

    def choose_claimant(self) -> None:
        if not self._guard():
            return
        position = self.claimant_combo.currentData()
        if position is not None:
            self._claim_step(office.choose_claimant, heir_position=int(position))
            return
        self._claim_step(office.choose_claimant, name=self.other_name.text(),
                         relationship=self.other_relationship.currentData(),
                         reason=self.other_reason.toPlainText())

    def save_documents(self) -> None:
        if self._guard():
            self._claim_step(office.check_documents,
                             {code: box.isChecked() for code, box in self.document_boxes.items()})

    def submit(self) -> None:
        if self._guard():
            self._claim_step(office.submit_claim, submitted_on=_day(self.submitted_on),
                             reference=self.reference.text().strip())

    def paid(self) -> None:
        if self._guard():
            self._claim_step(office.claim_paid, paid_on=_day(self.paid_on),
                             amount=self.amount.value())

    def handed_over(self) -> None:
        if self._guard():
            self._claim_step(office.claim_handed_over, handed_over_on=_day(self.handed_on),
                             received_by=self.received_by.text().strip())

    # --- PDP ---------------------------------------------------------------------------------

    def make_copy(self) -> None:
        if not self._guard():
            return
        path = self.ask_save_path(t("claims.copy_title"), t("claims.copy_name"))
        if not path:
            return
        operator, record_id = self._operator(), self.detail["id"]

        def call(client):
            Path(path).write_bytes(office.pdp_copy(client, record_id, operator=operator))
            return path

        self._run("copy", call, on_done=lambda p: self._say(t("claims.copy_saved", path=p)))

    def withdraw(self) -> None:
        if not self._guard():
            return
        day = _day(self.withdraw_on)
        text = t("claims.confirm.withdraw", who=verifier_confirm.who(self.detail))
        if not self.confirm(t("claims.ask.withdraw"), text, t("claims.yes.record")):
            return
        operator, record_id, revision = self._operator(), self.detail["id"], self.detail["revision"]
        self._run("withdraw", lambda client: office.withdraw_consent(
            client, record_id, revision, received_on=day, operator=operator),
            on_done=lambda r: (self._say(t("claims.withdrawn", day=format_date(r["ends_on"]))),
                               self.open(record_id)))

    def erase(self) -> None:
        if not self._guard():
            return
        text = t("claims.confirm.erase", who=verifier_confirm.who(self.detail))
        if not self.confirm(t("claims.ask.erase"), text, t("claims.yes.erase")):
            return
        operator, record_id = self._operator(), self.detail["id"]
        self._run("erase", lambda client: office.erase(client, record_id, operator=operator),
                  on_done=lambda _r: (self._say(t("claims.erased")), self.open(record_id)))

    # --- the BPJS file -----------------------------------------------------------------------

    def export(self, since_last: bool) -> None:
        if not self.may_act():
            self._say(t("claims.not_allowed"), error=True)
            return
        name = t("claims.export_name_delta" if since_last else "claims.export_name_full",
                 day=f"{date.today():%Y-%m-%d}")
        path = self.ask_save_path(t("claims.export_title"), name)
        if not path:
            return
        operator = self._operator()

        def call(client):
            done = office.bpjs_export(client, operator=operator, since_last=since_last)
            Path(path).write_bytes(done.content)
            return done.headers.get("x-export-rows", "0"), done.sha256

        self._run("export", call, on_done=lambda r: self.bpjs_report.setPlainText(
            t("claims.exported", path=path, rows=r[0], sha=r[1])))

    def import_kpj(self) -> None:
        if not self.may_act():
            self._say(t("claims.not_allowed"), error=True)
            return
        path = self.ask_open_path(t("claims.kpj_title"))
        if not path:
            return
        operator = self._operator()
        self._run("kpj", lambda client: office.kpj_import(client, path, operator=operator),
                  on_done=self._kpj_done)

    def _kpj_done(self, done: dict) -> None:
        lines = [t("claims.kpj_done", rows=done["rows"], taken=done["taken"],
                   unchanged=done["unchanged"], refused=len(done["refused"]))]
        for item in done["refused"]:
            who = item["nik_masked"] or item["member_number"] or "-"
            lines.append(t("claims.kpj_refused", line=item["line"], who=who,
                           kpj=item["kpj"] or "-", message=item["message"]))
        self.bpjs_report.setPlainText("\n".join(lines))
