"""*Bantuan*: the app's version and a short Indonesian user guide per role.

The guides are Markdown files under `resources/guides/` (one per operator role: petugas,
verifikator, loket kartu, admin), shown in a small reader. F1 opens the guide of the operator
who is logged in (the enumerator's guide when nobody is); every guide is in the menu.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMenu,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ui import screen_fit
from ui.labels import plain, t

GUIDES_DIR = Path(__file__).resolve().parent.parent / "resources" / "guides"
# The roles (storage/operators.py ROLES) with a guide; its title is the label "guide.<role>".
GUIDES = ("petugas", "verifikator", "loket_kartu", "admin")


def app_version() -> str:
    """The installed package's version (pyproject.toml), e.g. 0.1.0."""
    try:
        return metadata.version("jamsos-jambi")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "?"


def guide_text(role: str) -> str:
    """The guide of `role` as Markdown (the enumerator's for an unknown role)."""
    name = role if role in GUIDES else "petugas"
    return (GUIDES_DIR / f"{name}.md").read_text(encoding="utf-8")


class GuideDialog(QDialog):
    """A guide to read beside the window (modeless), closed with Esc or *Tutup*."""

    def __init__(self, role: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("guide_dialog")
        self.setWindowTitle(t(f"guide.{role if role in GUIDES else 'petugas'}"))
        self.text = QTextBrowser(self)
        self.text.setObjectName("guide_text")
        self.text.setOpenExternalLinks(False)
        self.text.setMarkdown(guide_text(role))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        screen_fit.fit(self, screen_fit.GUIDE_DIALOG)


def about_text() -> str:
    return t("about.text") + "\n\n" + t("about.version", version=app_version())


def open_guide(parent: QWidget, role: str) -> GuideDialog:
    dialog = GuideDialog(role, parent)
    dialog.show()
    return dialog


def _current_role(window: Any) -> str:
    session = getattr(window, "session", None)
    operator = getattr(session, "operator", None)
    return getattr(operator, "role", "") or "petugas"


def build_menu(window: QWidget, menu: QMenu) -> None:
    """Fill the *Bantuan* menu: F1 for one's own guide, every role's guide, the version."""
    own = QAction(t("help.own_guide"), window)
    own.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    own.triggered.connect(lambda: open_guide(window, _current_role(window)))
    menu.addAction(own)
    menu.addSeparator()
    for role in GUIDES:
        action = QAction(t(f"guide.{role}") + "…", window)
        action.setObjectName(f"guide_{role}")
        action.triggered.connect(lambda _checked=False, r=role: open_guide(window, r))
        menu.addAction(action)
    menu.addSeparator()
    about = QAction(t("menu.about"), window)
    about.triggered.connect(lambda: QMessageBox.about(window, plain("menu.about"), about_text()))
    menu.addAction(about)
