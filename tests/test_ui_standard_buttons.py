"""Safe defaults and Indonesian standard buttons: Enter on a question keeps the form, and Qt's
own Yes/No/Cancel speak Indonesian in an Indonesian window."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from ui import labels, standard_buttons
from ui.registration_form import RegistrationForm


def _answer_next_box(qtbot, key, seen: list):
    """When the next modal question opens, note its buttons and press `key` on it."""

    def press():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        seen.append({b.text(): b is box.defaultButton() for b in box.buttons()})
        qtbot.keyClick(box, key)

    QTimer.singleShot(0, press)


def test_message_boxes_say_ya_and_tidak_in_indonesian_only(qtbot):
    standard_buttons.install()
    box = QMessageBox(QMessageBox.Icon.Question, "t", "x",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    assert sorted(b.text() for b in box.buttons()) == ["&Tidak", "&Ya"]
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    assert sorted(b.text() for b in buttons.buttons()) == ["Batal", "OK"]
    from PySide6.QtWidgets import QFileDialog, QPushButton

    files = QFileDialog(None, "Buka daftar")
    files.setOption(QFileDialog.Option.DontUseNativeDialog)
    assert "&Buka" in [b.text() for b in files.findChildren(QPushButton)]
    try:
        labels.set_language("en")
        box = QMessageBox(QMessageBox.Icon.Question, "t", "x",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        assert sorted(b.text() for b in box.buttons()) == ["&No", "&Yes"]
    finally:
        labels.set_language("id")
    assert standard_buttons.install() is standard_buttons.install()  # installed once


def test_enter_on_kosongkan_keeps_what_was_typed(qtbot, worker):
    standard_buttons.install()
    form = RegistrationForm(worker, operator="Uji")
    qtbot.addWidget(form)
    form.show()
    qtbot.keyClicks(form.full_name, "Siti Aminah")
    seen: list = []
    _answer_next_box(qtbot, Qt.Key.Key_Return, seen)
    form.clear_button.click()
    assert seen == [{"&Ya": False, "&Tidak": True}]  # No is the default
    assert form.full_name.text() == "Siti Aminah"

    _answer_next_box(qtbot, Qt.Key.Key_Escape, seen)
    form.clear_button.click()
    assert form.full_name.text() == "Siti Aminah"

    _answer_next_box(qtbot, Qt.Key.Key_Y, seen)  # the mnemonic of *Ya*: an explicit yes
    form.clear_button.click()
    assert form.full_name.text() == ""
