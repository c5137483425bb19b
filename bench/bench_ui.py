"""The enumerator's window with the city's whole workforce (228,000 workers).

- List model ready with its first screen of rows, against the same first-page query through
  plain `sqlite3` on an open connection, and against the model on a 100-worker database.
- App start to an interactive window, in a fresh process each time (from process start to the
  window shown and the event loop idle), against a bare QApplication with an empty
  QMainWindow; with the peak resident memory of both.

The 228,000-worker database is the storage benchmark's cached one (built once, then copied).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_storage import FULL_SIZE, QUICK_SIZE, _cached_database
from bench.util import ms, percentile, table

ROOT = Path(__file__).resolve().parent.parent
FIRST_PAGE = 200
SMALL_SIZE = 100

# The first page the list shows, as plain SQL (what the registry's query does for no filter).
RAW_FIRST_PAGE = (
    "SELECT w.id, w.nik, w.full_name, w.birth_date, w.kelurahan_code, e.name, w.status, "
    "EXISTS (SELECT 1 FROM worker_versions wv JOIN outbox o ON o.seq = wv.seq "
    "WHERE wv.record_id = w.id), w.updated_at, w.version "
    "FROM workers w LEFT JOIN events e ON e.id = w.event_id ORDER BY w.seq DESC LIMIT ?"
)

# Peak RSS from VmHWM, which belongs to the process's own memory map: ru_maxrss would report
# the benchmark process's peak, which Linux carries over into a child it forks.
_READY = "import re, sys\n" \
    "def ready():\n" \
    "    status = open('/proc/self/status').read()\n" \
    "    rss = int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) / 1024\n" \
    "    print(f'READY {rss:.1f}', flush=True)\n" \
    "    app.quit()\n"

APP_CHILD = _READY + (
    "import main\n"
    "main.build_parser()  # the entry point's imports, in its order\n"
    "from ui.app import build_window, open_worker\n"
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication(sys.argv[:1])\n"
    "worker = open_worker(sys.argv[1])\n"
    "window = build_window(worker)\n"
    "window.show()\n"
    "QTimer.singleShot(0, ready)  # runs once the loop has drawn the window and is idle\n"
    "app.exec()\n"
    "worker.shutdown()\n"
)

BARE_CHILD = _READY + (
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication(sys.argv[:1])\n"
    "window = QMainWindow()\n"
    "window.resize(1280, 860)\n"
    "window.show()\n"
    "QTimer.singleShot(0, ready)\n"
    "app.exec()\n"
)


def _time_child(code: str, data_dir: Path) -> tuple[float, float]:
    """Seconds from starting the process to its READY line, and its peak RSS in MiB."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(data_dir)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("READY"):
            elapsed = time.perf_counter() - started
            rss = float(line.split()[1])
            break
    else:
        raise RuntimeError("the child process never became ready")
    proc.wait(timeout=60)
    return elapsed, rss


def _model_ready(reader, repeats: int) -> list[float]:
    from ui.registrations_model import RegistrationsModel

    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        model = RegistrationsModel(reader, page_size=FIRST_PAGE)
        model.data(model.index(FIRST_PAGE - 1, 1))  # the screen's last row is there
        samples.append(time.perf_counter() - started)
    return samples


def _raw_first_page(path: Path, repeats: int) -> list[float]:
    conn = sqlite3.connect(str(path))
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        conn.execute(RAW_FIRST_PAGE, [FIRST_PAGE]).fetchall()
        samples.append(time.perf_counter() - started)
    conn.close()
    return samples


def _small_database(folder: Path) -> Path:
    from storage.demo import fill_demo_data
    from storage.registry import Registry

    path = folder / "small.sqlite3"
    registry = Registry.open(path)
    fill_demo_data(registry, SMALL_SIZE, seed=1)
    registry.close()
    return path


def run(quick: bool) -> str:
    from PySide6.QtWidgets import QApplication

    from storage.registry import RegistrationFilter, Registry

    size = QUICK_SIZE if quick else FULL_SIZE
    repeats = 5 if quick else 30
    starts = 2 if quick else 7
    app = QApplication.instance() or QApplication([])  # noqa: F841 - the model needs one
    cached, _ = _cached_database(size)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data_dir = folder / "data"
        data_dir.mkdir()
        big = data_dir / "registry.sqlite3"
        shutil.copy(cached, big)
        small = _small_database(folder)

        reader = Registry.open_readonly(big)
        small_reader = Registry.open_readonly(small)
        big_model = _model_ready(reader, repeats)
        small_model = _model_ready(small_reader, repeats)
        raw = _raw_first_page(big, repeats)
        started = time.perf_counter()
        total = reader.count(RegistrationFilter())
        count_time = time.perf_counter() - started
        started = time.perf_counter()
        from ui.registrations_model import RegistrationsModel

        searched = RegistrationsModel(reader, RegistrationFilter(text="siti"), FIRST_PAGE)
        search_time = time.perf_counter() - started
        reader.close()
        small_reader.close()

        app_runs, bare_runs = [], []
        for _ in range(starts):  # interleaved, so both see the same machine load
            bare_runs.append(_time_child(BARE_CHILD, data_dir))
            app_runs.append(_time_child(APP_CHILD, data_dir))

    def row(label, samples, goal=""):
        return [label, ms(statistics.median(samples)), ms(percentile(samples, 95)), goal]

    app_times = [t for t, _ in app_runs]
    bare_times = [t for t, _ in bare_runs]
    rows = [
        row(f"list model ready, first {FIRST_PAGE} rows of {total:,}", big_model, "≤ 200 ms"),
        row(f"baseline: same first page via plain sqlite3 ({total:,})", raw),
        row(f"list model ready, {SMALL_SIZE} workers", small_model),
        [f"count for the label ({total:,})", ms(count_time), "", ""],
        [f"search \"siti\": first page ({searched.rowCount()} rows)", ms(search_time), "", ""],
        row("app start to interactive window (process start → idle)", app_times, "≤ 1.5 s"),
        row("baseline: bare QApplication + empty QMainWindow", bare_times),
        ["peak RSS: app / baseline",
         f"{max(r for _, r in app_runs):.0f} MiB / {max(r for _, r in bare_runs):.0f} MiB",
         "", ""],
    ]
    note = (f"{size:,} workers; model times over {repeats} builds, start times over {starts} "
            "fresh processes each (offscreen platform).")
    return table("Window: list model and app start", ["measure", "median", "p95", "goal"],
                 rows, note)
