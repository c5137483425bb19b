"""The list of registrations as a lazy Qt table model.

Rows come from `registry.query(filter, offset, limit)` one page at a time, when the view asks
for more (`canFetchMore`/`fetchMore`), so 228,000 registrations open as fast as 100. The total
is counted only when someone asks for it (the count label), never to build the first screen.
The model needs no window: tests drive it through rowCount, data and fetchMore alone.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ui.labels import t, term
from ui.timefmt import format_date, format_time

COLUMNS = ("nik", "full_name", "birth_date", "kelurahan", "event", "status", "kpj", "sync",
           "updated")
_HEADER_KEYS = {
    "nik": "col.nik",
    "full_name": "col.full_name",
    "birth_date": "col.birth_date",
    "kelurahan": "col.kelurahan",
    "event": "col.event",
    "status": "col.status",
    "kpj": "col.kpj",
    "sync": "col.sync",
    "updated": "col.updated",
}
ID_ROLE = Qt.ItemDataRole.UserRole + 1

_AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()  # the table's only parent


def format_timestamp(value: str) -> str:
    """An ISO timestamp as 24-11-2026 14:05 in local time (shown, never used for ordering)."""
    return format_time(value)


def sync_label(state: str) -> str:
    key = f"sync.{state}"
    try:
        return t(key)
    except KeyError:
        return state


class RegistrationsModel(QAbstractTableModel):
    """Registrations matching a filter, fetched lazily in pages of `page_size` rows."""

    def __init__(self, registry: Any, filter: Any = None, page_size: int = 200, parent=None):
        super().__init__(parent)
        from storage.registry import RegistrationFilter

        self._registry = registry
        self._filter = filter if filter is not None else RegistrationFilter()
        self._page_size = page_size
        self._rows: list[Any] = []
        self._exhausted = False
        self._total: int | None = None
        self._fetch_page()

    # -- what the view asks -----------------------------------------------------------------

    def rowCount(self, parent: _AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: _AnyIndex = _ROOT) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: _AnyIndex = _ROOT) -> None:
        if parent.isValid() or self._exhausted:
            return
        self._fetch_page()

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.ToolTipRole and column in ("full_name", "kelurahan",
                                                              "event", "status"):
            return self._display(row, column)  # the whole text, should a narrow column cut it
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return t(_HEADER_KEYS[COLUMNS[section]])
        return str(section + 1)

    # -- what the window asks ---------------------------------------------------------------

    @property
    def filter(self) -> Any:
        return self._filter

    def set_filter(self, filter: Any) -> None:
        """Show the registrations matching `filter` (a storage RegistrationFilter)."""
        self._filter = filter
        self.refresh()

    def refresh(self) -> None:
        """Drop the fetched rows and start again from the first page (after a save or sync)."""
        self.beginResetModel()
        self._rows = []
        self._exhausted = False
        self._total = None
        self._fetch_page(notify=False)
        self.endResetModel()

    def total(self) -> int:
        """How many registrations match the filter (counted once per filter)."""
        if self._total is None:
            self._total = self._registry.count(self._filter)
        return self._total

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def id_at(self, row: int) -> str:
        return self._rows[row].id

    # -- internals --------------------------------------------------------------------------

    def _fetch_page(self, notify: bool = True) -> None:
        page = self._registry.query(self._filter, offset=len(self._rows), limit=self._page_size)
        if len(page) < self._page_size:
            self._exhausted = True
        if not page:
            return
        if notify:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        if notify:
            self.endInsertRows()

    @staticmethod
    def _display(row: Any, column: str) -> str:
        if column == "nik":
            return row.nik_masked  # the registry never hands the list a full NIK
        if column == "full_name":
            return row.full_name
        if column == "birth_date":
            return format_date(row.birth_date)
        if column == "kelurahan":
            return row.kelurahan_name or ""
        if column == "event":
            return row.event_name or ""
        if column == "status":
            return term("status", row.status)
        if column == "kpj":
            return getattr(row, "kpj", "")  # "" until BPJS's answer reaches this device
        if column == "sync":
            return sync_label(row.sync_state or "")
        if column == "updated":
            return format_timestamp(row.updated_at or "")
        return ""
