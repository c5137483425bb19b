"""The list of registrations: search, filters, the lazy table, and opening a record."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storage.models import STATUS_LABELS
from ui.labels import t, term
from ui.record_dialog import open_record
from ui.registrations_model import RegistrationsModel
from ui.status_bar import thousands

SEARCH_DELAY_MS = 250
# Columns that grow to their longest text in the rows shown (up to a limit, in pixels), so a
# kegiatan's name or a status is not cut off: name, kelurahan, kegiatan, status.
FIT_COLUMNS = {1: 320, 3: 220, 4: 520, 5: 260}


class RegistrationsView(QWidget):
    """Search box, kelurahan/event/status filters, the table and the match count."""

    def __init__(self, worker: Any, parent: QWidget | None = None):
        super().__init__(parent)
        from storage.registry import RegistrationFilter

        self._filter_type = RegistrationFilter
        self._worker = worker
        reader = worker.readonly
        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText(t("list.search"))
        self.search.setClearButtonEnabled(True)
        self.kelurahan = QComboBox(self)
        self.kelurahan.setObjectName("filter_kelurahan")
        self.kelurahan.addItem(t("list.all_kelurahan"), "")
        for kec in reader.regions.kecamatan_list():
            for kel in reader.regions.kelurahan_list(kec.code):
                self.kelurahan.addItem(f"{kel.name} ({kec.name})", kel.code)
        self.event = QComboBox(self)
        self.event.setObjectName("filter_event")
        self.status = QComboBox(self)
        self.status.setObjectName("filter_status")
        self.status.addItem(t("list.all_status"), "")
        for status in STATUS_LABELS:
            self.status.addItem(term("status", status.value), status.value)
        self.count = QLabel(self)
        self.count.setObjectName("count")
        self.reload_events()

        self.model = RegistrationsModel(reader, parent=self)
        self.table = QTableView(self)
        self.table.setObjectName("registrations")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # Tab and Shift+Tab leave the table (to the filters) instead of walking its cells; the
        # arrow keys walk the rows. Ctrl+Tab and Ctrl+PgUp/PgDown switch tabs (ui/tab_keys.py).
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((130, 200, 90, 130, 220, 150, 110, 80)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        for key in ("Return", "Enter"):
            QShortcut(QKeySequence(key), self.table, activated=self._open_current,
                      context=Qt.ShortcutContext.WidgetShortcut)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        filters.addWidget(self.kelurahan, 1)
        filters.addWidget(self.event, 1)
        filters.addWidget(self.status, 1)
        filters.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table)

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textEdited.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self._search_entered)
        for combo in (self.kelurahan, self.event, self.status):
            combo.activated.connect(lambda _index: self.apply_filter())
        self._update_count()
        self.fit_columns()

    def reload_events(self) -> None:
        current = self.event.currentData() or ""
        self.event.clear()
        self.event.addItem(t("list.all_events"), "")
        for ev in self._worker.readonly.events():
            self.event.addItem(ev.name, ev.id)
        self.event.setCurrentIndex(max(self.event.findData(current), 0))

    def current_filter(self) -> Any:
        return self._filter_type(
            text=self.search.text().strip(),
            kelurahan_code=self.kelurahan.currentData() or "",
            event_id=self.event.currentData() or "",
            status=self.status.currentData() or "",
        )

    def apply_filter(self) -> None:
        self._search_timer.stop()
        self.model.set_filter(self.current_filter())
        self._update_count()
        self.fit_columns()

    def refresh(self) -> None:
        """After a save or a sync: the same filter, fetched again."""
        self.reload_events()
        self.model.refresh()
        self._update_count()
        self.fit_columns()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit_columns()  # what is left for the last column changed

    def fit_columns(self) -> None:
        """Widen the text columns to what the loaded rows hold (never narrower than set)."""
        for column, limit in FIT_COLUMNS.items():
            wanted = min(self.table.sizeHintForColumn(column) + 12, limit)
            if wanted > self.table.columnWidth(column):
                self.table.setColumnWidth(column, wanted)
        # The last column (Diperbarui) fills what is left, but never less than its text: when
        # the others take too much, it keeps its width and the table scrolls sideways.
        last = self.model.columnCount() - 1
        header = self.table.horizontalHeader()
        others = sum(self.table.columnWidth(c) for c in range(last))
        needed = self.table.sizeHintForColumn(last) + 2
        header.setStretchLastSection(self.table.viewport().width() - others >= needed)
        if not header.stretchLastSection():
            self.table.setColumnWidth(last, needed)

    def open_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            open_record(self, self._worker, self.model.id_at(row))

    def _open_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.open_row(index.row())

    def _search_entered(self) -> None:
        self.apply_filter()
        if self.model.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)

    def _update_count(self) -> None:
        self.count.setText(t("list.count", n=thousands(self.model.total())))
