"""No widget is touched from a thread other than the GUI thread.

Qt's release build says nothing when a worker thread sets a label's text; the window may then
crash at random. tests/thread_guard.py wraps the widget methods the window's code calls so that
such a call is recorded; here it is checked on its own, on ui/tasks.py's lanes, and around the
panels' real flows (enrolment, sync, the verifier's decisions, the Klaim & PDP tab, card printing
and reprints, importing a list, the one-machine demo), which run under the guard in a child
pytest so that each of their tests fails when a widget is touched off the GUI thread."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import thread_guard
from PySide6.QtWidgets import QLabel

from ui.tasks import LongRun, Tasks

TESTS = Path(__file__).resolve().parent
# The panels' flows, each against the real server on loopback where it has one.
FLOWS = (
    "test_sync_panel.py",  # enrolment, sync on demand, sync when the server is reachable
    "test_verifier_flow.py",  # the verifier's decisions
    "test_claims_panel.py",  # the programme office's requests
    "test_card_ui.py",  # card printing (PDF and printer), hand-over, reprint
    "test_card_reprint_server.py",  # the reprint asked of the server
    "test_ui_csv_import.py",  # importing a list with its progress dialog
    "test_demo_mode.py::test_demo_start_up_path_fills_every_view",  # the demo's enrolment, data
)


@pytest.fixture
def violations():
    seen: list[str] = []
    restore = thread_guard.install(seen)
    yield seen
    restore()


def test_the_guard_catches_a_widget_touched_off_the_gui_thread(qtbot, violations):
    label = QLabel("awal")
    qtbot.addWidget(label)
    label.setText("di utas GUI")  # the GUI thread: fine
    assert violations == []
    worker = threading.Thread(target=lambda: label.setText("dari utas lain"), name="bad")
    worker.start()
    worker.join()
    assert len(violations) == 1 and violations[0].startswith("QLabel.setText on thread bad")


def test_answers_of_the_task_lanes_reach_widgets_on_the_gui_thread(qtbot, violations):
    label = QLabel("")
    qtbot.addWidget(label)
    tasks = Tasks()
    tasks.run(lambda n: n * 2, 21, on_result=lambda n: label.setText(str(n)))
    qtbot.waitUntil(lambda: label.text() == "42", timeout=3000)

    def long_job(progress):
        for i in range(3):
            progress(i + 1, 3)
        return "selesai"

    run = LongRun(long_job, start=False)
    run.progress.connect(lambda done, total, _phase: label.setText(f"{done}/{total}"))
    run.finished.connect(label.setText)
    with qtbot.waitSignal(run.finished, timeout=3000):
        run.start()
    assert label.text() == "selesai"
    assert violations == []


def _child_pytest(*targets: str) -> subprocess.CompletedProcess:
    paths = [str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "thread_guard", "-q",
         *targets], cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=900)


def test_the_guard_as_a_plugin_fails_a_test_that_touches_a_widget_off_thread(tmp_path):
    bad = tmp_path / "test_bad_thread.py"
    bad.write_text(
        "import threading\n"
        "from PySide6.QtWidgets import QLabel\n\n"
        "def test_bad(qtbot):\n"
        "    label = QLabel()\n"
        "    qtbot.addWidget(label)\n"
        "    t = threading.Thread(target=lambda: label.setText('x'))\n"
        "    t.start()\n"
        "    t.join()\n", encoding="utf-8")
    result = _child_pytest(str(bad))
    assert result.returncode == 1, result.stdout[-2000:]
    assert "a widget was touched off the GUI thread" in result.stdout


def test_the_panels_flows_touch_widgets_only_on_the_gui_thread():
    # The widgets' threads do not depend on the server's engine: the flows' [sqlite] runs.
    result = _child_pytest(*(str(TESTS / flow) for flow in FLOWS), "-k", "not postgresql")
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert " passed" in result.stdout and "error" not in result.stdout.splitlines()[-1]
