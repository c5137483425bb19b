"""Render every picture of the README: `python -m ui.screenshots docs/screenshots`.

`make screenshots` runs it in a real X window (Xvfb with Qt's xcb platform: real fonts, real
popups and focus, as an enumerator's laptop draws them); the offscreen platform works too.

- The form and list screens. The list uses a demo database with the city's whole workforce
  (228,000 fictitious workers), built once with storage's demo loader into a cache folder and
  copied for each run, so that the cached file never changes.
- The demo walk-through of the README (`demo_*.png`), made the way a newcomer makes it: the
  offer of a local server answered *Ya*, the real server started on loopback, demo data made
  through sync and the API, then each tab as the walk-through shows it.
- The front and back of a printed card (`card_*.png`), from the demo's cards, through the card
  desk's own PDF and poppler at 200 dpi.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Every picture this module makes (the README shows each of them).
PICTURES = ("form_empty.png", "form_warning.png", "list.png", "search.png", "record.png",
            "demo_1_tawaran.png", "demo_2_daftar.png", "demo_3_verifikasi_duplikat.png",
            "demo_4_verifikasi_danai.png", "demo_5_meja_kartu.png", "demo_6_periksa_kartu.png",
            "demo_7_sinkronisasi.png", "card_front.png", "card_back.png")
FULL_SIZE = 228_000
CARD_DPI = 200
DEMO_WAIT = 300.0  # seconds for the demo's server to start and its data to be made


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


def _settle(app, until=None, timeout: float = 10.0, what: str = "") -> bool:
    """Let queued signals, timers and the writer thread's answers arrive (until `until()` is
    true, when given). False, with a note, when it never came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if until is None or until():
            if until is None:
                time.sleep(0.05)
                app.processEvents()
            return True
        time.sleep(0.02)
    if until is not None:
        print(f"warning: waited {timeout:.0f} s for {what or 'the screen'}", file=sys.stderr)
    return False


def _show(window) -> None:
    from ui import screen_fit

    screen_fit.fit(window, screen_fit.MAIN_WINDOW)
    window.show()
    window.raise_()
    window.activateWindow()


def _grab(widget, path: Path) -> Path:
    from PySide6.QtWidgets import QApplication

    _settle(QApplication.instance())
    widget.grab().save(str(path), "PNG")
    print(path)
    return path


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
    from PySide6.QtWidgets import QApplication

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Jamsos Jambi")
    written = render_form_and_list(app, out, size)
    written += render_demo(app, out)
    return written


def render_form_and_list(app, out: Path, size: int) -> list[Path]:
    from PySide6.QtWidgets import QDialog

    from ui.app import build_window
    from ui.db_worker import DbWorker

    written = []
    with tempfile.TemporaryDirectory() as tmp:
        # The form screens start from an empty registry; the list screens from the big one.
        empty = DbWorker.for_path(Path(tmp) / "empty.db")
        empty.start()
        window = build_window(empty)
        _show(window)
        _settle(app)
        written.append(out / "form_empty.png")
        _save(window, written[-1])
        _fill_with_warning(window.form)
        _settle(app, until=lambda: window.form.warnings_box.isVisible(), what="the warning")
        window.form.nik.setFocus()
        window.tabs.currentWidget().ensureWidgetVisible(window.form.confirm_warnings)
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
        window.tabs.setCurrentWidget(window.registrations)
        _show(window)
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
        _settle(app, until=lambda: window.findChild(QDialog, "record_dialog") is not None,
                what="the record dialog")
        dialog = window.findChild(QDialog, "record_dialog")
        written.append(_grab(dialog, out / "record.png"))
        dialog.close()
        window.close()
        window.sync_panel.shutdown()
        worker.shutdown()
    return written


def render_demo(app, out: Path) -> list[Path]:
    """The README's walk-through, from the offer of a local server to a checked card."""
    from ui import demo_mode
    from ui.app import build_window, open_worker

    written: list[Path] = []
    answers = {"offer": demo_mode.DemoMode.ask_offer, "seed": demo_mode.DemoMode.ask_seed}

    def offer(demo):  # the newcomer's answer, pictured first
        box, _again = demo.offer_box()
        box.show()
        written.append(_grab(box, out / "demo_1_tawaran.png"))
        box.close()
        return True, False

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        worker = open_worker(data)
        window = build_window(worker, _first_admin(app, worker))
        # Automatic sync would send the demo's three "registered" examples at once: held, so
        # that the list shows every status; the walk-through then syncs by hand.
        window.sync_panel.shutdown()
        window.sync_panel.start_watching = lambda **_timing: None
        _show(window)
        demo_mode.DemoMode.ask_offer = offer
        demo_mode.DemoMode.ask_seed = lambda demo: True
        outcome: list = []
        demo = None
        try:
            demo = demo_mode.install_demo(window, worker, data)
            demo.seeded.connect(outcome.append)
            demo.failed.connect(outcome.append)
            _settle(app, until=lambda: bool(outcome), timeout=DEMO_WAIT, what="the demo data")
        finally:
            demo_mode.DemoMode.ask_offer = answers["offer"]
            demo_mode.DemoMode.ask_seed = answers["seed"]
        try:
            if outcome and not isinstance(outcome[0], str):
                written += _demo_tabs(app, window, worker, data, out)
            else:
                print(f"demo failed: {outcome}", file=sys.stderr)
        finally:
            window.close()
            window.sync_panel.shutdown()
            if window._verifier.built:
                window.verifier.shutdown()
            if window._card_desk.built:
                window.card_desk.shutdown()
            worker.shutdown()
            if demo is not None:
                demo.shutdown()  # stops the local server
    return written


def _first_admin(app, worker):
    """The device's first admin account, logged in (as the walk-through starts)."""
    from datetime import UTC, datetime

    answer: list = []
    worker.call(lambda r: r.operators.add("rina", "Rina (Disnaker)", "admin",
                                          "contoh-jambi-2026", now=datetime.now(UTC)),
                on_result=answer.append, on_error=answer.append)
    _settle(app, until=lambda: bool(answer), what="the first admin account")
    if not answer or isinstance(answer[0], BaseException):
        print(f"no operator for the demo window: {answer}", file=sys.stderr)
        return None
    return answer[0]


def _demo_tabs(app, window, worker, data: Path, out: Path) -> list[Path]:
    from storage.registry import RegistrationFilter

    written = []
    sync = window.sync_panel
    window.tabs.setCurrentWidget(window.registrations)
    window.registrations.refresh()
    _settle(app, until=lambda: window.registrations.model.rowCount() > 0, what="the list")
    window.registrations.table.selectRow(0)
    written.append(_grab(window, out / "demo_2_daftar.png"))

    done: list = []
    sync.sync_finished.connect(done.append)
    sync.refresh()
    _settle(app, until=lambda: bool(sync._info.get("enrolled")), what="the enrolment")
    window.tabs.setCurrentWidget(sync)
    sync.start_sync()
    _settle(app, until=lambda: bool(done) and sync.table.rowCount() > 0, timeout=60,
            what="a sync by hand")
    sync.table.selectRow(0)
    written.append(_grab(window, out / "demo_7_sinkronisasi.png"))

    window.tabs.setCurrentWidget(window._verifier)
    verifier = window.verifier
    verifier.reload()
    _settle(app, until=lambda: verifier.model.rowCount() > 0, timeout=30, what="the verifier")
    verifier.duplicate_check.setChecked(True)
    _pick_first(app, verifier, "duplicates", lambda item: item.get("possible_duplicate"))
    written.append(_grab(window, out / "demo_3_verifikasi_duplikat.png"))
    verifier.duplicate_check.setChecked(False)
    verifier.status_combo.setCurrentIndex(verifier.status_combo.findData("funded"))
    _pick_first(app, verifier, "funded registrations",
                lambda item: item.get("status") == "funded")
    written.append(_grab(window, out / "demo_4_verifikasi_danai.png"))

    window.tabs.setCurrentWidget(window._card_desk)
    desk = window.card_desk
    desk.refresh()
    _settle(app, until=lambda: desk.model.rowCount() > 0, timeout=30, what="the card desk")
    desk.table.selectRow(0)
    written.append(_grab(window, out / "demo_5_meja_kartu.png"))

    (handed,) = worker.readonly.query(RegistrationFilter(status="card_handed_over"), limit=1)
    card = _print_card(worker, handed.id)
    window.tabs.setCurrentWidget(window._verify_panel)
    panel = window.verify_panel
    panel.input.setText(card.qr_text)
    panel.submit()
    written.append(_grab(window, out / "demo_6_periksa_kartu.png"))
    written += _card_pictures(card, out)
    return written


def _pick_first(app, verifier, what: str, fits) -> None:
    """Wait for the filtered list (every row `fits`), select its first row and wait for its
    details."""
    def filtered() -> bool:
        items = list(verifier.model.items)
        return bool(items) and all(fits(item) for item in items)

    _settle(app, until=filtered, timeout=30, what=what)
    verifier.detail = None
    verifier.table.selectRow(0)
    _settle(app, until=lambda: verifier.detail is not None, timeout=30,
            what=f"the details of the {what}")


def _print_card(worker, registration_id: str):
    from cards.desk import load_print_cards

    return load_print_cards(worker.readonly, [registration_id])[0]


def _card_pictures(card, out: Path) -> list[Path]:
    """Front and back of one card, as the card desk prints it (one card per page), in colour."""
    import subprocess

    from cards.pdf import render_pdf

    written = []
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "kartu.pdf"
        render_pdf([card], pdf, "cr80", workers=0)
        for page, name in ((1, "card_front.png"), (2, "card_back.png")):
            stem = Path(tmp) / name.removesuffix(".png")
            subprocess.run(["pdftoppm", "-r", str(CARD_DPI), "-f", str(page), "-l", str(page),
                            "-png", "-singlefile", str(pdf), str(stem)], check=True)
            shutil.copyfile(stem.with_suffix(".png"), out / name)
            written.append(out / name)
            print(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.screenshots")
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshots"))
    parser.add_argument("--size", type=int, default=FULL_SIZE,
                        help="workers in the list screens' demo database")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # make screenshots sets xcb
    written = {path.name for path in render(args.out, args.size)}
    missing = [name for name in PICTURES if name not in written]
    if missing:
        print(f"not made: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
