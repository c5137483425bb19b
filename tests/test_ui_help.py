"""*Bantuan*: the version, and a short Indonesian guide for each role."""

from importlib import metadata

from PySide6.QtWidgets import QApplication

from storage.operators import ROLES
from ui import help as guides
from ui.labels import t
from ui.main_window import MainWindow


def test_every_role_has_its_guide_in_indonesian():
    assert set(guides.GUIDES) == set(ROLES)
    for role in ROLES:
        text = guides.guide_text(role)
        assert text.startswith("# Panduan"), role
        assert 300 < len(text) < 6000, role  # short, but a guide


def test_the_about_box_names_the_version():
    version = metadata.version("jamsos-jambi")
    assert f"Versi {version}" in guides.about_text()


def test_the_help_menu_opens_each_guide_and_f1_the_own_one(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    try:
        menu = next(a.menu() for a in window.menuBar().actions() if "antuan" in a.text())
        titles = [a.text() for a in menu.actions() if a.text()]
        assert [title for title in titles if title.startswith("Panduan ")] == [
            t(f"guide.{role}") + "…" for role in guides.GUIDES]
        own = menu.actions()[0]
        assert own.shortcut().toString() == "F1"
        verifier = next(a for a in menu.actions() if a.objectName() == "guide_verifikator")
        verifier.trigger()
        dialog = window.findChild(guides.GuideDialog)
        assert dialog is not None and dialog.isVisible()
        assert "Verifikasi" in dialog.text.toPlainText()
        assert dialog.windowTitle() == "Panduan verifikator"
        dialog.close()
        own.trigger()  # nobody logged in: the enumerator's guide
        shown = [d for d in window.findChildren(guides.GuideDialog) if d.isVisible()]
        assert [d.windowTitle() for d in shown] == ["Panduan petugas pendata"]
        assert "Ctrl+S" in shown[0].text.toPlainText()
    finally:
        for dialog in window.findChildren(guides.GuideDialog):
            dialog.close()
        window.sync_panel.shutdown()
    assert QApplication.activeModalWidget() is None  # the guide never blocks the window
