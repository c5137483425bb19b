"""Berkas → Impor CSV…: registrations from a spreadsheet, in the background with progress.

The rows are checked and saved by storage/csv_import.py on the database worker's thread; this
module only asks for the file and the options, and shows what happened: how many were
registered, and the refused rows with their reasons, which can be saved as a CSV to fix.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtWidgets import QCheckBox, QFileDialog, QMessageBox, QWidget

from ui.labels import t
from ui.long_task import LongTask

SHOWN_REASONS = 8  # refused rows listed in the result box; the rest go to the saved report


def start_import(window: Any, path: str | None = None, *,
                 accept_warnings: bool | None = None) -> LongTask | None:
    """Ask for the file and whether rows with warnings may be saved, then import. `path` and
    `accept_warnings` skip the questions (tests, scripted use)."""
    if path is None:
        path, _ = QFileDialog.getOpenFileName(window, t("import.title"), "",
                                              t("import.filter"))
        if not path:
            return None
    if accept_warnings is None:
        accept_warnings = _ask_options(window)
        if accept_warnings is None:
            return None
    from storage.csv_import import import_csv

    form = window.form
    job = functools.partial(import_csv, operator=form.operator,
                            event_id=form.event.currentData() or None,
                            accept_warnings=accept_warnings)
    task = LongTask(window, window.worker, t("import.title"), t("import.progress"), job, path)
    task.finished.connect(lambda report: _show_report(window, task, report))
    return task


def _ask_options(parent: QWidget) -> bool | None:
    box = QMessageBox(QMessageBox.Icon.Question, t("import.title"), t("import.explain"),
                      QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, parent)
    box.setObjectName("import_options")
    check = QCheckBox(t("import.accept_warnings"), box)
    box.setCheckBox(check)
    if box.exec() != QMessageBox.StandardButton.Ok:
        return None
    return check.isChecked()


def summary(report: Any, cancelled: bool) -> str:
    """The result in the operator's words, with the first refused rows."""
    lines = [t("import.done", n=report.imported, total=report.total)]
    if report.with_warnings:
        lines.append(t("import.with_warnings", n=report.with_warnings))
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


def _maybe_save(window: Any, box: QMessageBox, save: Any, report: Any) -> None:
    if save is None or box.clickedButton() is not save:
        return
    path, _ = QFileDialog.getSaveFileName(window, t("import.save_report"), "ditolak.csv",
                                          t("import.filter"))
    if path:
        from storage.csv_import import write_skipped

        write_skipped(report, path)
