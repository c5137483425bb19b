"""Errors from storage and elsewhere, shown as one clear Indonesian message box.

Storage errors (locked, corrupt, full disk, a database from a newer version) carry their own
Indonesian explanation; the box adds that nothing on screen was lost. Anything else is reported
by its kind only, because an exception text may hold personal data.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.labels import t

log = logging.getLogger(__name__)


def is_storage_error(exc: BaseException) -> bool:
    return any(cls.__name__ == "StorageError" for cls in type(exc).__mro__)


def message_for(exc: BaseException) -> str:
    if is_storage_error(exc):
        return t("error.storage", detail=str(exc))
    if type(exc).__name__ == "ImportFileError":  # its message names columns, never data
        return t("error.import", detail=str(exc))
    return t("error.unexpected", kind=type(exc).__name__)


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    log.warning("shown to the operator: %s", type(exc).__name__)
    box = QMessageBox(QMessageBox.Icon.Warning, t("error.title"), message_for(exc),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error_box")
    box.open() if parent is not None else box.exec()
