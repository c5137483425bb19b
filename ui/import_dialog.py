"""The import dialog: how the list was read, the mapping step (which column is which, one combo
box per column of the file) and the dry run's counts, before anything is saved.

The dialog only collects choices and shows results; reading, judging and saving happen in
storage/ on the database thread (ui/csv_import.py runs them). Sample values are shown so the
operator can recognise a column; anything that looks like a NIK is masked.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.labels import t, term

_LONG_NUMBER = re.compile(r"\d{10,}")


def masked_sample(text: str) -> str:
    """Sample values never show a whole NIK (or any long number)."""
    return _LONG_NUMBER.sub(lambda m: m.group(0)[:6] + "*" * (len(m.group(0)) - 6), text)


def id_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


SOURCE_WIDTH = 230  # the file's column header, at most
SAMPLE_WIDTH = 240


class ImportDialog(QDialog):
    """`dry_run_requested` and `import_requested` carry (mapping, accept_warnings)."""

    dry_run_requested = Signal(list, bool)
    import_requested = Signal(list, bool)

    def __init__(self, parent: QWidget | None, table: Any, mapping: list[str], kept: bool,
                 *, accept_warnings: bool = False):
        super().__init__(parent)
        from storage.csv_import import COLUMNS

        self.setObjectName("import_dialog")
        self.setWindowTitle(t("import.dialog_title", name=table.name))
        self.table = table
        self.columns = COLUMNS
        layout = QVBoxLayout(self)
        layout.addWidget(self._source_label(table))
        if table.notices:
            notices = QLabel("\n".join(f"• {n}" for n in table.notices))
            notices.setObjectName("import_notices")
            notices.setWordWrap(True)
            notices.setStyleSheet("color: #8a5a00;")
            layout.addWidget(notices)
        helptext = t("import.mapping_help") + (" " + t("import.mapping_kept") if kept else "")
        self.mapping_help = QLabel(helptext)
        self.mapping_help.setWordWrap(True)
        layout.addWidget(self.mapping_help)
        self.grid = self._mapping_table(table, mapping)
        layout.addWidget(self.grid, 1)
        self.mapping_state = QLabel()
        self.mapping_state.setObjectName("mapping_state")
        self.mapping_state.setWordWrap(True)
        layout.addWidget(self.mapping_state)
        self.accept_warnings = QCheckBox(t("import.accept_warnings"))
        self.accept_warnings.setChecked(accept_warnings)
        self.accept_warnings.toggled.connect(lambda _on: self.result.clear())
        layout.addWidget(self.accept_warnings)
        self.result = QLabel()
        self.result.setObjectName("dry_run_result")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)
        buttons = QDialogButtonBox()
        cancel = buttons.addButton(t("progress.cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setObjectName("import_cancel")
        self.dry_run_button = QPushButton(t("import.dry_run"))
        self.import_button = QPushButton(t("import.start"))
        self.import_button.setDefault(True)
        buttons.addButton(self.dry_run_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.dry_run_button.clicked.connect(
            lambda: self.dry_run_requested.emit(self.mapping(), self.accept_warnings.isChecked()))
        self.import_button.clicked.connect(
            lambda: self.import_requested.emit(self.mapping(), self.accept_warnings.isChecked()))
        layout.addWidget(buttons)
        self.resize(1000, 560)
        self._update_state()

    def _source_label(self, table: Any) -> QLabel:
        rows = id_number(len(table.rows))
        text = (t("import.source", sheet=table.sheet, line=table.header_line, rows=rows)
                if table.kind == "xlsx" else t("import.source_csv", rows=rows))
        label = QLabel(text)
        label.setObjectName("import_source")
        return label

    def _mapping_table(self, table: Any, mapping: list[str]) -> QTableWidget:
        from storage.import_mapping import column_letter

        grid = QTableWidget(len(table.headers), 3)
        grid.setObjectName("mapping_table")
        grid.setHorizontalHeaderLabels([t("import.col_source"), t("import.col_sample"),
                                        t("import.col_target")])
        grid.verticalHeader().hide()
        grid.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = grid.horizontalHeader()
        # The file's own headers and samples are cut with "…" past a fixed width (the user may
        # drag them wider): a long header must not squeeze the choice and its hint.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.combos: list[QComboBox] = []
        for row, label in enumerate(table.headers):
            source = QTableWidgetItem(f"{column_letter(row)}: {label}" if label
                                      else column_letter(row))
            grid.setItem(row, 0, source)
            sample = " · ".join(masked_sample(v) for v in table.sample(row))
            grid.setItem(row, 1, QTableWidgetItem(sample))
            combo = QComboBox()
            combo.setObjectName(f"map_{row}")
            combo.addItem(t("import.not_imported"), "")
            for column in self.columns:
                mark = " *" if column.required else ""
                hint = term("import_hint", column.name, column.help) if column.help else ""
                hint = f" — {hint}" if hint else ""
                combo.addItem(f"{column.name}{mark}{hint}", column.name)
            combo.setCurrentIndex(max(combo.findData(mapping[row] if row < len(mapping)
                                                     else ""), 0))
            combo.currentIndexChanged.connect(self._update_state)
            grid.setCellWidget(row, 2, combo)
            self.combos.append(combo)
        grid.resizeColumnToContents(0)
        grid.setColumnWidth(0, min(grid.columnWidth(0), SOURCE_WIDTH))
        grid.setColumnWidth(1, SAMPLE_WIDTH)
        return grid

    def mapping(self) -> list[str]:
        return [combo.currentData() or "" for combo in self.combos]

    def choose(self, column: int, name: str) -> None:
        """Pick `name` (a documented column, or "" for not imported) for a column of the file."""
        combo = self.combos[column]
        combo.setCurrentIndex(combo.findData(name))

    def _update_state(self) -> None:
        from storage.import_mapping import chosen_twice, missing_required

        self.result.clear()  # counts for another mapping no longer hold
        mapping = self.mapping()
        problems = []
        missing = missing_required(mapping)
        if missing:
            problems.append(t("import.missing", names=", ".join(missing)))
        twice = chosen_twice(mapping)
        if twice:
            problems.append(t("import.twice", names=", ".join(twice)))
        self.mapping_state.setText(" ".join(problems) or t("import.ready"))
        self.mapping_state.setStyleSheet("color: #b00020;" if problems else "color: #1b5e20;")
        for button in (self.dry_run_button, self.import_button):
            button.setEnabled(not problems)

    def show_dry_run(self, report: Any) -> None:
        counts = {k: id_number(v) for k, v in report.counts.items()}
        self.result.setText(t("import.dry_result", would=id_number(report.imported),
                              total=id_number(report.total), **counts))

    def set_busy(self, busy: bool) -> None:
        for widget in (self.grid, self.accept_warnings, self.dry_run_button,
                       self.import_button):
            widget.setEnabled(not busy)
        if not busy:
            self._update_state_keep_result()

    def _update_state_keep_result(self) -> None:
        text = self.result.text()
        self._update_state()
        self.result.setText(text)
