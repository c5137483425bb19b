"""Berkas → Impor daftar…: registrations from a CSV or XLSX list, in the background.

The steps, each on the database worker's thread with a progress dialog (ui/long_task.py):
reading the file; then the import dialog (ui/import_dialog.py: the mapping step and the dry
run, whose counts are shown before anything is saved); then the import in groups, with progress
and Batal. The result box lists the rows not registered, which can be saved as a CSV to fix.
A list with the documented headings imported by a script (`accept_warnings` given) skips the
dialog. The steps themselves are ops/imports.py's, the same as `main.py import`.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ui.labels import t
from ui.long_task import LongTask

SHOWN_REASONS = 8  # rows listed in the result box; the rest go to the saved report


class ImportFlow(QObject):
    """One import from choosing the file to the result box. `finished(report)` after the import
    (None when it was stopped before it began), `checked(report)` after each dry run,
    `failed(exc)` when the file cannot be read or the import failed, `dialog_shown(dialog)`."""

    finished = Signal(object)
    checked = Signal(object)
    failed = Signal(object)
    dialog_shown = Signal(object)

    def __init__(self, window: Any, path: str, *, accept_warnings: bool | None,
                 group_size: int | None):
        super().__init__(window)
        self.window = window
        self.scripted_accept = accept_warnings
        self.group_size = group_size
        self.table = self.dialog = self.report = None  # the list read, its dialog, the outcome
        from ops.imports import open_list

        self.task = LongTask(window, window.worker, t("import.title"), t("import.reading"),
                             open_list, path)
        self.task.finished.connect(self._read)
        self.task.failed.connect(self.failed.emit)

    def _read(self, result: Any) -> None:
        if result is None:  # cancelled while reading
            self.finished.emit(None)
            return
        self.table, mapping, kept = result
        from storage.import_mapping import is_documented

        if self.scripted_accept is not None and is_documented(self.table.headers):
            self._start_import(mapping, self.scripted_accept)
            return
        from ui.import_dialog import ImportDialog

        self.dialog = ImportDialog(self.window, self.table, mapping, kept,
                                   accept_warnings=bool(self.scripted_accept))
        self.dialog.dry_run_requested.connect(self._dry_run)
        self.dialog.import_requested.connect(self._import_from_dialog)
        self.dialog.rejected.connect(lambda: self.finished.emit(None))
        self.window.import_dialog = self.dialog  # tests and screenshots find it here
        self.dialog.open()
        self.dialog_shown.emit(self.dialog)

    def _options(self, accept_warnings: bool) -> dict:
        form = self.window.form
        from storage.import_run import GROUP_SIZE

        return {"event_id": form.event.currentData() or None,
                "accept_warnings": accept_warnings,
                "group_size": self.group_size or GROUP_SIZE}

    def _dry_run(self, mapping: list[str], accept_warnings: bool) -> None:
        from ops.imports import import_list

        options = self._options(accept_warnings)
        job = functools.partial(import_list, operator=self.window.form.operator,
                                dry_run=True, **options)
        self.dialog.set_busy(True)
        self.task = LongTask(self.dialog, self.window.worker, t("import.title"),
                             t("import.checking"), job, self.table, mapping)
        self.task.finished.connect(self._checked)
        self.task.failed.connect(lambda exc: (self.dialog.set_busy(False),
                                              self.failed.emit(exc)))

    def _checked(self, report: Any) -> None:
        self.dialog.set_busy(False)
        if report is not None:
            self.dialog.show_dry_run(report)
            self.checked.emit(report)

    def _import_from_dialog(self, mapping: list[str], accept_warnings: bool) -> None:
        self.dialog.accept()  # accepted, not rejected: no finished(None)
        self._start_import(mapping, accept_warnings)

    def _start_import(self, mapping: list[str], accept_warnings: bool) -> None:
        from ops.imports import import_list

        job = functools.partial(import_list, operator=self.window.form.operator,
                                **self._options(accept_warnings))
        self.task = LongTask(self.window, self.window.worker, t("import.title"),
                             t("import.progress"), job, self.table, mapping)
        self.task.finished.connect(self._imported)
        self.task.failed.connect(self.failed.emit)

    def _imported(self, report: Any) -> None:
        self.report = report
        _show_report(self.window, self.task, report)
        self.finished.emit(report)


def start_import(window: Any, path: str | None = None, *, accept_warnings: bool | None = None,
                 group_size: int | None = None) -> ImportFlow | None:
    """Ask for the file, then read it and go on as above. `path` skips the file question and
    `accept_warnings` the dialog for a list with the documented headings (tests, scripts)."""
    if path is None:
        path, _ = QFileDialog.getOpenFileName(window, t("import.title"), "",
                                              t("import.filter"))
        if not path:
            return None
    flow = ImportFlow(window, path, accept_warnings=accept_warnings, group_size=group_size)
    window.import_flow = flow  # kept alive while it runs
    return flow


def summary(report: Any, cancelled: bool) -> str:
    """The result in the operator's words, with the first rows not registered."""
    lines = [t("import.done", n=report.imported, total=report.total)]
    if report.with_warnings:
        lines.append(t("import.with_warnings", n=report.with_warnings))
    counts = getattr(report, "counts", None)
    if counts:
        lines.append(t("import.counts", **counts))
    if cancelled:
        lines.append(t("progress.cancelled"))
    if report.skipped:
        lines.append(t("import.skipped", n=len(report.skipped)))
        for row in report.skipped[:SHOWN_REASONS]:
            lines.append(t("import.row", line=row.line, nik=row.nik_masked, name=row.full_name,
                           reason=row.reasons[0]))
    return "\n".join(lines)


def _show_report(window: Any, task: LongTask, report: Any) -> None:
    if report is None:  # stopped before it began
        window.status.showMessage(t("progress.cancelled"), 10_000)
        return
    window.status.showMessage(t("import.done", n=report.imported, total=report.total), 10_000)
    box = QMessageBox(QMessageBox.Icon.Information, t("import.title"),
                      summary(report, task.cancelled or report.cancelled),
                      QMessageBox.StandardButton.Ok, window)
    box.setObjectName("import_report")
    save = box.addButton(t("import.save_report"), QMessageBox.ButtonRole.ActionRole) \
        if report.skipped else None
    window.import_report_box = box  # tests read it; the window keeps it alive while open
    box.finished.connect(lambda _r: _maybe_save(window, box, save, report))
    box.open()


def _maybe_save(window: QWidget, box: QMessageBox, save: Any, report: Any) -> None:
    if save is None or box.clickedButton() is not save:
        return
    path, _ = QFileDialog.getSaveFileName(window, t("import.save_report"), t("import.report_name"),
                                          t("import.filter"))
    if path:
        from storage.csv_import import write_skipped

        write_skipped(report, path)
