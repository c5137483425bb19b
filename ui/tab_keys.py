"""Keys that switch the window's tabs from anywhere, whatever widget has the focus.

A table keeps Ctrl+Tab and Ctrl+PgUp/PgDown for itself when it has the focus, so the tab widget
never sees them: these window-wide shortcuts make Ctrl+Tab / Ctrl+PgDown go to the next tab and
Ctrl+Shift+Tab / Ctrl+PgUp to the previous one (wrapping around), from any field or table.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabWidget, QWidget

NEXT = ("Ctrl+Tab", "Ctrl+PgDown")
PREVIOUS = ("Ctrl+Shift+Tab", "Ctrl+Backtab", "Ctrl+PgUp")


def step(tabs: QTabWidget, by: int) -> None:
    """Show the tab `by` places on (negative: back), skipping disabled tabs."""
    count = tabs.count()
    index = tabs.currentIndex()
    for _ in range(count):
        index = (index + by) % count
        if tabs.isTabEnabled(index) and tabs.isTabVisible(index):
            tabs.setCurrentIndex(index)  # the stack moves a focus it held into the new page
            return


def install(window: QWidget, tabs: QTabWidget) -> list[QShortcut]:
    shortcuts = []
    for keys, by in ((NEXT, 1), (PREVIOUS, -1)):
        for key in keys:
            shortcut = QShortcut(QKeySequence(key), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda by=by: step(tabs, by))
            shortcuts.append(shortcut)
    return shortcuts
