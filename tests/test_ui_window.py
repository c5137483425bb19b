"""Drafts offered back, the main window's tabs and counts, long work with progress, errors."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from storage.db import StorageError
from storage.registry import RegistrationFilter
from ui import errors
from ui.draft_recovery import offer_draft
from ui.main_window import MainWindow
from ui.registration_form import DRAFT_KEY, RegistrationForm


def wait_for_job(qtbot, worker, fn, *args):
    box = []
    worker.call(fn, *args, on_result=lambda r: box.append(r))
    qtbot.waitUntil(lambda: bool(box), timeout=5000)
    return box[0]


def test_the_form_is_kept_as_a_draft_and_offered_back(qtbot, worker):
    form = RegistrationForm(worker)
    qtbot.addWidget(form)
    qtbot.keyClicks(form.nik, "1571010101909901")
    qtbot.keyClicks(form.full_name, "Budi Santoso")
    qtbot.keyClicks(form.income, "2500000")
    form.kecamatan.setCurrentIndex(form.kecamatan.findData("15.71.01"))
    form.kelurahan.setCurrentIndex(1)
    kelurahan = form.kelurahan.currentData()
    qtbot.keyClicks(form.heirs.rows[0].name, "Rina")
    # Saved by itself shortly after typing stops (debounced), through the worker.
    qtbot.waitUntil(lambda: (worker.readonly.load_draft(DRAFT_KEY) or {}).get("full_name")
                    == "Budi Santoso", timeout=3000)

    # The next start: a fresh form is offered the draft and takes it.
    questions = []
    again = RegistrationForm(worker)
    qtbot.addWidget(again)
    offer_draft(again, worker, again, ask=lambda text: questions.append(text) or True)
    qtbot.waitUntil(lambda: again.full_name.text() == "Budi Santoso", timeout=3000)
    assert questions[0].startswith("Ada isian yang belum disimpan dari ")
    assert questions[0].endswith("Lanjutkan?")
    assert "1571010101909901" not in questions[0]
    assert again.nik.text() == "1571010101909901"
    assert again.income.text() == "2.500.000"
    assert again.kelurahan.currentData() == kelurahan
    assert again.heirs.rows[0].name.text() == "Rina"
    assert again.birth_date.text() == "01-01-1990"


def test_a_declined_draft_is_discarded(qtbot, worker):
    wait_for_job(qtbot, worker, lambda r: r.save_draft(DRAFT_KEY, {"full_name": "X"}))
    form = RegistrationForm(worker)
    qtbot.addWidget(form)
    asked = []
    offer_draft(form, worker, form, ask=lambda text: asked.append(text) or False)
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    qtbot.waitUntil(lambda: worker.readonly.load_draft(DRAFT_KEY) is None, timeout=3000)
    assert form.full_name.text() == ""


def test_window_tabs_status_bar_and_panels(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles[:2] == ["Pendaftaran", "Daftar Peserta"]
    index = window.add_panel("Kartu", QLabel("panel"))
    assert window.tabs.tabText(index) == "Kartu"
    qtbot.waitUntil(lambda: window.status.total.text() == "Total: 0", timeout=3000)


def test_demo_data_runs_off_the_main_thread_with_progress(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.tabs.setCurrentWidget(window.registrations)
    task = window.create_demo_data(count=600)
    with qtbot.waitSignal(task.finished, timeout=30_000):
        pass
    assert task.dialog.maximum() == 600
    qtbot.waitUntil(lambda: window.status.total.text() == "Total: 600", timeout=3000)
    assert window.status.today.text() == "Hari ini: 600"
    assert window.registrations.model.total() == 600
    assert window.registrations.count.text() == "600 peserta"


def test_cancelled_long_work_keeps_what_was_committed(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    task = window.create_demo_data(count=200_000)
    task.cancel_event.set()  # as the Cancel button does
    with qtbot.waitSignal(task.finished, timeout=30_000):
        pass
    saved = worker.readonly.count(RegistrationFilter())
    assert 0 < saved < 200_000
    assert worker.readonly.audit_chain_ok()


def test_search_in_the_list(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    task = window.create_demo_data(count=300)
    with qtbot.waitSignal(task.finished, timeout=30_000):
        pass
    view = window.registrations
    view.refresh()
    prefix = view.model.row_at(0).nik_masked[:6]
    qtbot.keyClicks(view.search, prefix)
    view.apply_filter()
    assert 0 < view.model.rowCount() <= 300
    assert all(view.model.row_at(r).nik_masked.startswith(prefix)
               for r in range(view.model.rowCount()))


def test_storage_errors_are_explained_in_indonesian(qtbot, worker):
    exc = StorageError("locked", "sqlite3.OperationalError: database is locked")
    text = errors.message_for(exc)
    assert str(exc) in text
    assert "tidak hilang" in text
    assert "sqlite3" not in text
    assert "ValueError" in errors.message_for(ValueError("1571010101909901"))
    assert "1571010101909901" not in errors.message_for(ValueError("1571010101909901"))

    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.show()

    def fail(registry):
        raise StorageError("disk_full", "no space")

    worker.call(fail)  # nobody handles it: the window shows it
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible()
                                for w in window.findChildren(QMessageBox)), timeout=3000)
    box = next(w for w in window.findChildren(QMessageBox) if w.isVisible())
    assert str(StorageError("disk_full")) in box.text()
    box.close()


def test_a_correction_saves_a_new_version(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    task = window.create_demo_data(count=5)
    with qtbot.waitSignal(task.finished, timeout=30_000):
        pass
    view = window.registrations
    view.refresh()
    reg_id = view.model.id_at(0)
    window.tabs.setCurrentWidget(view)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)  # Enter opens the selected registration
    qtbot.waitUntil(lambda: window.findChild(object, "record_dialog") is not None, timeout=3000)
    dialog = window.findChild(object, "record_dialog")
    assert dialog.history.count() == 1
    form = dialog.form
    form.street.setText("Jl. Baru No. 1")
    form.submit()
    qtbot.waitUntil(lambda: "Koreksi tersimpan" in form.feedback.text()
                    or form.confirm_warnings.isVisible(), timeout=5000)
    if "Koreksi tersimpan" not in form.feedback.text():
        form.confirm_warnings.setChecked(True)
        form.submit()
        qtbot.waitUntil(lambda: "Koreksi tersimpan" in form.feedback.text(), timeout=5000)
    qtbot.waitUntil(lambda: dialog.history.count() == 2, timeout=3000)
    history = worker.readonly.history(reg_id)
    assert [h.version for h in history] == [1, 2]
    assert history[-1].street == "Jl. Baru No. 1"
    assert worker.readonly.get(reg_id).version == 2


def test_a_damaged_database_gives_a_clear_message_and_stays_untouched(qtbot, tmp_path,
                                                                      monkeypatch):
    from argparse import Namespace

    from storage.paths import database_path
    from ui import app as app_module

    path = database_path(tmp_path)
    damaged = b"this is not a database " * 200
    path.write_bytes(damaged)
    shown = []
    monkeypatch.setattr(app_module.QMessageBox, "critical",
                        lambda parent, title, text: shown.append((title, text)))
    assert app_module.run_app(Namespace(data_dir=str(tmp_path))) == 1
    assert shown and shown[0][1].startswith("Basis data tidak dapat dibuka.")
    assert path.read_bytes() == damaged  # nothing was overwritten
