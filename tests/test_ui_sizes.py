"""Everything fits the usual field laptop's 1366×768 screen: the main window with every tab
built, and every dialog of the window, at their default and at their minimum sizes."""

import importlib
import pkgutil

import pytest
from PySide6.QtWidgets import QDialog, QWidget

import ui
from ui.screen_fit import SCREEN, USABLE


@pytest.fixture(autouse=True)
def asked(monkeypatch):
    """The default sizes windows ask for (the test screen may be smaller than a laptop's, and
    `fit` would shrink them to it: the defaults themselves must fit 1366×768)."""
    from ui import screen_fit

    sizes: list = []
    original = screen_fit.fit

    def recording(widget, size):
        sizes.append((type(widget).__name__, size))
        original(widget, size)

    monkeypatch.setattr(screen_fit, "fit", recording)
    return sizes


def fits(size, limit=USABLE) -> bool:
    return size.width() <= limit.width() and size.height() <= limit.height()


def all_dialog_classes() -> set[type]:
    """Every QDialog subclass defined in the window's modules."""
    for info in pkgutil.iter_modules(ui.__path__):
        if info.name not in ("screenshots",):
            importlib.import_module(f"ui.{info.name}")
    found, todo = set(), list(QDialog.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("ui."):
            found.add(cls)
    return found


def _record(worker, parent):
    from storage.models import Registration
    from ui.record_dialog import RecordDialog

    reg = Registration(nik="1571094512859902", full_name="Siti Aminah")
    return RecordDialog(worker, reg, [reg], parent)


def _operators(worker, parent):
    from ui.operators_dialog import OperatorsDialog
    from ui.session import Session

    return OperatorsDialog(worker, Session(None, parent), parent)


def _login(worker, parent):
    from ui.login import LoginDialog

    return LoginDialog(worker, parent=parent)


def _first_admin(worker, parent):
    from ui.login import FirstAdminDialog

    return FirstAdminDialog(worker, parent)


def _recovery(worker, parent):
    from ui.login import RecoveryDialog

    return RecoveryDialog(worker, parent)


def _import(worker, parent):
    from storage.import_table import read_csv_table
    from ui.import_dialog import ImportDialog

    raw = ("nik;nama;tanggal lahir;kelurahan;pekerjaan;penghasilan;ahli waris\n"
           "1571094512859902;Siti Aminah;05-12-1985;Rawa Sari;Pedagang;1500000;Ahmad\n")
    table = read_csv_table(raw.encode(), name="peserta-rt05.csv")
    return ImportDialog(parent, table, [""] * len(table.headers), False)


FACTORIES = {
    "RecordDialog": _record,
    "OperatorsDialog": _operators,
    "AddOperatorDialog": lambda worker, parent: importlib.import_module(
        "ui.operators_dialog").AddOperatorDialog(parent),
    "PasswordDialog": lambda worker, parent: importlib.import_module(
        "ui.login").PasswordDialog("Kata sandi", ask_old=True, parent=parent),
    "RecoveryKeyDialog": lambda worker, parent: importlib.import_module(
        "ui.login").RecoveryKeyDialog("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ", parent),
    "LoginDialog": _login,
    "FirstAdminDialog": _first_admin,
    "RecoveryDialog": _recovery,
    "ImportDialog": _import,
    "GuideDialog": lambda worker, parent: importlib.import_module(
        "ui.help").GuideDialog("petugas", parent),
}


def test_every_dialog_of_the_window_is_measured_here():
    names = {cls.__name__ for cls in all_dialog_classes()}
    missing = names - set(FACTORIES)
    assert not missing, f"add these dialogs to FACTORIES: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_each_dialog_fits_the_screen(qtbot, worker, name, asked):
    if name not in {cls.__name__ for cls in all_dialog_classes()}:
        pytest.skip(f"{name} is no longer a dialog of the window")
    parent = QWidget()
    qtbot.addWidget(parent)
    try:
        dialog = FACTORIES[name](worker, parent)
    except TypeError as exc:  # a changed signature must be noticed, not skipped
        pytest.fail(f"{name}: update its factory here ({exc})")
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(300)  # what the dialog loads through the worker has arrived and is laid out
    assert fits(dialog.size()), (name, dialog.size())
    assert all(fits(size) for _, size in asked), asked
    assert fits(dialog.minimumSizeHint()), (name, dialog.minimumSizeHint())
    assert fits(dialog.minimumSize()), (name, dialog.minimumSize())
    dialog.close()


def test_the_record_form_needs_no_sideways_scrolling_at_its_default_size(qtbot, worker):
    from ui.screen_fit import RECORD_DIALOG

    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = _record(worker, parent)
    dialog.resize(RECORD_DIALOG)  # the test screen may be smaller than the laptop's
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(200)
    scroll = dialog.form.parentWidget().parentWidget()  # the form's viewport, its scroll area
    assert scroll.horizontalScrollBar().maximum() == 0
    assert dialog.form.minimumSizeHint().width() <= scroll.viewport().width()
    dialog.close()


def test_the_main_window_with_every_tab_fits_the_screen(qtbot, worker, asked):
    from ui.main_window import LazyPanel, MainWindow

    window = MainWindow(worker)
    qtbot.addWidget(window)
    try:
        for index in range(window.tabs.count()):
            page = window.tabs.widget(index)
            if isinstance(page, LazyPanel):
                page.widget()  # build every tab: each one's minimum counts
        window.show()
        qtbot.waitExposed(window)
        assert fits(window.size()), window.size()
        assert [name for name, _ in asked] == ["MainWindow"]
        assert fits(asked[0][1]), asked
        assert fits(window.minimumSizeHint()), window.minimumSizeHint()
        assert window.width() <= SCREEN.width() and window.height() <= SCREEN.height()
    finally:
        window.close()
        window.sync_panel.shutdown()


def test_a_long_header_in_the_file_leaves_the_import_choice_its_room(qtbot):
    from storage.import_mapping import guess
    from storage.import_table import read_csv_table
    from ui.import_dialog import ImportDialog

    raw = ("kelurahan;alamat lengkap tempat tinggal sekarang menurut kartu keluarga\n"
           "Rawa Sari;Jl. Kol. Abunjani No. 12 RT 05 RW 02 Kelurahan Selamat\n")
    table = read_csv_table(raw.encode(), name="panjang.csv")
    dialog = ImportDialog(None, table, guess(table.headers), False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    combo = dialog.combos[0]
    assert combo.currentData() == "kelurahan"
    needed = combo.fontMetrics().horizontalAdvance(combo.currentText()) + 30  # and its arrow
    assert dialog.grid.columnWidth(2) >= needed, (dialog.grid.columnWidth(2), needed)
    assert fits(dialog.size()), dialog.size()
