"""How the tabs' lists look: whole rows chosen, one line a row, no row numbers, starting column
widths the operator may drag, the last column taking the room left."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

ROW_HEIGHT = 24


def list_table(table: QTableView, widths: tuple[int, ...], *, many: bool = False) -> None:
    """Set `table` up as a list of rows (several chosen at once when `many`)."""
    modes = QAbstractItemView.SelectionMode
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(modes.ExtendedSelection if many else modes.SingleSelection)
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
