"""Nothing the window shows is cut off: status-bar messages, kegiatan names in the list, the
sync panel's NIK and state, usernames in Kelola petugas."""

from datetime import UTC, date, datetime

from PySide6.QtWidgets import QAbstractItemView

from ui.main_window import MainWindow

LONG_EVENT = "Jemput bola Kelurahan Talang Bakung bersama Dinas Ketenagakerjaan"


def run(qtbot, worker, fn, *args):
    box = []
    worker.call(fn, *args, on_result=box.append, on_error=box.append, changes=True)
    qtbot.waitUntil(lambda: bool(box), timeout=5000)
    assert not isinstance(box[0], BaseException), box[0]
    return box[0]


def whole(view: QAbstractItemView, row: int, column: int) -> bool:
    """The cell's text fits its column (with the cell's own margins)."""
    text = view.model().index(row, column).data()
    return view.fontMetrics().horizontalAdvance(text) + 6 <= view.columnWidth(column)


def test_a_long_status_message_takes_a_second_line_instead_of_being_cut(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.resize(1000, 680)
    window.show()
    qtbot.waitExposed(window)
    window.operator_label.setText("Masuk: Ibu Admin Contoh (admin)")
    text = ("Data contoh siap: 40 pendaftaran dalam semua status, kartu bertanda tangan server "
            "lokal; sinkronisasi otomatis menyala kembali.")
    window.statusBar().showMessage(text, 15_000)
    note = window.status.note
    qtbot.waitUntil(lambda: note.height() >= note.heightForWidth(note.width()), timeout=3000)
    assert window.statusBar().currentMessage() == text
    assert note.isVisible() and note.width() > 200
    window.sync_panel.shutdown()


def test_long_kegiatan_names_are_shown_whole_in_the_list(qtbot, worker):
    from storage.demo import fill_demo_data
    from ui.registrations_view import RegistrationsView

    event = run(qtbot, worker, lambda r: r.add_event(LONG_EVENT, date(2026, 11, 20)))
    run(qtbot, worker, lambda r: fill_demo_data(r, 5, seed=3))
    run(qtbot, worker, lambda r, eid: r.db_for_tests.execute(
        "UPDATE workers SET event_id = ?", [eid]) and None, event.id)
    view = RegistrationsView(worker)
    qtbot.addWidget(view)
    view.resize(1280, 600)
    view.show()
    view.refresh()
    column = 4
    assert LONG_EVENT in view.model.index(0, column).data()
    assert all(whole(view.table, row, column) for row in range(view.model.rowCount()))
    assert view.model.index(0, column).data(3) == view.model.index(0, column).data()  # tooltip
    for width in (1280, 1000):  # the last column (Diperbarui) too, the table scrolls instead
        view.resize(width, 600)
        qtbot.wait(50)
        assert all(whole(view.table, row, 7) for row in range(view.model.rowCount())), width


def test_usernames_are_whole_in_kelola_petugas(qtbot, worker):
    from ui.operators_dialog import OperatorsDialog
    from ui.session import Session

    now = datetime(2026, 12, 1, tzinfo=UTC)
    run(qtbot, worker, lambda r: r.operators.add(
        "admin.kecamatan.telanaipura", "Ibu Admin", "admin", "sandi-yang-panjang", now=now))
    run(qtbot, worker, lambda r: r.operators.add(
        "petugas.kelurahan.sungai.putri", "Budi Santoso", "petugas",
        "sandi-yang-panjang", now=now, by="admin.kecamatan.telanaipura"))
    dialog = OperatorsDialog(worker, Session(None))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=3000)
    assert all(whole(dialog.table, row, column)
               for row in range(2) for column in range(3))


def test_the_sync_panel_shows_nik_and_state_whole(qtbot, worker):
    from sync.state import AttentionRow
    from ui.sync_panel import SyncPanel

    panel = SyncPanel(worker)
    qtbot.addWidget(panel)
    panel.resize(1000, 500)
    panel.show()
    panel._fill_table([AttentionRow(
        "r1", "Siti Aminah binti Abdullah Rahman", "157109******9902", "duplicate",
        "NIK ganda: sudah terdaftar di server", "NIK sudah terdaftar oleh perangkat lain.",
        "2026-12-01T11:04:43+00:00")])
    assert all(whole(panel.table, 0, column) for column in range(3))
    panel.shutdown()


def test_an_heirs_name_phone_and_nik_are_shown_whole_in_the_record_window(qtbot, worker):
    from storage.models import Heir, Registration
    from ui.record_dialog import RecordDialog
    from ui.screen_fit import RECORD_DIALOG

    heir = Heir(name="Zulkifli Syahputra", relationship="suami", phone="0812 3456 7890",
                nik="1571 0945 1285 9902")
    reg = Registration(nik="1571094512859902", full_name="Siti Aminah", heirs=[heir])
    dialog = RecordDialog(worker, reg, [reg])
    qtbot.addWidget(dialog)
    dialog.resize(RECORD_DIALOG)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(300)  # the form's first check has come back from the worker
    row = dialog.form.heirs.rows[0]
    for edit in (row.name, row.phone, row.nik):
        assert edit.width() >= edit.fontMetrics().horizontalAdvance(edit.text()) + 8, (
            edit.objectName(), edit.width())
