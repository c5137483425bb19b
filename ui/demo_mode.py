"""Trying the whole system on one machine.

When the app starts with no server configured, it offers (once; "do not ask again" is kept) to
run the real central server in the background on this computer (loopback only, its data in
`server-lokal/` under the app's data directory), enrols this device with it as an admin device
(so that it may register, verify, fund and run the card desk), and offers demo data in every
status of a registration's life. The demo data is made the real way: registrations saved on the
device, pushed by sync, decided through the verifier's API, cards printed and handed over, and
everything pulled back. On the next start the local server is started again by itself.

The choice is kept in `demo.json` in the data directory. The steps that do the work (the local
server, the enrolment, `seed_demo`) are Qt-free, in ops/demo.py; this module asks, runs them
through ui/tasks.py and shows the outcome: the server's start and the enrolment's request on a
pool, the enrolment's database steps on the writer, and the demo data (three syncs) as a long
run with a connection of its own, so that the writer never waits on the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from ops import enrolment as enrol_ops
from ops.demo import (
    DEMO_COUNT,
    DEMO_OPERATORS,
    DEMO_PASSWORD,
    DEMO_ROLE,
    DemoChoice,
    LocalServer,
    SeedReport,
    is_enrolled,
    local_server,
    plan_local,
    seed_demo_apart,
    use_url,
)
from sync import state
from sync.client import SyncError
from ui.labels import t
from ui.tasks import Tasks


def demo_hint(reader, data_dir: Path | str | None) -> str:
    """The log-in dialog's hint in demo mode (this device uses the local demo server and its
    demo data was made): the demo accounts still active and their password. Else ""."""
    from storage.paths import data_dir as resolve

    choice = DemoChoice.load(resolve(data_dir))
    if not (choice.local_server and choice.seeded):
        return ""
    active = {o.username for o in reader.operators.list(include_inactive=False)}
    users = [username for username, _name, _role in DEMO_OPERATORS if username in active]
    if not users:
        return ""
    return t("login.demo_hint", users=", ".join(users), password=DEMO_PASSWORD)


# --- the window side -------------------------------------------------------------------------


class DemoMode(QObject):
    """Offers and runs the one-machine demo for a window. `start()` at start-up; `shutdown()`
    when the app closes (stops the local server)."""

    server_ready = Signal(str)  # URL of the local server, once this device is enrolled with it
    seeding = Signal()  # demo data is about to be made
    seeded = Signal(object)  # SeedReport
    failed = Signal(str)  # Indonesian message

    def __init__(self, window: QWidget, worker: Any, data_dir: Path | str,
                 count: int = DEMO_COUNT):
        super().__init__(window)
        self.window, self.worker = window, worker
        self.data_dir = Path(data_dir)
        self.count = count
        self.choice = DemoChoice.load(self.data_dir)
        self.server: LocalServer | None = None
        self.task = None
        self.tasks = Tasks(self)  # the server's start, the enrolment's request
        self._fresh = False  # True when the user just accepted the offer

    # dialogs (replaced in tests)
    def offer_box(self) -> tuple[QMessageBox, QCheckBox]:
        box = QMessageBox(QMessageBox.Icon.Question, t("demo.offer_title"), t("demo.offer"),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self.window)
        box.button(QMessageBox.StandardButton.Yes).setText(t("demo.offer_yes"))
        box.button(QMessageBox.StandardButton.No).setText(t("demo.offer_no"))
        again = QCheckBox(t("demo.never_again"), box)
        box.setCheckBox(again)
        return box, again

    def ask_offer(self) -> tuple[bool, bool]:
        """(run the local server?, do not ask again?)"""
        box, again = self.offer_box()
        accepted = box.exec() == QMessageBox.StandardButton.Yes
        return accepted, again.isChecked()

    def ask_seed(self) -> bool:
        answer = QMessageBox.question(self.window, t("demo.seed_title"),
                                        t("demo.seed", count=DEMO_COUNT))
        return answer == QMessageBox.StandardButton.Yes

    def tell(self, text: str) -> None:
        status = getattr(self.window, "statusBar", None)
        if callable(status):
            status().showMessage(text, 15_000)

    # start-up
    def start(self) -> None:
        if self.choice.local_server:
            self._start_server()  # chosen earlier: no question, just bring it back
        elif not self.choice.declined:
            self.worker.call(is_enrolled, on_result=self._maybe_offer)

    def _maybe_offer(self, enrolled: bool) -> None:
        if enrolled:
            return  # a real server is configured
        accepted, never_again = self.ask_offer()
        if not accepted:
            if never_again:
                self.choice.declined = True
                self.choice.save(self.data_dir)
            return
        self._fresh = True
        self._start_server()

    def _start_server(self) -> None:
        self.tell(t("demo.starting"))
        self.server = local_server(self.data_dir, self.choice.port or None)
        self.tasks.run(self.server.start, on_result=self._server_started,
                       on_error=lambda exc: self._fail(str(exc)))

    def _server_started(self, _result: object = None) -> None:
        server = self.server
        if self.choice.port != server.port or not self.choice.local_server:
            self.choice.port, self.choice.local_server = server.port, True
            self.choice.save(self.data_dir)
        if self._fresh:
            self._enrol()
        else:
            self.worker.call(use_url, server.url, on_result=self._followed)

    def _followed(self, enrolled: bool) -> None:
        if enrolled:
            self._ready()
        else:  # a new database beside an old choice: enrol it and offer demo data again
            self.choice.seeded = False
            self._enrol()

    def _enrol(self) -> None:
        code = self.server.enrol_code(DEMO_ROLE)
        self.tasks.via_network(self.worker, plan_local, enrol_ops.ask, enrol_ops.keep,
                               self.server.url, code, changes=False, on_result=self._enrolled,
                               on_error=lambda exc: self._fail(_message(exc)))

    def _enrolled(self, _enrolment) -> None:
        self._ready()
        if not self.choice.seeded and self.ask_seed():
            self.seed()

    def _ready(self) -> None:
        self.tell(t("demo.running", url=self.server.url))
        self.server_ready.emit(self.server.url)

    def seed(self) -> None:
        self.seeding.emit()
        self.worker.call(lambda registry: (state.database_file(registry), registry.key),
                         on_result=self._seed_apart,
                         on_error=lambda exc: self.failed.emit(
                             t("demo.seed_failed", reason=_message(exc))))

    def _seed_apart(self, database: tuple) -> None:
        from ui.long_task import LongTask

        path, key = database
        self.task = LongTask(self.window, None, t("demo.seed_title"), t("demo.seeding"),
                             seed_demo_apart, path, key, self.server.data_dir, self.count)
        self.task.finished.connect(self._seeded)
        # The task has shown the error; say that the demo data stopped there.
        self.task.failed.connect(lambda exc: self.failed.emit(
            t("demo.seed_failed", reason=_message(exc))))

    def _seeded(self, report: SeedReport | None) -> None:
        self.worker.changed.emit()  # written on the run's own connection: the views refresh
        self.choice.seeded = True
        self.choice.save(self.data_dir)
        report = report or SeedReport(cancelled=True)
        self.tell(report.summary())
        self.seeded.emit(report)

    def _fail(self, text: str) -> None:
        self.tell(text)
        self.failed.emit(text)
        QMessageBox.warning(self.window, t("demo.server"), text) if self._fresh else None

    def shutdown(self) -> None:
        if self.server is not None:
            self.server.stop()


def _message(exc: BaseException) -> str:
    if isinstance(exc, SyncError):
        return exc.message
    if type(exc).__name__ == "StorageError":
        return str(exc)  # storage errors carry their own Indonesian explanation
    return t("demo.enrol_failed", kind=type(exc).__name__)


def install_demo(window: Any, worker: Any, data_dir: Path | str | None) -> DemoMode:
    """Attach the demo to the main window at start-up (ui/app.py): offers it once the window
    shows, refreshes the panels that talk to the server when the local server is ready, and
    holds the automatic sync while the demo data is made (one sync at a time)."""
    from PySide6.QtCore import QTimer

    from storage.paths import data_dir as resolve

    demo = DemoMode(window, worker, resolve(data_dir))
    demo.server_ready.connect(lambda _url: _refresh_panels(window))
    demo.seeded.connect(lambda _report: _refresh_panels(window))
    sync = getattr(window, "sync_panel", None)
    if sync is not None:
        demo.seeding.connect(sync.shutdown)  # waits for a running sync, stops the watcher
        demo.seeded.connect(lambda _report: sync.start_watching())
        demo.failed.connect(lambda _text: sync.start_watching())
    QTimer.singleShot(0, demo.start)
    return demo


def _refresh_panels(window: Any) -> None:
    lazy = getattr(window, "_verifier", None)  # built on first show: then it loads by itself
    if lazy is None or getattr(lazy, "built", True):
        verifier = getattr(window, "verifier", None)
        if verifier is not None:
            verifier.reload()
    sync = getattr(window, "sync_panel", None)
    if sync is not None:
        sync.refresh()
