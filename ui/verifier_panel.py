"""The verifier's window (online): the registrations the server received, with filters; one
registration side by side with any it may duplicate; verify, reject with a reason, resolve a
duplicate, fund within the quota with the places left per cohort.

The panel puts the parts together and loads: the list is `ui/verifier_model.py`, the filters
`ui/verifier_filters.py`, what a registration reads like `ui/verifier_detail.py` (pure HTML
from data), the decisions `ui/verifier_decisions.py`, a waiting correction
`ui/verifier_corrections.py`. Every HTTP request runs on the panel's thread pool through
`ui/server_link.py` (a `ui.tasks.Tasks`); results come back to the main thread through a queued
signal, and only the latest request of each kind is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from storage.regions import load_regions
from storage.vocabulary import REJECT_REASONS
from sync import enrol as enrolment
from sync import verifier as api
from ui import verifier_confirm
from ui.labels import t
from ui.server_link import OnlineTab, ServerLink
from ui.session import Session
from ui.tables import list_table
from ui.verifier_corrections import CorrectionBox, WrappedLabel
from ui.verifier_decisions import DecisionBar, Decisions
from ui.verifier_detail import Names, correction_html, detail_html, others_html, quota_text
from ui.verifier_filters import VerifierFilters
from ui.verifier_model import COLUMN_WIDTHS, SummaryModel

PAGE = 100


def _lookups(registry) -> dict:
    """What the filters and labels need from the local database (on the writer thread)."""
    return {
        "client": enrolment.client_for(registry) if enrolment.is_enrolled(registry) else None,
        "occupations": {o.code: o.name for o in registry.occupations(include_inactive=True)},
        "events": {e.id: e.name for e in registry.events()},
    }


def _row(stretched: QWidget, *rest: QWidget) -> QHBoxLayout:
    """A line of widgets, the first taking the room left."""
    row = QHBoxLayout()
    row.addWidget(stretched, 1)
    for widget in rest:
        row.addWidget(widget)
    return row


class VerifierPanel(Decisions, OnlineTab, QWidget):
    """`VerifierPanel(worker)`. `reload()` fetches the list, the quota and the reasons;
    `open_registration(id)` shows one; the decision methods act on the one shown."""

    decided = Signal(str, str)  # registration id, new status

    def __init__(self, worker: Any, parent: QWidget | None = None, *,
                 session: Session | None = None):
        super().__init__(parent)
        self.worker = worker
        self._session = session  # else the window's, found through the parents
        # Asks before a decision; replaced in tests. (title, text, yes_label) -> bool
        self.confirm: Callable[[str, str, str], bool] = (
            lambda title, text, yes: verifier_confirm.ask(self, title, text, yes))
        self.names = Names(load_regions())
        self.reject_reasons: dict[str, str] = dict(REJECT_REASONS)
        self.offset = 0
        self.total = 0
        self.detail: dict | None = None  # the registration shown, as the server last sent it
        self.duplicates: list[dict] = []
        self.conflicts: list[dict] = []
        self.correction: dict | None = None  # the correction waiting on the one shown
        self.message = WrappedLabel("", self)  # what the server answered, or why not
        self.message.setObjectName("verifier_message")
        self.message.setWordWrap(True)
        self.link = ServerLink(self, self.message, "ver")
        self._loaded = False
        self._build()
        self.filters.changed.connect(self._filters_changed)
        self.apply_roles()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """The first time the tab is shown: connect and load (no network before that)."""
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.reload()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_top())
        self.filters = VerifierFilters(self.names.regions, self)
        layout.addWidget(self.filters)
        self._name_filters()
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self._build_list())
        splitter.addWidget(self._build_detail())
        # The list gets as much room as the detail: at 1366×768 about ten rows show.
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 380])
        self.splitter = splitter
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)

    def _build_top(self) -> QHBoxLayout:
        self.quota_label = WrappedLabel(t("ver.quota_loading"), self)
        self.quota_label.setObjectName("quota_label")
        self.quota_label.setWordWrap(True)
        # Who decides: the logged-in operator, shown, never typed.
        self.who_label = QLabel("", self)
        self.who_label.setObjectName("verifier_who")
        self.reload_button = QPushButton(t("ver.reload"), self)
        self.reload_button.clicked.connect(self.reload)
        return _row(self.quota_label, self.who_label, self.reload_button)

    def _name_filters(self) -> None:
        """The filters' widgets under the names the window's scripts and tests use."""
        for name in ("kecamatan_combo", "kelurahan_combo", "cohort_combo", "occupation_combo",
                     "event_combo", "status_combo", "duplicate_check", "correction_check",
                     "search_edit"):
            setattr(self, name, getattr(self.filters, name))

    def _build_list(self) -> QWidget:
        holder = QWidget(self)
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model = SummaryModel(self.names, self)
        self.table = QTableView(holder)
        self.table.setObjectName("verifier_table")
        self.table.setModel(self.model)
        # Fixed starting widths the verifier may drag: the name is never squeezed by a long
        # note or kegiatan, which are cut with "…" and shown whole in the detail.
        list_table(self.table, COLUMN_WIDTHS)
        self.table.selectionModel().currentRowChanged.connect(self._row_selected)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._build_paging(holder))
        return holder

    def _build_paging(self, holder: QWidget) -> QHBoxLayout:
        self.prev_button = QPushButton(t("ver.prev"), holder)
        self.prev_button.clicked.connect(lambda: self._page(-PAGE))
        self.next_button = QPushButton(t("ver.next"), holder)
        self.next_button.clicked.connect(lambda: self._page(PAGE))
        self.page_label = QLabel("", holder)
        return _row(self.page_label, self.prev_button, self.next_button)

    def _build_detail(self) -> QWidget:
        holder = QWidget(self)
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        sides = QSplitter(Qt.Orientation.Horizontal, holder)
        self.this_view = QTextBrowser(sides)
        self.this_view.setObjectName("this_registration")
        self.other_view = QTextBrowser(sides)
        self.other_view.setObjectName("possible_duplicates")
        sides.addWidget(self.this_view)
        sides.addWidget(self.other_view)
        layout.addWidget(sides, 1)
        self.corrections = CorrectionBox(holder)
        self.corrections.approve.connect(self.approve_correction)
        self.corrections.reject.connect(self.reject_correction)
        layout.addWidget(self.corrections)
        # The decisions on the registration itself; hidden while a correction waits (the
        # correction box decides then), so the two versions get the room.
        self.decision_bar = self._build_decisions(holder)
        layout.addWidget(self.decision_bar)
        return holder

    def _build_decisions(self, holder: QWidget) -> DecisionBar:
        bar = DecisionBar(holder)
        bar.fill_reasons(self.reject_reasons)
        bar.verify_button.clicked.connect(self.verify)
        bar.fund_button.clicked.connect(self.fund)
        bar.reason_combo.currentIndexChanged.connect(lambda _i: self.set_actions())
        bar.reject_button.clicked.connect(self.reject)
        bar.resolve_button.clicked.connect(self.resolve_duplicate)
        for name in ("verify_button", "fund_button", "reason_combo", "reason_edit",
                     "reject_button", "keep_combo", "resolve_button"):
            setattr(self, name, getattr(bar, name))
        return bar

    # --- background requests -----------------------------------------------------------------

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Connect (reading this device's enrolment), then fetch reasons, quota and the list."""
        self._loaded = True
        self.worker.call(_lookups, on_result=self._connected)

    def _connected(self, lookups: dict) -> None:
        enrolled = self.link.use(lookups["client"])
        self.names.occupations = lookups["occupations"]
        self.names.events = lookups["events"]
        self.filters.fill_lookup(self.occupation_combo, self.names.occupations)
        self.filters.fill_lookup(self.event_combo, self.names.events)
        if not enrolled:
            return
        self.run("reasons", api.reasons, on_done=self._got_reasons, on_error=lambda e: None)
        # The kegiatan of every device, from the server; this device's own stay meanwhile (and
        # when a server from before GET /events cannot answer).
        self.run("events", api.events, on_done=self._got_events, on_error=lambda e: None)
        self.refresh_quota()
        self.refresh_list()

    def _got_events(self, answer: dict) -> None:
        events = [e for e in answer.get("events", []) if isinstance(e, dict) and e.get("id")]
        if events:
            self.names.events = {**self.names.events,
                                 **{e["id"]: e.get("name") or e["id"] for e in events}}
            self.filters.fill_server_events(events)

    def _got_reasons(self, answer: dict) -> None:
        reasons = {r["code"]: r["label"] for r in answer.get("reject", []) if r.get("code")}
        if reasons:
            self.reject_reasons = reasons
            self.decision_bar.fill_reasons(reasons)
            self.corrections.set_reasons(reasons)

    def refresh_quota(self) -> None:
        self.run("quota", api.quota, on_done=self._got_quota)

    def _got_quota(self, answer: dict) -> None:
        self.quota_label.setText(quota_text(answer))

    def query(self) -> api.RegistrationQuery:
        return self.filters.query()

    def _filters_changed(self) -> None:
        self.offset = 0
        if self.client is not None:
            self.refresh_list()

    def _page(self, step: int) -> None:
        self.offset = max(0, min(self.offset + step, max(0, self.total - 1)))
        self.refresh_list()

    def refresh_list(self) -> None:
        self.run("list", lambda c, q, o: api.list_registrations(c, q, offset=o, limit=PAGE),
                 self.query(), self.offset, on_done=self._got_list)

    def _got_list(self, answer: dict) -> None:
        self.total = int(answer.get("total", 0))
        self.model.set_items(list(answer.get("items", [])))
        shown = len(self.model.items)
        first = self.offset + 1 if shown else 0
        # A province's long lists are counted only so far (server/verifier.py COUNT_AHEAD).
        exact = answer.get("total_exact", True)
        key = "ver.page" if exact else "ver.page_more"
        self.page_label.setText(t(key, first=first, last=self.offset + shown, total=self.total))
        self.prev_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + shown < self.total or not exact)
        if self.detail is not None:
            self._select(self.detail["id"])

    def _select(self, reg_id: str) -> None:
        row = self.model.row_of(reg_id)
        if row is not None:
            self.table.selectionModel().blockSignals(True)
            self.table.selectRow(row)
            self.table.selectionModel().blockSignals(False)

    def cell(self, item: dict, column: int) -> str:
        return self.model.cell(item, column)

    # --- one registration --------------------------------------------------------------------

    def _row_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() < len(self.model.items):
            self.open_registration(self.model.items[current.row()]["id"])

    def open_registration(self, reg_id: str) -> None:
        self.run("detail", api.registration_detail, reg_id, on_done=self.got_detail)

    def got_detail(self, answer: dict) -> None:
        self.detail = answer["registration"]
        self.duplicates = list(answer.get("duplicates", []))
        self.conflicts = list(answer.get("conflicts", [])) if self.detail.get("conflict") else []
        self.correction = answer.get("correction") or None
        self.corrections.show_correction(self.correction, self.detail.get("version", ""))
        events = answer.get("events", [])
        if self.correction:
            left, right = correction_html(self.detail, self.correction, events, self.names)
        else:
            left = detail_html(self.detail, self.names, events=events)
            right = others_html(self.detail, self.duplicates, self.conflicts, self.names)
        self.this_view.setHtml(left)
        self.other_view.setHtml(right)
        self.decision_bar.fill_keep(self.detail, self.duplicates, self.conflicts)
        self.set_actions()

    def set_actions(self) -> None:
        allowed = self.may_decide()
        self.decision_bar.set_actions(self.detail, allowed)
        self.decision_bar.setVisible(not self.correction)
        self.corrections.set_allowed(allowed)

    _set_actions = set_actions  # the name the role tests call

    # --- who decides (the decisions: ui/verifier_decisions.py) ------------------------------

    def apply_roles(self) -> None:
        """The window's operator changed (another one unlocked): show who decides now."""
        self.show_who()
        self.set_actions()
