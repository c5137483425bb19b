"""Render the main screens to PNG for the README: `python -m ui.screenshots docs/screenshots`.

Runs under QT_QPA_PLATFORM=offscreen. The list screens use a demo database with the city's whole
workforce (228,000 fictitious workers), built once with storage's demo loader into a cache folder
and copied for each run, so that the cached file never changes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

FULL_SIZE = 228_000
SIZE = (1280, 860)


def cached_demo_database(size: int = FULL_SIZE) -> Path:
    """A database of `size` demo workers under the temp folder, built once."""
    from storage.demo import fill_demo_data
    from storage.paths import DATABASE_NAME
    from storage.registry import Registry

    folder = Path(tempfile.gettempdir()) / "jamsos-screenshots" / f"demo-{size}"
    path = folder / DATABASE_NAME
    if (folder / "complete").exists():
        return path
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"building a demo database of {size:,} workers (once)…", file=sys.stderr)
    registry = Registry.open(path)
    fill_demo_data(registry, size, seed=0, batch_size=5000)
    registry.close()  # the last connection's close folds the WAL into the file
    (folder / "complete").write_text("ok\n")
    return path


def _settle(app, until=None, timeout: float = 10.0) -> None:
    """Let queued signals, timers and the writer thread's answers arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if until is None or until():
            if until is None:
                time.sleep(0.05)
                app.processEvents()
            return
        time.sleep(0.02)


def _save(window, path: Path) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    # The counts arrive from the worker thread; let the status bar lay its labels out again.
    _settle(app, until=lambda: "…" not in window.status.total.text())
    _settle(app)
    window.grab().save(str(path), "PNG")
    print(path)


def _fill_with_warning(form) -> None:
    """A worker whose KTP birth date differs from the NIK: a warning to confirm."""
    form.apply_draft({
        "nik": "1571094512859957",  # constructed, serial in the rarely reached 99xx range
        "full_name": "Siti Aminah",
        "birth_place": "Jambi",
        "birth_date": "06-12-1985",
        "sex": "P",
        "phone": "0812 3456 7890",
        "street": "Jl. Kapt. Pattimura No. 5",
        "rt": "005",
        "rw": "002",
        "kecamatan_code": "15.71.09",
        "kelurahan_code": "15.71.09.1002",
        "postal_code": "36125",
        "occupation": "Pedagang kaki lima",
        "cohort": "pekerja_rentan",
        "income": "1.500.000",
        "heirs": [{"name": "Ahmad Yani", "relationship": "suami", "phone": "081298765432"}],
        "consent_given": True,
    })


def render(out: Path, size: int = FULL_SIZE) -> list[Path]:
    from PySide6.QtWidgets import QApplication, QDialog

    from ui.app import build_window
    from ui.db_worker import DbWorker

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        # The form screens start from an empty registry; the list screens from the big one.
        empty = DbWorker.for_path(Path(tmp) / "empty.db")
        empty.start()
        window = build_window(empty)
        window.resize(*SIZE)
        window.show()
        _settle(app)
        written.append(out / "form_empty.png")
        _save(window, written[-1])
        _fill_with_warning(window.form)
        _settle(app, until=lambda: window.form.warnings_box.isVisible())
        window.form.nik.setFocus()
        _settle(app)
        written.append(out / "form_warning.png")
        _save(window, written[-1])
        window.form._draft_timer.stop()
        window.close()
        empty.shutdown()

        big = Path(tmp) / "big.db"
        shutil.copy(cached_demo_database(size), big)
        worker = DbWorker.for_path(big)
        worker.start()
        window = build_window(worker)
        window.resize(*SIZE)
        window.tabs.setCurrentWidget(window.registrations)
        window.show()
        _settle(app)
        written.append(out / "list.png")
        _save(window, written[-1])
        view = window.registrations
        view.search.setText("siti")
        view.apply_filter()
        view.table.selectRow(0)
        _settle(app)
        written.append(out / "search.png")
        _save(window, written[-1])
        view.open_row(0)
        _settle(app, until=lambda: window.findChild(QDialog, "record_dialog") is not None)
        dialog = window.findChild(QDialog, "record_dialog")
        _settle(app)
        written.append(out / "record.png")
        dialog.grab().save(str(written[-1]), "PNG")
        print(written[-1])
        dialog.close()
        window.close()
        worker.shutdown()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.screenshots")
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshots"))
    parser.add_argument("--size", type=int, default=FULL_SIZE,
                        help="workers in the list screens' demo database")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    render(args.out, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
