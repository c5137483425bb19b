"""Window sizes for the usual field laptop: a 1366×768 screen.

A window's frame (title bar, borders) and the desktop's panel take some of the 768 pixels, so
what a window may use is `USABLE`. Windows open at a default size that fits it, never larger than
the screen they open on, and their minimum sizes must fit it too (tests/test_ui_sizes.py checks
every dialog and the main window).
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

SCREEN = QSize(1366, 768)
# Left for a window's contents: 1366 less a few pixels of border; 768 less a 40 px panel and a
# 30 px title bar.
USABLE = QSize(1350, 698)

MAIN_WINDOW = QSize(1280, 680)
RECORD_DIALOG = QSize(1200, 640)
GUIDE_DIALOG = QSize(640, 600)


def fit(widget: QWidget, size: QSize) -> None:
    """Resize `widget` to `size`, or smaller on a screen whose free area is smaller."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    width, height = size.width(), size.height()
    if screen is not None:
        free = screen.availableGeometry()
        width = min(width, free.width() - 16)
        height = min(height, free.height() - 40)
    widget.resize(max(width, widget.minimumSizeHint().width()),
                  max(height, widget.minimumSizeHint().height()))
