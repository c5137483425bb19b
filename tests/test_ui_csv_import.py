"""Berkas → Impor CSV… in the window: off the main thread, with progress, a report of refused
rows, and a clear message for a file that cannot be imported."""

from PySide6.QtWidgets import QMessageBox

from storage.registry import RegistrationFilter
from tests.test_csv_import import demo_rows, write_csv
from ui.csv_import import summary
from ui.main_window import MainWindow


def test_import_from_the_window_registers_rows_and_reports_the_refused(qtbot, worker, tmp_path):
    rows = demo_rows(worker.readonly, 9, seed=11)
    rows[3]["nik"] = "123"
    path = write_csv(tmp_path / "daftar.csv", rows)
    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.tabs.setCurrentWidget(window.registrations)
    task = window.import_csv(str(path), accept_warnings=True)
    with qtbot.waitSignal(task.finished, timeout=30_000) as done:
        pass
    report = done.args[0]
    assert (report.imported, len(report.skipped)) == (8, 1)
    assert task.dialog.maximum() == 9
    qtbot.waitUntil(lambda: window.status.total.text() == "Total: 8", timeout=3000)
    assert window.registrations.model.total() == 8
    box = window.import_report_box
    assert "8 dari 9 baris didaftarkan." in box.text()
    assert "baris 5" in box.text() and rows[3]["nama_lengkap"] in box.text()
    assert any(b.text() == "Simpan daftar yang ditolak…" for b in box.buttons())
    box.close()


def test_a_file_without_the_required_columns_gets_a_clear_message(qtbot, worker, tmp_path,
                                                                    monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self.text()))
    path = tmp_path / "bukan.csv"
    path.write_text("nama;alamat\nBudi;Jl. Contoh\n", encoding="utf-8")
    window = MainWindow(worker)
    qtbot.addWidget(window)
    task = window.import_csv(str(path), accept_warnings=False)
    with qtbot.waitSignal(task.failed, timeout=10_000):
        pass
    assert shown and "Kolom wajib tidak ada: nik" in shown[-1]
    assert worker.readonly.count(RegistrationFilter()) == 0


def test_summary_names_cancelled_and_accepted_warnings():
    from storage.csv_import import ImportReport, SkippedRow

    report = ImportReport(total=5, imported=2, with_warnings=1,
                          skipped=[SkippedRow(4, "157101******0001", "Budi", ["alasan"])])
    text = summary(report, cancelled=True)
    assert "2 dari 5 baris didaftarkan." in text and "1 di antaranya" in text
    assert "Dibatalkan" in text and "baris 4 (157101******0001 Budi): alasan" in text
