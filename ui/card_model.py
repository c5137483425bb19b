"""The card desk's list: card rows fetched lazily, a page at a time, from the read-only
registry (cards/desk.py), in one of three views: ready to print, to hand over, every current
card. Masked NIK only."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from cards import desk
from ui.labels import t, term
from ui.timefmt import format_date

PAGE_SIZE = 200
# Titled by desk.col.<name>; the KPJ is empty until BPJS's answer reaches this desk.
COLUMNS = ("name", "nik", "member", "cohort", "kelurahan", "serial", "valid_until", "kpj")
VIEWS = {  # titled by the label "desk.view.<key>"
    "ready": (desk.members_ready_to_print, desk.count_ready_to_print),
    "hand_over": (desk.cards_to_hand_over, desk.count_to_hand_over),
    "all": (desk.current_cards, desk.count_current_cards),
}
ID_ROLE = Qt.ItemDataRole.UserRole + 1
_AnyIndex = QModelIndex | QPersistentModelIndex


class CardRowsModel(QAbstractTableModel):
    """`reload(view, filters)` shows the first page; Qt fetches more as the table scrolls."""

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
        return self.values(row)[index.column()]

    def values(self, row: desk.CardRow) -> tuple[str, ...]:
        """One row's cells, in the order of COLUMNS."""
        kelurahan = self.reader.regions.kelurahan(row.kelurahan_code)
        return (row.full_name, row.nik_masked, row.member_number, term("cohort", row.cohort),
                kelurahan.name if kelurahan else row.kelurahan_code,
                f"{row.serial}/{row.version}", format_date(row.valid_until), row.kpj)
