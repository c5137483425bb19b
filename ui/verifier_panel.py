"""The verifier's window (online): the registrations the server received, with filters; one
registration side by side with any it may duplicate; verify, reject with a reason, resolve a
duplicate, fund within the quota with the places left per cohort.

Every HTTP request runs on the panel's QThreadPool; results come back to the main thread through
a queued signal. A decision carries the revision the verifier saw, so the server refuses it
when the registration changed in the meantime, and the panel says so and reloads it.

Who decides is the operator logged in to the window (ui/session.py), read on the main thread
before the request starts and sent as `{"username", "display_name"}`; nobody types a name. Only
an operator whose role (and this device's role) allows verifying may decide: the buttons are
disabled for anyone else, and the decision methods refuse even when called. *Danai*, *Tolak*
and *Selesaikan duplikat* ask first (ui/verifier_confirm.py), with *Batal* as the default.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from storage import roles
from storage.models import COHORT_LABELS, Status
from storage.regions import load_regions
from storage.vocabulary import REJECT_REASONS
from sync import enrol as enrolment
from sync import verifier as api
from sync.client import SyncClient, SyncError
from ui import verifier_confirm
from ui.labels import TEXT, t, term
from ui.session import Session, session_of
from ui.timefmt import format_date, format_time
from ui.verifier_corrections import (
    CorrectionBox,
    WrappedLabel,
    changed_labels,
    pending_as_detail,
)

PAGE = 100
# The list's columns, titled by the labels "ver.col.<name>".
COLUMNS = ("name", "nik", "kelurahan", "cohort", "occupation", "status", "notes", "event",
           "received")
UNMARKED = frozenset({"version", "received"})  # bookkeeping, never a change to mark
COLUMN_WIDTHS = (220, 125, 115, 105, 115, 115, 135, 140)  # the last column stretches


def _lookups(registry) -> dict:
    """What the filters and labels need from the local database (on the writer thread)."""
    return {
        "client": enrolment.client_for(registry) if enrolment.is_enrolled(registry) else None,
        "occupations": {o.code: o.name for o in registry.occupations(include_inactive=True)},
        "events": {e.id: e.name for e in registry.events()},
    }


class _Relay(QObject):
    """Lives on the main thread; pool jobs emit through it (queued to the main thread)."""

    done = Signal(str, int, object)  # kind, request number, result
    failed = Signal(str, int, object)  # kind, request number, exception


class _Job(QRunnable):
    def __init__(self, relay: _Relay, kind: str, number: int, fn: Callable, args: tuple):
        super().__init__()
        self.relay, self.kind, self.number, self.fn, self.args = relay, kind, number, fn, args

    def run(self) -> None:
        try:
            result = self.fn(*self.args)
        except Exception as exc:  # noqa: BLE001 - handed to the window, never lost on a thread
            self.relay.failed.emit(self.kind, self.number, exc)
        else:
            self.relay.done.emit(self.kind, self.number, result)


class SummaryModel(QAbstractTableModel):
    """One page of summaries from the server (masked NIK only)."""

    def __init__(self, panel: VerifierPanel):
        super().__init__(panel)
        self.panel = panel
        self.items: list[dict] = []

    def set_items(self, items: list[dict]) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's API
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return t(f"ver.col.{COLUMNS[section]}")
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        # The tooltip repeats the cell: a long note or kegiatan cut with "…" reads whole.
        shown = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
        if not index.isValid() or role not in shown:
            return None
        item = self.items[index.row()]
        return self.panel.cell(item, index.column())


class VerifierPanel(QWidget):
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
        self.client: SyncClient | None = None
        self.regions = load_regions()
        self.occupations: dict[str, str] = {}
        self.events: dict[str, str] = {}
        self.reject_reasons: dict[str, str] = dict(REJECT_REASONS)
        self.offset = 0
        self.total = 0
        self.detail: dict | None = None  # the registration shown, as the server last sent it
        self.duplicates: list[dict] = []
        self.conflicts: list[dict] = []
        self.correction: dict | None = None  # the correction waiting on the one shown
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._numbers = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._handlers: dict[str, tuple[Callable, Callable | None]] = {}
        self.relay = _Relay(self)
        self.relay.done.connect(self._job_done)
        self.relay.failed.connect(self._job_failed)
        self._loaded = False
        self._build()
        self._connect_filters()
        self.apply_roles()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """The first time the tab is shown: connect and load (no network before that)."""
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.reload()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.quota_label = WrappedLabel(t("ver.quota_loading"), self)
        self.quota_label.setObjectName("quota_label")
        self.quota_label.setWordWrap(True)
        # Who decides: the logged-in operator, shown, never typed.
        self.who_label = QLabel("", self)
        self.who_label.setObjectName("verifier_who")
        self.reload_button = QPushButton(t("ver.reload"), self)
        self.reload_button.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(self.quota_label, 1)
        top.addWidget(self.who_label)
        top.addWidget(self.reload_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self._build_filters())
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self._build_list())
        splitter.addWidget(self._build_detail())
        # The list gets as much room as the detail: at 1366×768 about ten rows show.
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 380])
        self.splitter = splitter
        layout.addWidget(splitter, 1)
        self.message = WrappedLabel("", self)
        self.message.setObjectName("verifier_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

    def _combo(self, first: str) -> QComboBox:
        combo = QComboBox(self)
        combo.addItem(first, "")
        return combo

    def _build_filters(self) -> QGroupBox:
        box = QGroupBox(t("ver.filters"), self)
        grid = QGridLayout(box)
        self.kecamatan_combo = self._combo(t("ver.all_kecamatan"))
        for kec in self.regions.kecamatan_list():
            self.kecamatan_combo.addItem(kec.name, kec.code)
        self.kelurahan_combo = self._combo(t("ver.all_kelurahan"))
        self.kecamatan_combo.currentIndexChanged.connect(self._fill_kelurahan)
        self.cohort_combo = self._combo(t("ver.all_cohorts"))
        for code in COHORT_LABELS:
            self.cohort_combo.addItem(term("cohort", code.value), code.value)
        self.occupation_combo = self._combo(t("ver.all_occupations"))
        self.event_combo = self._combo(t("ver.all_events"))
        self.status_combo = self._combo(t("ver.all_statuses"))
        for status in (Status.RECEIVED, Status.VERIFIED, Status.REJECTED, Status.FUNDED,
                       Status.CARD_PRINTED, Status.CARD_HANDED_OVER):
            self.status_combo.addItem(term("status", status.value), status.value)
        self.status_combo.setCurrentIndex(1)  # what waits for a decision
        self.duplicate_check = QCheckBox(t("ver.only_duplicates"), self)
        self.correction_check = QCheckBox(t("ver.only_corrections"), self)
        self.correction_check.setObjectName("correction_filter")
        self.correction_check.setToolTip(t("ver.only_corrections_tip"))
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(t("ver.search"))
        self.search_edit.returnPressed.connect(self._filters_changed)
        widgets = (("kecamatan", self.kecamatan_combo), ("kelurahan", self.kelurahan_combo),
                   ("cohort", self.cohort_combo), ("occupation", self.occupation_combo),
                   ("event", self.event_combo), ("status", self.status_combo))
        # Two rows of four: the filters take little height, the list keeps it.
        widgets += (("name", self.search_edit),)
        for i, (name, widget) in enumerate(widgets):
            grid.addWidget(QLabel(t(f"ver.f.{name}"), box), i // 4, (i % 4) * 2)
            grid.addWidget(widget, i // 4, (i % 4) * 2 + 1)
        grid.addWidget(self.duplicate_check, 1, 6)
        grid.addWidget(self.correction_check, 1, 7)
        grid.setContentsMargins(6, 2, 6, 2)
        grid.setVerticalSpacing(2)
        return box

    def _connect_filters(self) -> None:
        """After the layout is built: a changed filter fetches the first page again."""
        for combo in (self.kecamatan_combo, self.kelurahan_combo, self.cohort_combo,
                      self.occupation_combo, self.event_combo, self.status_combo):
            combo.currentIndexChanged.connect(self._filters_changed)
        self.duplicate_check.toggled.connect(self._filters_changed)
        self.correction_check.toggled.connect(self._corrections_toggled)

    def _build_list(self) -> QWidget:
        holder = QWidget(self)
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model = SummaryModel(self)
        self.table = QTableView(holder)
        self.table.setObjectName("verifier_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # Fixed starting widths the verifier may drag: the name is never squeezed by a long
        # note or kegiatan, which are cut with "…" and shown whole in the detail.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._row_selected)
        self.prev_button = QPushButton(t("ver.prev"), holder)
        self.prev_button.clicked.connect(lambda: self._page(-PAGE))
        self.next_button = QPushButton(t("ver.next"), holder)
        self.next_button.clicked.connect(lambda: self._page(PAGE))
        self.page_label = QLabel("", holder)
        paging = QHBoxLayout()
        paging.addWidget(self.page_label, 1)
        paging.addWidget(self.prev_button)
        paging.addWidget(self.next_button)
        layout.addWidget(self.table, 1)
        layout.addLayout(paging)
        return holder

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

        self.verify_button = QPushButton(t("ver.verify"), holder)
        self.verify_button.clicked.connect(self.verify)
        self.fund_button = QPushButton(t("ver.fund"), holder)
        self.fund_button.clicked.connect(self.fund)
        self.reason_combo = QComboBox(holder)
        self.reason_combo.setObjectName("reject_reason")
        self._fill_reasons()
        self.reason_combo.currentIndexChanged.connect(lambda _i: self._set_actions())
        self.reason_edit = QLineEdit(holder)
        self.reason_edit.setPlaceholderText(t("ver.note"))
        self.reject_button = QPushButton(t("ver.reject"), holder)
        self.reject_button.clicked.connect(self.reject)
        self.keep_combo = QComboBox(holder)
        self.resolve_button = QPushButton(t("ver.resolve_duplicate"), holder)
        self.resolve_button.clicked.connect(self.resolve_duplicate)
        # The decisions on the registration itself; hidden while a correction waits (the
        # correction box decides then), so the two versions get the room.
        self.decision_actions = QWidget(holder)
        actions = QGridLayout(self.decision_actions)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.verify_button, 0, 0)
        actions.addWidget(self.fund_button, 0, 1)
        actions.addWidget(QLabel(t("ver.reject_reason"), holder), 1, 0)
        actions.addWidget(self.reason_combo, 1, 1)
        actions.addWidget(self.reason_edit, 1, 2)
        actions.addWidget(self.reject_button, 1, 3)
        # Only when there is something to keep: a duplicate group or versions in conflict.
        self.keep_row = QWidget(self.decision_actions)
        keep = QHBoxLayout(self.keep_row)
        keep.setContentsMargins(0, 0, 0, 0)
        keep.addWidget(QLabel(t("ver.keep"), self.keep_row))
        keep.addWidget(self.keep_combo, 1)
        keep.addWidget(self.resolve_button)
        actions.addWidget(self.keep_row, 2, 0, 1, 4)
        actions.setColumnStretch(2, 1)
        self.keep_row.hide()
        layout.addWidget(self.decision_actions)
        return holder

    def _fill_reasons(self) -> None:
        """No reason is chosen for the verifier: the first entry asks for one."""
        self.reason_combo.clear()
        self.reason_combo.addItem(t("ver.choose_reason"), "")
        for code, label in self.reject_reasons.items():
            self.reason_combo.addItem(term("reject", code, label), code)
        self.reason_combo.setCurrentIndex(0)

    def _fill_kelurahan(self) -> None:
        self.kelurahan_combo.blockSignals(True)
        self.kelurahan_combo.clear()
        self.kelurahan_combo.addItem(t("ver.all_kelurahan"), "")
        kecamatan = self.kecamatan_combo.currentData()
        if kecamatan:
            for kel in self.regions.kelurahan_list(kecamatan):
                self.kelurahan_combo.addItem(kel.name, kel.code)
        self.kelurahan_combo.blockSignals(False)

    # --- background requests -----------------------------------------------------------------

    def _run(self, kind: str, fn: Callable, *args: Any, on_done: Callable,
             on_error: Callable | None = None) -> None:
        """Run `fn(client, *args)` on the pool; only the latest request of a kind is answered."""
        if self.client is None:
            self._say(t("ver.not_enrolled"), error=True)
            return
        number = next(self._numbers)
        self._latest[kind] = number
        self._handlers[kind] = (on_done, on_error)
        self.pool.start(_Job(self.relay, kind, number, fn, (self.client, *args)))

    def _job_done(self, kind: str, number: int, result: Any) -> None:
        if self._latest.get(kind) == number:
            self._handlers[kind][0](result)

    def _job_failed(self, kind: str, number: int, exc: BaseException) -> None:
        if self._latest.get(kind) != number:
            return
        on_error = self._handlers[kind][1]
        if on_error is not None:
            on_error(exc)
        else:
            self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        if isinstance(exc, SyncError):
            self._say(exc.message, error=True)
        else:
            self._say(t("ver.failed", kind=type(exc).__name__), error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)

    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def shutdown(self) -> None:
        self.pool.waitForDone(10_000)
        if self.client is not None:
            self.client.close()

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Connect (reading this device's enrolment), then fetch reasons, quota and the list."""
        self._loaded = True
        self.worker.call(_lookups, on_result=self._connected)

    def _connected(self, lookups: dict) -> None:
        if self.client is not None:
            self.client.close()
        self.client = lookups["client"]
        self.occupations = lookups["occupations"]
        self.events = lookups["events"]
        self._fill_lookup(self.occupation_combo, self.occupations)
        self._fill_lookup(self.event_combo, self.events)
        if self.client is None:
            self._say(t("ver.not_enrolled"), error=True)
            return
        self._run("reasons", api.reasons, on_done=self._got_reasons, on_error=lambda e: None)
        # The kegiatan of every device, from the server; this device's own stay meanwhile (and
        # when a server from before GET /events cannot answer).
        self._run("events", api.events, on_done=self._got_events, on_error=lambda e: None)
        self.refresh_quota()
        self.refresh_list()

    def _fill_lookup(self, combo: QComboBox, values: dict[str, str], *,
                     ordered: bool = False) -> None:
        """Replace the choices after the first ("Semua …"); sorted by name unless `ordered`."""
        chosen = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        items = values.items() if ordered else sorted(values.items(), key=lambda kv: kv[1])
        for code, name in items:
            combo.addItem(name, code)
        combo.setCurrentIndex(max(0, combo.findData(chosen)))
        combo.blockSignals(False)

    def _got_events(self, answer: dict) -> None:
        """The kegiatan filter from the server (the latest first, each with its day)."""
        events = [e for e in answer.get("events", []) if isinstance(e, dict) and e.get("id")]
        if not events:
            return
        self.events = {**self.events, **{e["id"]: e.get("name") or e["id"] for e in events}}
        labels = {}
        for e in events:
            day = format_date(e.get("held_on"))
            name = e.get("name") or e["id"]
            labels[e["id"]] = f"{name} ({day})" if day else name
        self._fill_lookup(self.event_combo, labels, ordered=True)

    def _got_reasons(self, answer: dict) -> None:
        reasons = {r["code"]: r["label"] for r in answer.get("reject", []) if r.get("code")}
        if reasons:
            self.reject_reasons = reasons
            self._fill_reasons()
            self.corrections.set_reasons(reasons)

    def refresh_quota(self) -> None:
        self._run("quota", api.quota, on_done=self._got_quota)

    def _got_quota(self, answer: dict) -> None:
        self.quota_label.setText(quota_text(answer))

    def query(self) -> api.RegistrationQuery:
        return api.RegistrationQuery(
            kecamatan=self.kecamatan_combo.currentData() or "",
            kelurahan=self.kelurahan_combo.currentData() or "",
            cohort=self.cohort_combo.currentData() or "",
            occupation=self.occupation_combo.currentData() or "",
            event=self.event_combo.currentData() or "",
            status=self.status_combo.currentData() or "",
            possible_duplicate=True if self.duplicate_check.isChecked() else None,
            correction_pending=True if self.correction_check.isChecked() else None,
            q=self.search_edit.text().strip(),
        )

    def _corrections_toggled(self, checked: bool) -> None:
        """Corrections wait on decided registrations: any status, not only "diterima"."""
        if checked and self.status_combo.currentIndex() != 0:
            self.status_combo.blockSignals(True)
            self.status_combo.setCurrentIndex(0)
            self.status_combo.blockSignals(False)
        self._filters_changed()

    def _filters_changed(self, *_args) -> None:
        self.offset = 0
        if self.client is None:
            return
        self.refresh_list()

    def _page(self, step: int) -> None:
        self.offset = max(0, min(self.offset + step, max(0, self.total - 1)))
        self.refresh_list()

    def refresh_list(self) -> None:
        self._run_list()

    def _run_list(self) -> None:
        self._run("list", lambda c, q, o: api.list_registrations(c, q, offset=o, limit=PAGE),
                  self.query(), self.offset, on_done=self._got_list)

    def _got_list(self, answer: dict) -> None:
        self.total = int(answer.get("total", 0))
        self.model.set_items(list(answer.get("items", [])))
        shown = len(self.model.items)
        first = self.offset + 1 if shown else 0
        self.page_label.setText(t("ver.page", first=first, last=self.offset + shown,
                                  total=self.total))
        self.prev_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + shown < self.total)
        if self.detail is not None:
            self._select(self.detail["id"])

    def _select(self, reg_id: str) -> None:
        for row, item in enumerate(self.model.items):
            if item["id"] == reg_id:
                self.table.selectionModel().blockSignals(True)
                self.table.selectRow(row)
                self.table.selectionModel().blockSignals(False)
                return

    def cell(self, item: dict, column: int) -> str:
        if column == 0:
            return item.get("full_name", "")
        if column == 1:
            return item.get("nik_masked", "")
        if column == 2:
            kel = self.regions.kelurahan(item.get("kelurahan_code") or "")
            return kel.name if kel else item.get("kelurahan_code") or ""
        if column == 3:
            return term("cohort", item.get("cohort") or "")
        if column == 4:
            code = item.get("occupation_code") or ""
            return self.occupations.get(code, code)
        if column == 5:
            return _status_text(item)
        if column == 6:
            return _flags(item)
        if column == 7:
            return item.get("event_name") or self.events.get(item.get("event_id") or "", "")
        return format_time(item.get("received_at"))

    # --- one registration --------------------------------------------------------------------

    def _row_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() < len(self.model.items):
            self.open_registration(self.model.items[current.row()]["id"])

    def open_registration(self, reg_id: str) -> None:
        self._run("detail", api.registration_detail, reg_id, on_done=self._got_detail)

    def _got_detail(self, answer: dict) -> None:
        self.detail = answer["registration"]
        self.duplicates = list(answer.get("duplicates", []))
        self.conflicts = list(answer.get("conflicts", [])) if self.detail.get("conflict") else []
        self.correction = answer.get("correction") or None
        self.corrections.show_correction(self.correction, self.detail.get("version", ""))
        if self.correction:
            self._show_correction(answer)
            self._fill_keep()
            self._set_actions()
            return
        self.this_view.setHtml(self._detail_html(self.detail, None, answer.get("events", [])))
        others = [self._detail_html(d, self.detail, [], t("ver.possible_duplicate"))
                  for d in self.duplicates]
        others += [self._detail_html(_conflict_as_detail(c), self.detail, [],
                                     t("ver.conflicting", version=c["version"]))
                   for c in self.conflicts]
        self.other_view.setHtml("".join(others) or f"<p><i>{t('ver.no_duplicates')}</i></p>")
        self._fill_keep()
        self._set_actions()

    def _show_correction(self, answer: dict) -> None:
        """The version in force on the left, the correction on the right, changed fields
        marked on both sides."""
        current, correction = self.detail, self.correction or {}
        pending = pending_as_detail(current, correction)
        changed = changed_labels(list(correction.get("changed") or []))
        heading = (f"<p><b>{t('ver.changed')}</b> "
                   f"{html.escape(', '.join(changed) or '—')}</p>")
        self.this_view.setHtml(self._detail_html(
            current, pending, answer.get("events", []),
            t("ver.in_force", version=current.get("version", ""))))
        self.other_view.setHtml(heading + self._detail_html(
            pending, current, [], t("ver.pending", version=correction.get("version", ""))))

    def _fill_keep(self) -> None:
        """What "keep" may choose: a version in a conflict, else a member of a duplicate group."""
        self.keep_combo.clear()
        detail = self.detail or {}
        if self.conflicts:
            self.resolve_button.setText(t("ver.resolve_conflict"))
            self.keep_combo.addItem(t("ver.keep_current", version=detail["version"]),
                                    (detail["version"], ""))
            for c in self.conflicts:
                self.keep_combo.addItem(
                    t("ver.keep_right", version=c["version"],
                      day=format_date(c.get("received_at"))),
                    (c["version"], c.get("device_id") or ""))
            return
        self.resolve_button.setText(t("ver.resolve_duplicate"))
        if detail.get("possible_duplicate"):
            self.keep_combo.addItem(t("ver.keep_this", name=detail["full_name"]), detail["id"])
            for other in self.duplicates:
                if other["status"] != Status.REJECTED.value:
                    self.keep_combo.addItem(
                        t("ver.keep_other", name=other["full_name"],
                          day=format_date(other.get("received_at"))), other["id"])

    def _set_actions(self) -> None:
        status = (self.detail or {}).get("status", "")
        flagged = bool(self.detail and (self.detail.get("possible_duplicate")
                                        or self.detail.get("conflict")))
        received, verified = Status.RECEIVED.value, Status.VERIFIED.value
        allowed = self.may_decide()
        waiting = bool(self.detail and self.detail.get("correction_pending"))
        open_ = status in (received, verified) and allowed and not waiting
        self.verify_button.setEnabled(allowed and status == received and not flagged
                                      and not waiting)
        self.fund_button.setEnabled(allowed and status == verified and not waiting)
        self.reason_combo.setEnabled(open_)
        self.reason_edit.setEnabled(open_)
        self.reject_button.setEnabled(open_ and bool(self.reason_combo.currentData()))
        self.resolve_button.setEnabled(allowed and self.keep_combo.count() > 0)
        self.keep_combo.setEnabled(allowed)
        self.keep_row.setVisible(self.keep_combo.count() > 0)
        self.decision_actions.setVisible(not self.correction)
        if hasattr(self, "corrections"):
            self.corrections.set_allowed(allowed)

    # --- who decides -------------------------------------------------------------------------

    def session(self) -> Session | None:
        return self._session or session_of(self)

    def may_decide(self) -> bool:
        """A logged-in operator whose role (and this device's) allows verifying."""
        session = self.session()
        return (session is not None and session.operator is not None
                and session.may(roles.VERIFY))

    def apply_roles(self) -> None:
        """The window's operator changed (another one unlocked): show who decides now."""
        session = self.session()
        if session is None or session.operator is None:
            self.who_label.setText(t("ver.not_logged_in"))
        else:
            self.who_label.setText(t("ver.who", name=session.display_name,
                                     username=session.username))
        self._set_actions()

    def _refusal(self) -> str:
        session = self.session()
        if session is None or session.operator is None:
            return t("ver.no_operator")
        from ui.session import role_label

        return t("ver.not_allowed", role=role_label(session.operator.role).lower())

    def _detail_html(self, reg: dict, compare: dict | None, events: list[dict],
                     title: str = "") -> str:
        """One registration as a table; values that differ from `compare` are marked red (and
        with ✎, so the mark does not rest on colour alone). The server's bookkeeping (version,
        time received) is never marked: it always differs."""
        rows = self._fields(reg)
        other = dict(self._fields(compare)) if compare else {}
        out = [f"<h3>{title or t('ver.this')}</h3><table cellspacing='2'>"]
        for name, value in rows:
            differs = (compare is not None and name not in UNMARKED
                       and other.get(name) != value)
            shown = html.escape(value) or "—"
            shown = f"<b style='color:#b00020'>✎ {shown}</b>" if differs else shown
            label = html.escape(t(f"ver.d.{name}"))
            out.append(f"<tr><td><i>{label}</i></td><td>{shown}</td></tr>")
        out.append("</table>")
        if events:
            out.append(f"<p><b>{t('ver.history')}</b></p><ul>")
            for e in events:
                why = f" — {html.escape(e['reason'])}" if e.get("reason") else ""
                event = e.get("event", "")
                what = t(f"ver.event.{event}") if f"ver.event.{event}" in TEXT else event
                line = t("ver.history_line", when=format_time(e.get("at")), what=what,
                         who=e.get("by", ""))
                out.append(f"<li>{html.escape(line)}{why}</li>")
            out.append("</ul>")
        return "".join(out)

    def _fields(self, reg: dict) -> list[tuple[str, str]]:
        """The registration as (field, value) pairs, each field titled by "ver.d.<field>". The
        detail shows the full NIK: the verifier must compare it with the documents; lists never
        show it."""
        data = reg.get("data") or {}
        kel = self.regions.kelurahan(data.get("kelurahan_code") or "")
        kec = self.regions.kecamatan(data.get("kecamatan_code") or "")
        heirs = "; ".join(_heir_text(h) for h in data.get("heirs") or [])
        income = data.get("monthly_income")
        event = data.get("event_id") or ""
        return [
            ("status", _status_text(reg)),
            ("member", reg.get("member_number") or ""),
            ("name", data.get("full_name", "")),
            ("nik", data.get("nik", "")),
            ("born", f"{data.get('birth_place', '')}, {format_date(data.get('birth_date'))}"),
            ("sex", t(f"sex.{data['sex']}") if data.get("sex") in ("L", "P") else ""),
            ("address", f"{data.get('street', '')} RT {data.get('rt', '')}/RW {data.get('rw', '')}"),
            ("kelurahan", kel.name if kel else data.get("kelurahan_code", "")),
            ("kecamatan", kec.name if kec else data.get("kecamatan_code", "")),
            ("phone", data.get("phone", "")),
            ("occupation", self.occupations.get(data.get("occupation_code"), "")
             or data.get("occupation_code", "")),
            ("cohort", term("cohort", data.get("cohort", ""))),
            ("income", f"Rp{income:,}".replace(",", ".") if income else ""),
            ("heirs", heirs),
            ("consent", t("ver.consent_given", version=data.get("consent_version", ""))
             if data.get("consent_given") else t("ver.consent_missing")),
            ("event", reg.get("event_name") or self.events.get(event, event)),
            ("notes", data.get("notes", "")),
            ("received", format_time(reg.get("received_at"))),
            ("version", str(reg.get("version", ""))),
        ]

    # --- decisions ---------------------------------------------------------------------------

    def operator_ref(self) -> dict[str, str] | None:
        """Who decides, read here on the main thread (never inside a job); None when nobody
        may decide (the refusal is shown)."""
        if not self.may_decide():
            self._say(self._refusal(), error=True)
            self._set_actions()
            return None
        return self.session().operator_ref()

    def _decide(self, fn: Callable, *args: Any, **kwargs: Any) -> None:
        if self.detail is None:
            return
        operator = self.operator_ref()
        if operator is None:
            return
        reg_id, revision = self.detail["id"], int(self.detail["revision"])
        for button in (self.verify_button, self.fund_button, self.reject_button,
                       self.resolve_button):
            button.setEnabled(False)
        self._say(t("ver.sending"))
        self._run("decision", lambda c: fn(c, reg_id, revision, *args, operator=operator,
                                           **kwargs),
                  on_done=self._decided, on_error=lambda exc: self._refused(reg_id, exc))

    def verify(self) -> None:
        self._decide(api.verify)

    def fund(self) -> None:
        if self.detail is None or not self._may_or_say():
            return
        text = verifier_confirm.fund_text(self.detail)
        if self.confirm(t("ver.ask.fund"), text, t("ver.yes.fund")):
            self._decide(api.fund)

    def reject(self) -> None:
        if self.detail is None or not self._may_or_say():
            return
        code = self.reason_combo.currentData() or ""
        if not code:
            self._say(t("ver.choose_reason_first"), error=True)
            self.reason_combo.setFocus()
            return
        note = self.reason_edit.text().strip()
        text = verifier_confirm.reject_text(self.detail, self.reason_combo.currentText(), note)
        if self.confirm(t("ver.ask.reject"), text, t("ver.yes.reject")):
            self._decide(api.reject, code, reason_text=note)

    def resolve_duplicate(self) -> None:
        """Keep the choice of the combo: a version in a conflict, or one of a duplicate group."""
        keep = self.keep_combo.currentData()
        if self.detail is None or not keep or not self._may_or_say():
            return
        if isinstance(keep, tuple):
            text = verifier_confirm.conflict_text(self.detail, self.keep_combo.currentText())
            if self.confirm(t("ver.ask.conflict"), text, t("ver.yes.resolve")):
                self._decide(api.resolve_conflict, keep[0], keep_device_id=keep[1])
            return
        others = [d for d in [self.detail, *self.duplicates]
                  if d["id"] != keep and d.get("status") != Status.REJECTED.value]
        kept = next((d for d in [self.detail, *self.duplicates] if d["id"] == keep), self.detail)
        text = verifier_confirm.duplicate_text(kept, others)
        if self.confirm(t("ver.ask.duplicate"), text, t("ver.yes.resolve")):
            self._decide(api.resolve_duplicate, keep)

    def approve_correction(self) -> None:
        correction = self.correction
        if self.detail is None or not correction or not self._may_or_say():
            return
        changed = changed_labels(list(correction.get("changed") or []))
        text = verifier_confirm.correction_text(self.detail, True, changed)
        if self.confirm(t("ver.ask.approve_correction"), text,
                        t("ver.yes.approve_correction")):
            self.corrections.set_busy()
            self._decide(api.approve_correction, int(correction["version"]))

    def reject_correction(self, code: str = "", note: str = "") -> None:
        correction = self.correction
        if self.detail is None or not correction or not self._may_or_say():
            return
        code = code or self.corrections.reason_combo.currentData() or ""
        if not code:
            self._say(t("ver.choose_correction_reason_first"), error=True)
            return
        label = term("reject", code, self.reject_reasons.get(code, code))
        changed = changed_labels(list(correction.get("changed") or []))
        reason = f"{label}: {note}" if note else label
        text = verifier_confirm.correction_text(self.detail, False, changed, reason)
        if self.confirm(t("ver.ask.reject_correction"), text,
                        t("ver.yes.reject_correction")):
            self.corrections.set_busy()
            self._decide(api.reject_correction, int(correction["version"]), code,
                         reason_text=note)

    def _may_or_say(self) -> bool:
        if self.may_decide():
            return True
        self._say(self._refusal(), error=True)
        self._set_actions()
        return False

    def _decided(self, answer: dict) -> None:
        reg = answer["registration"]
        # Only the status word is lower-cased; the verifier's note stays as typed.
        text = t("ver.saved", name=reg["full_name"], status=_status_text(reg, lower=True))
        if reg.get("member_number") and reg["status"] == Status.FUNDED.value:
            text += t("ver.saved_member", number=reg["member_number"])
        self._say(text)
        self.reason_edit.clear()
        self.reason_combo.setCurrentIndex(0)  # the next rejection's reason is chosen anew
        self._got_detail(answer)
        self.decided.emit(reg["id"], reg["status"])
        self.refresh_quota()
        self._run_list()

    def _refused(self, reg_id: str, exc: BaseException) -> None:
        self._show_error(exc)
        if isinstance(exc, api.DecisionRefused) and exc.stale:
            # Show what it is now, so the verifier decides on the current version.
            self._run("detail", api.registration_detail, reg_id, on_done=self._got_detail)
            self._run_list()
        else:
            self._set_actions()


def _heir_text(heir: dict) -> str:
    """ "Rina (istri, 0812…, NIK …)": every part of an heir, so a changed phone or NIK shows."""
    parts = [term("relationship", heir.get("relationship") or "")]
    parts += [heir[k] for k in ("phone", "nik") if heir.get(k)]
    return f"{heir.get('name', '')} ({', '.join(p for p in parts if p)})"


def _conflict_as_detail(conflict: dict) -> dict:
    """A conflicting version in the shape `_fields` reads."""
    return {"data": conflict.get("data") or {}, "version": conflict.get("version", ""),
            "received_at": conflict.get("received_at", ""), "status": "",
            "member_number": ""}


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # Indonesian thousands separator


def quota_text(answer: dict) -> str:
    """Places left per cohort; a quota shared by every cohort is shown once."""
    cohorts = answer.get("cohorts", [])
    year = answer.get("programme_year", "")
    if cohorts and all(c.get("shared") for c in cohorts):
        first = cohorts[0]
        funded = " · ".join(f"{_cohort_of(c)} {_number(c['funded'])}"
                            for c in cohorts)
        return t("ver.quota_shared", year=year, left=_number(first["left"]),
                 places=_number(first["places"]), funded=funded)
    parts = [t("ver.quota_cohort", cohort=_cohort_of(c), left=_number(c["left"]),
               places=_number(c["places"])) for c in cohorts]
    return t("ver.quota", year=year, parts=" · ".join(parts))


def _cohort_of(quota: dict) -> str:
    """A quota's cohort in the window's language (the server's label for one it names alone)."""
    return term("cohort", quota["cohort"], quota.get("label") or quota["cohort"])


def _status_text(item: dict, *, lower: bool = False) -> str:
    status = item.get("status", "")
    text = term("status", status)
    text = text.lower() if lower else text
    if status == Status.REJECTED.value and item.get("status_reason"):
        text += f": {item['status_reason']}"
    return text


def _flags(item: dict) -> str:
    flags = []
    if item.get("possible_duplicate"):
        flags.append(t("ver.flag.duplicate"))
    if item.get("conflict"):
        flags.append(t("ver.flag.conflict"))
    if item.get("correction_pending"):
        flags.append(t("ver.flag.correction"))
    return ", ".join(flags)
