"""Berkas → Impor daftar… in the window: reading off the main thread, the mapping step with its
combo boxes, the dry run's counts before anything is saved, the import with progress and Batal,
a report of the rows not registered, and a clear message for a file that cannot be read."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from storage.registry import RegistrationFilter
from storage.sample_lists import office_rows, write_xlsx
from tests.test_csv_import import AS_OF, demo_rows, write_csv
from ui.csv_import import summary
from ui.main_window import MainWindow

CITY_HEADER = ["No", "No KTP", "Nama Pekerja", "Tgl Lahir", "RT", "RW", "Kecamatan Domisili",
               "Kelurahan Domisili", "Pekerjaan", "Pendapatan", "Nama Ahli Waris", "Hubungan",
               "Setuju"]


def city_list(path, rows):
    cells = [[i + 1, r["nik"], r["nama_lengkap"], r["tanggal_lahir"], r["rt"], r["rw"],
              r["kecamatan"], r["kelurahan"], r["pekerjaan"], r["penghasilan"],
              r["ahli_waris_nama"], r["ahli_waris_hubungan"], "ya"] for i, r in enumerate(rows)]
    return write_xlsx(path, cells, header=CITY_HEADER)


def window_for(qtbot, worker):
    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.tabs.setCurrentWidget(window.registrations)
    return window


def test_import_from_the_window_registers_rows_and_reports_the_refused(qtbot, worker, tmp_path):
    rows = demo_rows(worker.readonly, 9, seed=11)
    rows[3]["nik"] = "123"
    path = write_csv(tmp_path / "daftar.csv", rows)
    window = window_for(qtbot, worker)
    flow = window.import_csv(str(path), accept_warnings=True)
    with qtbot.waitSignal(flow.finished, timeout=30_000) as done:
        pass
    report = done.args[0]
    assert (report.imported, len(report.skipped)) == (8, 1)
    assert flow.task.dialog.maximum() == 9
    qtbot.waitUntil(lambda: window.status.total.text() == "Total: 8", timeout=3000)
    assert window.registrations.model.total() == 8
    box = window.import_report_box
    assert "8 dari 9 baris didaftarkan." in box.text()
    assert "8 baru · 0 sudah terdaftar" in box.text() and "1 ditolak" in box.text()
    assert "baris 5" in box.text() and rows[3]["nama_lengkap"] in box.text()
    assert any(b.text() == "Simpan daftar yang ditolak…" for b in box.buttons())
    box.close()


def test_the_mapping_step_the_dry_run_and_the_remembered_mapping(qtbot, worker, tmp_path):
    rows = office_rows(6, seed=31, as_of=AS_OF)
    rows[2]["nik"] = "1.57101E+15"
    path = city_list(tmp_path / "kelurahan.xlsx", rows)
    window = window_for(qtbot, worker)
    flow = window.import_csv(str(path))
    with qtbot.waitSignal(flow.dialog_shown, timeout=30_000) as shown:
        pass
    dialog = shown.args[0]
    assert dialog.mapping() == ["", "nik", "nama_lengkap", "tanggal_lahir", "rt", "rw", "", "",
                                "pekerjaan", "penghasilan", "ahli_waris_nama",
                                "ahli_waris_hubungan", "persetujuan"]
    assert "kecamatan, kelurahan" in dialog.mapping_state.text()
    assert not dialog.import_button.isEnabled() and not dialog.dry_run_button.isEnabled()
    sample = dialog.grid.item(1, 1).text()
    assert rows[0]["nik"] not in sample and rows[0]["nik"][:6] in sample  # NIKs masked

    dialog.choose(6, "kecamatan")
    dialog.choose(7, "kecamatan")
    assert "Dipilih untuk lebih dari satu kolom: kecamatan" in dialog.mapping_state.text()
    dialog.choose(7, "kelurahan")
    assert dialog.import_button.isEnabled()

    with qtbot.waitSignal(flow.checked, timeout=30_000) as checked:
        dialog.dry_run_button.click()
    assert checked.args[0].counts == {"new": 5, "already": 0, "similar": 0, "warnings": 0,
                                      "refused": 1}
    assert "5 dari 6 baris akan didaftarkan" in dialog.result.text()
    assert "1 ditolak" in dialog.result.text()
    assert worker.readonly.count(RegistrationFilter()) == 0  # nothing saved by the dry run

    with qtbot.waitSignal(flow.finished, timeout=30_000) as done:
        dialog.import_button.click()
    assert done.args[0].counts == checked.args[0].counts  # the dry run told the truth
    qtbot.waitUntil(lambda: worker.readonly.count(RegistrationFilter()) == 5, timeout=5000)
    window.import_report_box.close()

    # Next month's list from the same kelurahan: the mapping step starts where it was left.
    later = city_list(tmp_path / "kelurahan_2.xlsx", office_rows(9, seed=32, as_of=AS_OF)[6:])
    flow = window.import_csv(str(later))
    with qtbot.waitSignal(flow.dialog_shown, timeout=30_000) as shown:
        pass
    dialog = shown.args[0]
    assert dialog.mapping()[6:8] == ["kecamatan", "kelurahan"]
    assert "impor sebelumnya" in dialog.mapping_help.text()
    with qtbot.waitSignal(flow.finished, timeout=10_000) as done:
        dialog.reject()
    assert done.args[0] is None
    assert worker.readonly.count(RegistrationFilter()) == 5


def test_progress_and_cancel_keep_the_groups_already_saved(qtbot, worker, tmp_path,
                                                           monkeypatch):
    import time

    from storage.registry import Registry

    saving = Registry.save_many

    def slow_save_many(self, *args, **kwargs):  # a slow tablet: time to press Batal
        time.sleep(0.2)
        return saving(self, *args, **kwargs)

    monkeypatch.setattr(Registry, "save_many", slow_save_many)
    path = write_xlsx(tmp_path / "besar.xlsx", office_rows(1500, seed=33, as_of=AS_OF))
    window = window_for(qtbot, worker)
    flow = window.import_csv(str(path), accept_warnings=False, group_size=100)
    qtbot.waitUntil(lambda: flow.task.dialog.labelText() == "Mengimpor pendaftaran…",
                    timeout=30_000)
    task = flow.task
    qtbot.waitUntil(lambda: task.dialog.value() >= 100, timeout=30_000)
    assert task.dialog.maximum() == 1500
    [batal] = task.dialog.findChildren(QPushButton)
    assert batal.text() == "Batal"
    with qtbot.waitSignal(flow.finished, timeout=30_000) as done:
        qtbot.mouseClick(batal, Qt.MouseButton.LeftButton)
    report = done.args[0]
    assert report.cancelled and 100 <= report.imported < 1500
    assert report.imported % 100 == 0  # whole groups only
    qtbot.waitUntil(lambda: worker.readonly.count(RegistrationFilter()) == report.imported,
                    timeout=5000)
    assert "Dibatalkan" in window.import_report_box.text()
    window.import_report_box.close()


def test_a_file_that_cannot_be_read_gets_a_clear_message(qtbot, worker, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self.text()))
    path = tmp_path / "daftar.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    window = window_for(qtbot, worker)
    flow = window.import_csv(str(path), accept_warnings=False)
    with qtbot.waitSignal(flow.failed, timeout=10_000):
        pass
    assert shown and "format Excel lama (.xls)" in shown[-1]
    assert worker.readonly.count(RegistrationFilter()) == 0


def test_a_list_without_known_columns_opens_the_mapping_step(qtbot, worker, tmp_path):
    path = tmp_path / "bukan.csv"
    path.write_text("nama;alamat\nBudi;Jl. Contoh\n", encoding="utf-8")
    window = window_for(qtbot, worker)
    flow = window.import_csv(str(path), accept_warnings=False)
    with qtbot.waitSignal(flow.dialog_shown, timeout=10_000) as shown:
        pass
    dialog = shown.args[0]
    assert "Kolom wajib belum dipilih: nik," in dialog.mapping_state.text()
    assert not dialog.import_button.isEnabled()
    dialog.reject()
    assert worker.readonly.count(RegistrationFilter()) == 0


def test_summary_names_cancelled_and_accepted_warnings():
    from storage.csv_import import ImportReport, SkippedRow

    report = ImportReport(total=5, imported=2, with_warnings=1,
                          skipped=[SkippedRow(4, "157101******0001", "Budi", ["alasan"])])
    text = summary(report, cancelled=True)
    assert "2 dari 5 baris didaftarkan." in text and "1 di antaranya" in text
    assert "Dibatalkan" in text and "baris 4 (157101******0001 Budi): alasan" in text
