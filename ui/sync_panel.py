"""The sync panel: enrol the device once, sync on demand or when the server becomes reachable,
follow progress, cancel, and see the records the server refused so they can be fixed.

The sync itself is a `LongRun` (ui/tasks.py) on the long lane with its own Registry connection
(WAL lets it write beside the window's writer thread), so the window never waits on the network.
Reads of the sync state go through the DbWorker; the enrolment's request goes on the panel's
pool between its two database steps, so saves never wait behind the network.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ops import enrolment as enrol_ops
from sync import enrol as enrolment
from sync import state
from sync.client import SyncClient, SyncError
from sync.engine import PUSH, SUMMARY_TEXTS, SyncReport, run_sync
from sync.watcher import ReachabilityWatcher
from ui.labels import t, term
from ui.tasks import LongRun, Tasks
from ui.timefmt import format_time, zone_name

COLUMNS = ("name", "nik", "state", "reason")  # titled by "syncp.col.<name>"
SAVE_DEBOUNCE = 15.0  # seconds after the last save before the automatic sync sends it
SAVE_MAX_DELAY = 60.0  # and never later than this after the first save of a burst


def _panel_state(registry) -> dict:
    """Everything the panel shows, read on the writer thread."""
    return {
        "server_url": registry.get_setting("server_url") or "",
        "enrolled": enrolment.is_enrolled(registry),
        "last_sync_at": registry.get_setting("last_sync_at") or "",
        "rows": state.attention_rows(registry),
        "waiting": registry.outbox_count(),
        "path": state.database_file(registry),
        "key": registry.key,  # the sync thread's own connection opens the encrypted file too
        "trust": enrolment.trust_of(registry),  # the city's CA, plain http allowed: the watcher
    }


def sync_job(db_path: str, key: bytes | None, *, progress, cancel) -> SyncReport | str:
    """One sync run with its own database connection (a LongRun off the writer): the report,
    or the Indonesian message of what went wrong."""
    from storage.registry import Registry

    try:
        registry = Registry.open(db_path, key=key)
    except Exception as exc:  # noqa: BLE001 - shown to the operator, never raised on a thread
        return getattr(exc, "message", "") or t("syncp.db_failed")
    client = enrolment.client_for(registry)
    try:
        return run_sync(registry, client, progress=progress, cancel=cancel)
    except SyncError as exc:
        return exc.message
    except Exception as exc:  # noqa: BLE001 - same: the run must report, not die
        return t("syncp.failed", kind=type(exc).__name__)
    finally:
        client.close()
        registry.close()


def _watch_client(latest: list[dict]) -> SyncClient | None:
    """The watcher's client (on the watcher's thread): from the plain dict the main thread
    stored last, never from a widget."""
    info = latest[0]
    if not info.get("server_url") or not info.get("enrolled"):
        return None
    return SyncClient(info["server_url"], **info.get("trust", {}))


class SyncPanel(QWidget):
    """`SyncPanel(worker)`; `open_record(record_id)` is emitted when the operator asks to fix a
    record. `start_watching()` starts the automatic sync; `shutdown()` stops it."""

    open_record = Signal(str)
    sync_finished = Signal(object)  # SyncReport, or the Indonesian message of a failure
    _reachable = Signal()

    def __init__(self, worker: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = worker
        self.tasks = Tasks(self, threads=2)  # the reachability watcher, the enrolment's request
        self.thread: LongRun | None = None  # the running sync
        self.watcher: ReachabilityWatcher | None = None
        self._info: dict = {}
        self._latest: list[dict] = [{}]  # what the watcher's loop reads, never the widget
        self._waiting_seen = 0  # records waiting at the last look: more means a new save
        self._build()
        self._reachable.connect(self._auto_sync)
        worker.changed.connect(self.refresh)  # a fix saved elsewhere shows as waiting to go up
        self.refresh()

    # --- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.enrol_box = QGroupBox(t("syncp.enrol_box"), self)
        form = QFormLayout(self.enrol_box)
        self.server_edit = QLineEdit(self.enrol_box)
        self.server_edit.setPlaceholderText(t("syncp.server_hint"))
        self.code_edit = QLineEdit(self.enrol_box)
        self.code_edit.setPlaceholderText(t("syncp.code_hint"))
        self.ca_edit = QLineEdit(self.enrol_box)
        self.ca_edit.setPlaceholderText(t("syncp.ca_hint"))
        ca_button = QPushButton(t("syncp.choose"), self.enrol_box)
        ca_button.clicked.connect(self._choose_ca_file)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(ca_button)
        self.insecure_check = QCheckBox(t("syncp.insecure"), self.enrol_box)
        self.enrol_button = QPushButton(t("syncp.enrol"), self.enrol_box)
        self.enrol_button.clicked.connect(self._enrol_clicked)
        form.addRow(t("syncp.f.server"), self.server_edit)
        form.addRow(t("syncp.f.code"), self.code_edit)
        form.addRow(t("syncp.f.ca"), ca_row)
        form.addRow("", self.insecure_check)
        form.addRow("", self.enrol_button)

        self.sync_button = QPushButton(t("syncp.sync_now"), self)
        self.sync_button.clicked.connect(self.start_sync)
        self.cancel_button = QPushButton(t("syncp.cancel"), self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_sync)
        self.progress = QProgressBar(self)
        self.progress.setFormat("%v / %m")
        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)

        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)
        self.last_sync_label = QLabel("", self)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels([t(f"syncp.col.{name}") for name in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for column in range(3):  # name, masked NIK and state whole; the reason takes the rest
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.open_button = QPushButton(t("syncp.open"), self)
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentRow()))

        layout = QVBoxLayout(self)
        layout.addWidget(self.enrol_box)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.last_sync_label)
        layout.addWidget(QLabel(t("syncp.attention"), self))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.open_button)

    # --- state -------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.worker.call(_panel_state, on_result=self._show_state)

    def _show_state(self, info: dict) -> None:
        self._info = info
        self._latest[0] = info  # the watcher's copy: a plain value, swapped whole
        if not self.server_edit.text():
            self.server_edit.setText(info["server_url"])
        self.enrol_box.setVisible(not info["enrolled"])
        self.sync_button.setEnabled(info["enrolled"] and self.thread is None)
        last = info["last_sync_at"]
        text = (t("syncp.last", when=format_time(last), zone=zone_name())
                if last else t("syncp.never"))
        if info["waiting"]:
            text += t("syncp.waiting", n=info["waiting"])
        self.last_sync_label.setText(text)  # the status line keeps the last run's outcome
        self._fill_table(info["rows"])
        if info["waiting"] > self._waiting_seen and self.watcher is not None:
            self.watcher.nudge()  # a new save: sent shortly, with whatever follows it
        self._waiting_seen = info["waiting"]
        if self.watcher is not None and info["enrolled"] and not self.watcher.reachable:
            self.watcher.check_now()  # just enrolled or configured: no need to wait out a backoff

    def _fill_table(self, rows: list[state.AttentionRow]) -> None:
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            reason = (t("syncp.fixed") if row.fixed else "") + row.reason
            label = term("outcome", row.outcome, row.label)
            for j, text in enumerate((row.full_name, row.nik_masked, label, reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # a long reason in full
                item.setData(256, row.record_id)  # Qt.UserRole
                self.table.setItem(i, j, item)
        self.open_button.setEnabled(bool(rows))

    def attention_ids(self) -> list[str]:
        return [self.table.item(i, 0).data(256) for i in range(self.table.rowCount())]

    def _open_row(self, row: int) -> None:
        if row >= 0 and self.table.item(row, 0) is not None:
            self.open_record.emit(self.table.item(row, 0).data(256))

    # --- enrolment ---------------------------------------------------------------------------

    def _enrol_clicked(self) -> None:
        url, code = self.server_edit.text().strip(), self.code_edit.text().strip()
        if not url or not code:
            self.status_label.setText(t("syncp.fill_enrolment"))
            return
        self.enrol_button.setEnabled(False)
        self.status_label.setText(t("syncp.enrolling"))
        ca_file, insecure = self.ca_edit.text().strip(), self.insecure_check.isChecked()
        self.tasks.via_network(
            self.worker,
            lambda registry: enrol_ops.plan(registry, url, code, ca_file=ca_file,
                                            allow_insecure_http=insecure),
            enrol_ops.ask, enrol_ops.keep, kind="enrol", changes=False,
            on_result=self._enrolled, on_error=self._enrol_failed)

    def _choose_ca_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, t("syncp.f.ca"), "", t("syncp.ca_filter"))
        if path:
            self.ca_edit.setText(path)

    def _enrolled(self, result: enrolment.Enrolment) -> None:
        self.enrol_button.setEnabled(True)
        self.code_edit.clear()
        self.status_label.setText(t("syncp.enrolled"))
        self.refresh()
        if self.watcher is not None:
            self.watcher.check_now()

    def _enrol_failed(self, exc: BaseException) -> None:
        self.enrol_button.setEnabled(True)
        self.status_label.setText(getattr(exc, "message", "") or t("syncp.enrol_failed"))

    # --- sync --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start_sync(self) -> None:
        """Start a sync in the background (ignored while one runs or before enrolment)."""
        if self.thread is not None or not self._info.get("enrolled"):
            return
        self.thread = LongRun(sync_job, self._info["path"], self._info.get("key"), parent=self,
                              start=False)
        self.thread.progress.connect(self._progressed)
        self.thread.finished.connect(self._ended)
        self.thread.failed.connect(lambda exc: self._ended(
            t("syncp.failed", kind=type(exc).__name__)))
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status_label.setText(t("syncp.running"))
        self.progress.setRange(0, 0)
        self.thread.start()

    def cancel_sync(self) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.status_label.setText(t("syncp.cancelling"))

    def _ended(self, result: SyncReport | str) -> None:
        if isinstance(result, str):
            self._failed(result)
        else:
            self._succeeded(result)
        self._thread_done()

    @Slot(int, int, str)
    def _progressed(self, done: int, total: int, phase: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(min(done, total) if total else 0)
        key = "syncp.sending" if phase == PUSH else "syncp.receiving"
        self.status_label.setText(t(key, done=done, total=total))

    def _succeeded(self, report: SyncReport) -> None:
        self._waiting_seen = 0  # what waits now was saved during the run: it gets its nudge
        self.status_label.setText(report.summary(
            {key: t(f"sync_report.{key}") for key in SUMMARY_TEXTS}))
        self.sync_finished.emit(report)

    def _failed(self, message: str) -> None:
        self.status_label.setText(message)
        self.sync_finished.emit(message)

    def _thread_done(self) -> None:
        if self.thread is not None:
            self.thread.deleteLater()
        self.thread = None
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.worker.changed.emit()  # lists show the new statuses; this panel refreshes too

    # --- automatic sync ----------------------------------------------------------------------

    def start_watching(self, **timing: float) -> None:
        """Check the server in the background; sync when it becomes reachable."""
        if self.watcher is None:
            timing.setdefault("repeat", 300.0)  # while online, pulls come every few minutes
            timing.setdefault("debounce", SAVE_DEBOUNCE)  # and saves go up within seconds
            timing.setdefault("max_delay", SAVE_MAX_DELAY)
            watcher = ReachabilityWatcher(partial(_watch_client, self._latest),
                                          self._reachable.emit, **timing)
            # A panel closed without shutdown() still ends the loop, before its pool waits on it.
            self.destroyed.connect(lambda *_: watcher.stop())
            watcher.start(runner=self.tasks.run)  # its loop on the panel's pool
            self.watcher = watcher

    def _watch_client(self) -> SyncClient | None:
        return _watch_client(self._latest)

    def _auto_sync(self) -> None:
        self.start_sync()

    def shutdown(self) -> None:
        """Stop the watcher and let a running sync end at its next batch (nothing is lost)."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait()
