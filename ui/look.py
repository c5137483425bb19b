"""The window's look beyond Qt's defaults, installed once on the application.

- Focus you can see: Qt's Fusion style draws almost nothing around a focused dropdown or
  checkbox, so an enumerator walking the form with the keyboard loses the cursor. A focused
  field, dropdown or checkbox gets a clear blue frame.
- Qt's own buttons in Indonesian (ui/standard_buttons.py).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from ui import standard_buttons

FOCUS_COLOR = "#1565c0"
FOCUS_STYLE = f"""
/* jamsos: visible focus */
QComboBox:focus, QLineEdit:focus, QAbstractSpinBox:focus {{
    border: 2px solid {FOCUS_COLOR};
    border-radius: 3px;
    padding: 1px 3px;
}}
QCheckBox:focus, QRadioButton:focus {{
    border: 2px solid {FOCUS_COLOR};
    border-radius: 3px;
    background-color: #e3eefb;
    padding: 1px 3px;
}}
QAbstractItemView:focus {{
    border: 2px solid {FOCUS_COLOR};
}}
"""


def install(app: QCoreApplication | None = None) -> None:
    """Install the look on the application (once; again does nothing)."""
    app = app or QApplication.instance()
    standard_buttons.install(app)
    if isinstance(app, QApplication) and "jamsos: visible focus" not in app.styleSheet():
        app.setStyleSheet(app.styleSheet() + FOCUS_STYLE)
