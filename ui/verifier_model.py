"""The verifier's list: one page of registration summaries from the server (masked NIK only),
as a table model. It needs no window: give it the names to show codes with and the server's
items, and read its cells (tests do exactly that)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt

from ui.labels import t, term
from ui.timefmt import format_time
from ui.verifier_detail import Names, flags, status_text

# The list's columns, titled by the labels "ver.col.<name>".
COLUMNS = ("name", "nik", "kelurahan", "cohort", "occupation", "status", "notes", "event",
           "received")
COLUMN_WIDTHS = (220, 125, 115, 105, 115, 115, 135, 140)  # the last column stretches
SHOWN = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)


class SummaryModel(QAbstractTableModel):
    """`SummaryModel(names)`; `set_items(items)` shows a page; `cell(item, column)` is the
    text of one cell (its tooltip too: a long note or kegiatan cut with "…" reads whole)."""

    def __init__(self, names: Names, parent: QObject | None = None):
        super().__init__(parent)
        self.names = names
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
        if not index.isValid() or role not in SHOWN:
            return None
        return self.cell(self.items[index.row()], index.column())

    def row_of(self, reg_id: str) -> int | None:
        return next((row for row, item in enumerate(self.items) if item["id"] == reg_id), None)

    def cell(self, item: dict, column: int) -> str:
        return CELLS[COLUMNS[column]](item, self.names)


CELLS = {
    "name": lambda item, names: item.get("full_name", ""),
    "nik": lambda item, names: item.get("nik_masked", ""),
    "kelurahan": lambda item, names: names.kelurahan(item.get("kelurahan_code") or ""),
    "cohort": lambda item, names: term("cohort", item.get("cohort") or ""),
    "occupation": lambda item, names: names.occupations.get(
        item.get("occupation_code") or "", item.get("occupation_code") or ""),
    "status": lambda item, names: status_text(item),
    "notes": lambda item, names: flags(item),
    "event": lambda item, names: item.get("event_name") or names.events.get(
        item.get("event_id") or "", ""),
    "received": lambda item, names: format_time(item.get("received_at")),
}
