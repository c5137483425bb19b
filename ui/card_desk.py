"""The card desk: members ready to print, batch printing with preview, the system's print dialog
or "Simpan sebagai PDF", hand-over and reprints.

The PDF is made on a background thread (cards.pdf.render_pdf) with a progress bar and cancel.
Printing rasterises that same PDF page by page (cards/raster.py) and paints the pages on the
QPrinter, also off the main thread, so the printed card is exactly the saved one. Only when the
PDF or the print job is complete are the cards recorded as printed, through the DbWorker.

Hand-over and reprint are ops/cards.py, shared with the command line. A reprint on a desk
enrolled with the server is asked of the server on the panel's thread pool (the database worker
only reads the card version before and keeps the answer after); a device without a server signs
it locally with its demo key.

Every print, hand-over and reprint names the operator logged in to the window (ui/session.py),
read on the main thread when the step starts, never inside a background job. Only an operator
whose role (and this device's role) allows the card desk may use it: the buttons are disabled
for anyone else and each step refuses even when reached another way.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QRunnable,
    QSizeF,
    Qt,
    QThread,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cards import desk, validity
from cards.pdf import BatchCancelled, render_pdf
from cards.raster import rasterise_page
from ops import cards as card_ops
from storage import roles
from storage.models import COHORT_LABELS
from storage.vocabulary import REPRINT_REASONS
from sync.client import SyncError
from ui.combos import choices, kelurahan_choices, refill
from ui.labels import t, term
from ui.timefmt import format_date

PAGE_SIZE = 200
COLUMNS = ("name", "nik", "member", "cohort", "kelurahan", "serial", "valid_until")  # desk.col.*
VIEWS = {  # titled by the label "desk.view.<key>"
    "ready": (desk.members_ready_to_print, desk.count_ready_to_print),
    "hand_over": (desk.cards_to_hand_over, desk.count_to_hand_over),
    "all": (desk.current_cards, desk.count_current_cards),
}
ID_ROLE = Qt.ItemDataRole.UserRole + 1
_AnyIndex = QModelIndex | QPersistentModelIndex


class CardRowsModel(QAbstractTableModel):
    """Card rows fetched lazily, a page at a time, from the read-only registry."""

    def __init__(self, reader: Any, parent: QObject | None = None):
        super().__init__(parent)
        self.reader = reader
        self.view = "ready"
        self.filters = desk.CardFilter()
        self.rows: list[desk.CardRow] = []
        self._exhausted = False

    def reload(self, view: str | None = None, filters: desk.CardFilter | None = None) -> None:
        self.beginResetModel()
        self.view = view or self.view
        self.filters = filters or self.filters
        self.rows = self._page(0)
        self._exhausted = len(self.rows) < PAGE_SIZE
        self.endResetModel()

    def total(self) -> int:
        return VIEWS[self.view][1](self.reader, self.filters)

    def _page(self, offset: int) -> list[desk.CardRow]:
        return VIEWS[self.view][0](self.reader, self.filters, offset=offset, limit=PAGE_SIZE)

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: _AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: _AnyIndex = QModelIndex()) -> None:  # noqa: B008
        more = self._page(len(self.rows))
        self._exhausted = len(more) < PAGE_SIZE
        if more:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(more) - 1)
            self.rows.extend(more)
            self.endInsertRows()

    def fetch_all(self) -> None:
        while self.canFetchMore():
            self.fetchMore()

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return t(f"desk.col.{COLUMNS[section]}")
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == ID_ROLE:
            return row.registration_id
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        kelurahan = self.reader.regions.kelurahan(row.kelurahan_code)
        values = (
            row.full_name, row.nik_masked, row.member_number,
            term("cohort", row.cohort),
            kelurahan.name if kelurahan else row.kelurahan_code,
            f"{row.serial}/{row.version}", format_date(row.valid_until),
        )
        return values[index.column()]


class CardJob(QObject):
    """Makes the PDF and, for printing, paints its pages on a QPrinter; runs on its own thread.

    `done(pages)` after everything was produced, `failed(exc)` otherwise (BatchCancelled when
    the operator cancelled)."""

    progress = Signal(int, int)
    done = Signal(int)
    failed = Signal(object)

    def __init__(self, cards: list, out: Path, layout: str, printer: QPrinter | None = None):
        super().__init__()
        self.cards, self.out, self.layout, self.printer = cards, Path(out), layout, printer
        self.cancel = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            pages = render_pdf(self.cards, self.out, self.layout,
                               progress=lambda d, t: self.progress.emit(d, t), cancel=self.cancel)
            if self.printer is not None:
                paint_pdf(self.printer, self.out, pages, self.cancel)
        except Exception as exc:  # handed to the main thread, which shows it
            self.failed.emit(exc)
            return
        self.done.emit(pages)


class _Relay(QObject):
    """Lives on the main thread; server calls on the pool report through it (queued)."""

    done = Signal(int, object)  # call number, result
    failed = Signal(int, object)  # call number, exception


class _ServerCall(QRunnable):
    """One HTTP request off the main thread; never touches the database."""

    def __init__(self, relay: _Relay, number: int, fn: Callable[[], Any]):
        super().__init__()
        self.relay, self.number, self.fn = relay, number, fn

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - handed to the main thread, which shows it
            self.relay.failed.emit(self.number, exc)
        else:
            self.relay.done.emit(self.number, result)


def paint_pdf(printer: QPrinter, pdf: Path, pages: int, cancel: threading.Event | None = None,
              dpi: int = 300) -> None:
    """Paint each PDF page, rasterised at `dpi`, over the whole paper; aborts on cancel."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(t("desk.printer_failed"))
    try:
        for page in range(1, pages + 1):
            if cancel is not None and cancel.is_set():
                printer.abort()
                raise BatchCancelled()
            if page > 1 and not printer.newPage():
                raise OSError(t("desk.printer_stopped"))
            image = QImage.fromData(rasterise_page(pdf, page, dpi), "PNG")
            # True size from the paper's corner (full-page mode): never stretched to the paper,
            # so a card stays 85.60 x 53.98 mm whatever paper the printer reports.
            scale = printer.resolution() / dpi
            painter.drawImage(QRectF(0, 0, image.width() * scale, image.height() * scale), image)
    finally:
        painter.end()


def printer_for(layout: str) -> QPrinter:
    """A printer set to the layout's paper (A4 portrait, or ID-1 landscape for a card
    printer), printing from the paper's corner."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if layout == "cr80":
        size = QPageSize(QSizeF(85.60, 53.98), QPageSize.Unit.Millimeter, "CR80",
                         QPageSize.SizeMatchPolicy.ExactMatch)
    else:
        size = QPageSize(QPageSize.PageSizeId.A4)
    printer.setPageSize(size)
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)
    return printer


class CardDeskPanel(QWidget):
    """The card desk tab. `worker` is the DbWorker; reads use `worker.readonly`."""

    printed = Signal(int)  # cards recorded as printed

    def __init__(self, worker: Any, parent: QWidget | None = None, *, data_dir: Path | None = None,
                 operator: str = "petugas cetak"):
        super().__init__(parent)
        self.worker = worker
        self.operator = operator  # recorded only outside a logged-in window (tests, scripts)
        self._data_dir = data_dir
        self._job: CardJob | None = None
        self._thread: QThread | None = None
        self._progress: QProgressDialog | None = None
        self.model = CardRowsModel(worker.readonly, self)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._server_done)
        self._relay.failed.connect(self._server_failed)
        self._calls: dict[int, tuple[Callable, Callable]] = {}
        self._numbers = 0
        self._reprinting = False  # a reprint asked of the server waits for its answer
        self._build()
        self.refresh()

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        self.view_box = QComboBox(self)
        for key in VIEWS:
            self.view_box.addItem(t(f"desk.view.{key}"), key)
        self.kecamatan = QComboBox(self)
        self.kecamatan.addItem(t("desk.all_kecamatan"), "")
        regions = self.worker.readonly.regions
        for kec in regions.kecamatan_list():
            self.kecamatan.addItem(kec.name, kec.code)
        self.kelurahan = QComboBox(self)
        self.cohort = QComboBox(self)
        self.cohort.addItem(t("desk.all_cohorts"), "")
        for value in COHORT_LABELS:
            self.cohort.addItem(term("cohort", value.value), value.value)
        self.event = QComboBox(self)
        self._fill_events()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(t("desk.search"))
        self.search.setClearButtonEnabled(True)
        self._fill_kelurahan()

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((260, 150, 170, 140, 160, 90)):
            self.table.setColumnWidth(column, width)
        self.count_label = QLabel(self)
        self.note = QLabel(self)  # the outcome of the last reprint (the count is refreshed)
        self.note.setObjectName("card_note")

        self.layout_box = QComboBox(self)
        self.layout_box.addItem(t("desk.layout.a4"), "a4")
        self.layout_box.addItem(t("desk.layout.cr80"), "cr80")
        self.select_all_button = QPushButton(t("desk.select_all"), self)
        self.preview_button = QPushButton(t("desk.preview"), self)
        self.print_button = QPushButton(t("desk.print"), self)
        self.save_button = QPushButton(t("desk.save_pdf"), self)
        self.handover_button = QPushButton(t("desk.hand_over"), self)
        self.reprint_button = QPushButton(t("desk.reprint"), self)

        filters = QHBoxLayout()
        for widget in (self.view_box, self.kecamatan, self.kelurahan, self.cohort, self.event):
            filters.addWidget(widget)
        filters.addWidget(self.search, 1)
        actions = QHBoxLayout()
        for widget in (self.layout_box, self.select_all_button, self.preview_button,
                       self.print_button, self.save_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(self.handover_button)
        actions.addWidget(self.reprint_button)
        root = QVBoxLayout(self)
        root.addLayout(filters)
        root.addWidget(self.table, 1)
        root.addWidget(self.count_label)
        root.addWidget(self.note)
        root.addLayout(actions)

        self.kecamatan.currentIndexChanged.connect(self._fill_kelurahan)
        for box in (self.view_box, self.kelurahan, self.cohort, self.event):
            box.currentIndexChanged.connect(self.refresh)
        self.search.returnPressed.connect(self.refresh)
        self.select_all_button.clicked.connect(self.select_all)
        self.preview_button.clicked.connect(self.preview)
        self.print_button.clicked.connect(self.print_dialog)
        self.save_button.clicked.connect(self.save_dialog)
        self.handover_button.clicked.connect(self.hand_over_dialog)
        self.reprint_button.clicked.connect(self.reprint_dialog)
        self.worker.changed.connect(self.refresh)

    def _fill_kelurahan(self) -> None:
        refill(self.kelurahan, kelurahan_choices(
            self.worker.readonly.regions, self.kecamatan.currentData(), t("desk.all_kelurahan")))
        self.refresh()

    def _fill_events(self) -> None:
        """The kegiatan of the cards this desk holds (most registered on other devices, whose
        kegiatan names this device may not know). Refilled as cards arrive in sync."""
        events = [(t("desk.all_events"), "")] + [
            (name or t("desk.other_event", code=event_id[-8:]), event_id)
            for event_id, name in desk.card_events(self.worker.readonly)
        ]
        if events != choices(self.event):
            refill(self.event, events)

    # -- list -----------------------------------------------------------------------------

    def filters(self) -> desk.CardFilter:
        return desk.CardFilter(
            kecamatan_code=self.kecamatan.currentData() or "",
            kelurahan_code=self.kelurahan.currentData() or "",
            cohort=self.cohort.currentData() or "",
            event_id=self.event.currentData() or "",
            text=self.search.text(),
        )

    def refresh(self) -> None:
        if not hasattr(self, "table"):
            return
        self._fill_events()
        self.model.reload(self.view_box.currentData(), self.filters())
        view = self.view_box.currentData()
        self.count_label.setText(t("desk.count", view=t(f"desk.view.{view}"),
                                   n=self.model.total()))
        ready = view == "ready"
        for button in (self.preview_button, self.print_button, self.save_button):
            button.setEnabled(ready)
        self.handover_button.setEnabled(view == "hand_over")
        self.apply_roles()

    # -- who acts, and may they -----------------------------------------------------------

    def allowed(self) -> bool:
        """Whether the operator of the window may use the card desk (a panel outside a window
        with a session, as in tests and scripts, is limited by the server alone)."""
        from ui.session import may

        return may(self, roles.CARDS)

    def who(self) -> dict[str, str] | str:
        """Who a step is recorded for: the logged-in operator (`{"username",
        "display_name"}`), read on the main thread; outside a logged-in window the name the
        panel was given."""
        from ui.session import session_of

        session = session_of(self)
        if session is not None and session.operator is not None:
            return session.operator_ref()
        return self.operator

    def apply_roles(self) -> None:
        """Disable every step for an operator who may not use the desk (the window hides the
        tab too; this holds when the panel is reached anyway)."""
        if self.allowed():
            # refresh() sets what the current view allows; these two depend on nothing else.
            self.select_all_button.setEnabled(True)
            self.reprint_button.setEnabled(not self._reprinting)
            return
        for button in (self.preview_button, self.print_button, self.save_button,
                       self.handover_button, self.reprint_button, self.select_all_button):
            button.setEnabled(False)
        self.note.setText(t("desk.not_allowed"))

    def _refuse(self) -> bool:
        """True (and says why) when the operator may not use the desk."""
        if self.allowed():
            return False
        self.apply_roles()
        QMessageBox.warning(self, t("desk.title"), t("desk.not_allowed"))
        return True

    def select_all(self) -> None:
        self.model.fetch_all()
        self.table.selectAll()

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r].registration_id for r in rows]

    # -- printing -------------------------------------------------------------------------

    def _need_selection(self) -> list[str] | None:
        if self._refuse():
            return None
        ids = self.selected_ids()
        if not ids:
            QMessageBox.information(self, t("desk.title"), t("desk.choose_some"))
            return None
        return ids

    def _short_validity_accepted(self, ids: list[str]) -> bool:
        """Asks before printing a card valid for less than the configured 90 days (No is the
        default); True when there is none or the operator goes on."""
        ends = {r.registration_id: r.valid_until for r in self.model.rows}
        rule = validity.rule_for(date.today())
        warning = validity.batch_warning([ends[i] for i in ids if i in ends],
                                         warn_below_days=rule.warn_below_days)
        if not warning:
            return True
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        return QMessageBox.question(self, t("desk.title"),
                                    t("desk.short_validity", warning=warning), yes | no,
                                    no) == yes

    def save_dialog(self) -> None:
        if (ids := self._need_selection()) is None or not self._short_validity_accepted(ids):
            return
        path, _ = QFileDialog.getSaveFileName(self, t("desk.save_title"), t("desk.pdf_name"),
                                              t("desk.pdf_filter"))
        if path:
            self.start_batch(ids, Path(path))

    def print_dialog(self) -> None:
        if (ids := self._need_selection()) is None or not self._short_validity_accepted(ids):
            return
        printer = printer_for(self.layout_box.currentData())
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self.start_batch(ids, None, printer=printer)

    def preview(self) -> None:
        """Shows the first sheet (or card) of the selection; nothing is recorded."""
        if (ids := self._need_selection()) is None:
            return
        per_page = 10 if self.layout_box.currentData() == "a4" else 1
        self.worker.call(desk.load_print_cards, ids[:per_page], on_result=self._show_preview,
                         on_error=self._show_error)

    def _show_preview(self, cards: list) -> None:
        folder = Path(tempfile.mkdtemp(prefix="pratinjau-kartu-"))
        pdf = folder / "pratinjau.pdf"
        pages = render_pdf(cards, pdf, self.layout_box.currentData())  # one sheet: quick
        dialog = QPrintPreviewDialog(self)
        dialog.setWindowTitle(t("desk.preview_title"))
        dialog.paintRequested.connect(lambda printer: paint_pdf(printer, pdf, pages, dpi=150))
        self.preview_dialog = dialog
        dialog.open()

    def start_batch(self, ids: list[str], out: Path | None, *, printer: QPrinter | None = None,
                    on_finished: Callable[[bool], None] | None = None) -> None:
        """Load the cards, make the PDF (and print it) off the main thread, then record them.
        `on_finished(recorded)` is for callers that wait (tests, batch scripts)."""
        if self._refuse():
            if on_finished:
                on_finished(False)
            return
        layout = self.layout_box.currentData()
        operator = self.who()  # now, on the main thread: whoever started the batch

        def loaded(cards: list) -> None:
            target = out or Path(tempfile.mkdtemp(prefix="cetak-kartu-")) / "kartu.pdf"
            self._run_job(CardJob(cards, target, layout, printer), cards, on_finished, operator)

        self.worker.call(desk.load_print_cards, ids, on_result=loaded,
                         on_error=lambda exc: self._finish_error(exc, on_finished))

    def _run_job(self, job: CardJob, cards: list, on_finished, operator: Any) -> None:
        self._progress = QProgressDialog(t("desk.preparing"), t("progress.cancel"), 0, len(cards),
                                         self)
        self._progress.setWindowTitle(t("desk.print_title"))
        self._progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._progress.setMinimumDuration(300)
        self._progress.setAutoClose(False)
        self._progress.canceled.connect(job.cancel.set)
        thread = QThread(self)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.progress.connect(lambda done, total: self._progress.setValue(done))
        job.done.connect(lambda pages: self._job_done(cards, on_finished, operator))
        job.failed.connect(lambda exc: self._finish_error(exc, on_finished))
        for signal in (job.done, job.failed):
            signal.connect(thread.quit)
        self._job, self._thread = job, thread
        thread.start()

    def cancel_batch(self) -> None:
        if self._job is not None:
            self._job.cancel.set()

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.reset()
            self._progress.deleteLater()
            self._progress = None

    def _job_done(self, cards: list, on_finished, operator: Any) -> None:
        self._close_progress()
        keys = [(c.serial, c.version) for c in cards]

        def recorded(count: int) -> None:
            self.count_label.setText(t("desk.printed", n=count))
            self.printed.emit(count)
            if on_finished:
                on_finished(True)

        self.worker.call(lambda registry: desk.record_printed(registry, keys, operator=operator),
                         on_result=recorded, on_error=lambda e: self._finish_error(e, on_finished),
                         changes=True)

    def _finish_error(self, exc: BaseException, on_finished) -> None:
        self._close_progress()
        if isinstance(exc, BatchCancelled):
            self.count_label.setText(t("desk.cancelled"))
        else:
            self._show_error(exc)
        if on_finished:
            on_finished(False)

    def _show_error(self, exc: BaseException) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, t("desk.title"), _message(exc),
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("card_error_box")
        box.open()
        self.last_error = exc

    # -- hand-over and reprint ----------------------------------------------------------

    def _one_selected(self) -> str | None:
        if self._refuse():
            return None
        ids = self.selected_ids()
        if len(ids) != 1:
            QMessageBox.information(self, t("desk.title"), t("desk.choose_one"))
            return None
        return ids[0]

    def hand_over_dialog(self) -> None:
        if (reg_id := self._one_selected()) is None:
            return
        name, ok = QInputDialog.getText(self, t("desk.hand_over_title"),
                                        t("desk.hand_over_prompt"))
        if ok:
            self.hand_over(reg_id, name)

    def hand_over(self, reg_id: str, received_by: str, on_done=None) -> None:
        if self._refuse():
            return
        operator = self.who()
        self.worker.call(
            lambda registry: card_ops.hand_over(registry, reg_id, received_by=received_by,
                                                operator=operator),
            on_result=on_done, on_error=self._show_error, changes=True,
        )

    def reprint_dialog(self) -> None:
        if (reg_id := self._one_selected()) is None:
            return
        codes = list(REPRINT_REASONS)
        shown = [t(f"reprint.{code}") for code in codes]
        label, ok = QInputDialog.getItem(self, t("desk.reprint_title"), t("desk.reprint_prompt"),
                                         shown, 0, False)
        if ok:
            self.reprint(reg_id, codes[shown.index(label)])

    def reprint(self, reg_id: str, reason: str, on_done=None, on_error=None) -> None:
        """Reprint the current card; `on_done((serial, version))` once the new card is kept,
        `on_error(exc)` after the error was shown (nothing changed then)."""
        if self._refuse():
            return
        operator, data_dir = self.who(), self._data_dir

        failed = lambda exc: self._reprint_failed(exc, on_error)  # noqa: E731

        def planned(plan: card_ops.ReprintPlan) -> None:
            if plan.on_server:
                self._send_reprint(plan, reason, operator, on_done, on_error)
                return
            self.worker.call(
                lambda registry: card_ops.reprint_locally(registry, reg_id, reason,
                                                          operator=operator, data_dir=data_dir),
                on_result=lambda result: self._reprinted(result, on_done),
                on_error=failed, changes=True)

        self.worker.call(card_ops.plan_reprint, reg_id, on_result=planned, on_error=failed)

    def _send_reprint(self, plan: card_ops.ReprintPlan, reason: str, operator: Any,
                      on_done, on_error) -> None:
        self._reprinting = True
        self.reprint_button.setEnabled(False)
        self.note.setText(t("desk.reprint_asking"))
        failed = lambda exc: self._reprint_failed(exc, on_error)  # noqa: E731

        def answered(answer: dict) -> None:
            self.worker.call(
                lambda registry: card_ops.keep_answer(registry, plan, answer, reason,
                                                      operator=operator),
                on_result=lambda result: self._reprinted(result, on_done),
                on_error=failed, changes=True)

        self._start_call(lambda: card_ops.ask_server(plan, reason, operator=operator),
                         answered, failed)

    def _reprinted(self, result: tuple[int, int], on_done) -> None:
        self._reprinting = False
        self.reprint_button.setEnabled(True)
        serial, version = result
        self.note.setText(t("desk.reprinted", serial=serial, version=version))
        if on_done:
            on_done(result)

    def _reprint_failed(self, exc: BaseException, on_error) -> None:
        self._reprinting = False
        self.reprint_button.setEnabled(True)
        self.note.setText(t("desk.reprint_not_done"))
        self._show_error(exc)
        if on_error:
            on_error(exc)

    # -- server calls off the main thread -------------------------------------------------

    def _start_call(self, fn: Callable[[], Any], on_done: Callable, on_error: Callable) -> None:
        self._numbers += 1
        self._calls[self._numbers] = (on_done, on_error)
        self.pool.start(_ServerCall(self._relay, self._numbers, fn))

    def _server_done(self, number: int, result: Any) -> None:
        self._calls.pop(number)[0](result)

    def _server_failed(self, number: int, exc: BaseException) -> None:
        self._calls.pop(number)[1](exc)

    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def shutdown(self) -> None:
        self.pool.waitForDone(30_000)


def _message(exc: BaseException) -> str:
    if isinstance(exc, SyncError):
        return exc.message
    if isinstance(exc, desk.CardDeskError | OSError | RuntimeError | ValueError) and str(exc):
        return str(exc)
    return t("desk.error")
