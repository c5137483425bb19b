"""The log-in dialogs and the lock screen at their natural size (issue: under a real X server the
lock screen's username and password boxes were ~3 px tall and the first-admin dialog was
squashed). Every input must get at least the height it asks for, in a big and a small window,
and a dialog can never be made lower than its content needs at its width."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QMainWindow, QStackedWidget

from ui.lock_screen import LockScreen
from ui.login import FirstAdminDialog, LoginDialog, RecoveryDialog, RecoveryKeyDialog


class NoWorker:
    def call(self, *args, **kwargs):
        return -1


def _squashed(widget) -> list[str]:
    """Visible inputs and texts lower than they ask to be."""
    found = []
    for child in widget.findChildren(QLineEdit) + widget.findChildren(QLabel):
        if not child.isVisibleTo(widget) or not child.text():
            continue
        need = child.heightForWidth(child.width()) if child.hasHeightForWidth() else \
            child.sizeHint().height()
        if child.height() < need:
            found.append(f"{child.objectName() or child.text()[:20]}: {child.height()} < {need}")
    return found


@pytest.mark.parametrize("size", [(1024, 700), (1366, 768), (520, 360)])
def test_the_lock_screen_inputs_keep_their_height(qtbot, size):
    window = QMainWindow()
    stack = QStackedWidget()
    window.setCentralWidget(stack)
    lock = LockScreen(NoWorker())
    stack.addWidget(lock)
    qtbot.addWidget(window)
    lock.show_for(SimpleNamespace(display_name="Budi Santoso", username="budi"))
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the posted layout requests run
    edits = [lock.form.username, lock.form.password]
    assert all(e.height() >= e.sizeHint().height() for e in edits), \
        [(e.objectName(), e.height(), e.sizeHint().height()) for e in edits]
    assert _squashed(lock) == []
    lock.show_for(None)  # after a log-out: another text, same rule
    qtbot.wait(50)
    assert _squashed(lock) == []


@pytest.mark.parametrize("make", [
    lambda folder: FirstAdminDialog(folder),
    lambda folder: LoginDialog(folder=folder, hint="Akun contoh: contoh.admin, contoh.petugas "
                                                  "(kata sandi contoh-jambi)"),
    lambda folder: RecoveryDialog(folder),
    lambda folder: RecoveryKeyDialog("ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2-34567"),
])
def test_dialogs_open_at_their_natural_size_and_cannot_be_squashed(qtbot, tmp_path, make):
    dialog = make(tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    assert _squashed(dialog) == []
    layout = dialog.layout()
    need = layout.totalHeightForWidth(dialog.width()) if layout.hasHeightForWidth() else \
        dialog.sizeHint().height()
    assert dialog.minimumHeight() >= need
    # A window system that ignores size hints and asks for a tiny window gets the minimum.
    dialog.resize(200, 40)
    qtbot.wait(50)
    assert dialog.height() >= need and _squashed(dialog) == []
