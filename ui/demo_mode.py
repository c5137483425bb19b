"""Trying the whole system on one machine.

When the app starts with no server configured, it offers (once; "do not ask again" is kept) to
run the real central server in the background on this computer (loopback only, its data in
`server-lokal/` under the app's data directory), enrols this device with it as an admin device
(so that it may register, verify, fund and run the card desk), and offers demo data in every
status of a registration's life. The demo data is made the real way: registrations saved on the
device, pushed by sync, decided through the verifier's API, cards printed and handed over, and
everything pulled back. On the next start the local server is started again by itself.

The choice is kept in `demo.json` in the data directory. The steps that do the work
(`enrol_local`, `seed_demo`) are plain functions that run on the database worker's thread.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from server.local import LocalServer, LocalServerError, make_enrol_code, server_dir
from storage.demo import fill_demo_data
from storage.ids import new_id
from storage.models import Status
from sync import enrol as enrolment
from sync import verifier as api
from sync.client import SyncClient, SyncError
from sync.engine import run_sync
from sync.keys import trust_server_keys_of

CHOICE_FILE = "demo.json"
# Demo operator accounts, made with the demo data; the log-in dialog shows them in demo mode.
DEMO_PASSWORD = "contoh-jambi"
DEMO_OPERATORS = (
    ("contoh.admin", "Admin Contoh", "admin"),
    ("contoh.petugas", "Petugas Pendata Contoh", "petugas"),
    ("contoh.verifikator", "Verifikator Contoh", "verifikator"),
    ("contoh.kartu", "Petugas Kartu Contoh", "loket_kartu"),
)
DEMO_ROLE = "admin"  # roles are per device: the one demo device registers, decides and prints
DEMO_COUNT = 40
# Who the demo's decisions and card steps are recorded for (demo accounts above).
DEMO_OPERATOR = api.OperatorRef("contoh.verifikator", "Verifikator Contoh")
DEMO_CARD_OPERATOR = api.OperatorRef("contoh.kartu", "Petugas Kartu Contoh")
SECOND_DEVICE = "Laptop pendata contoh 2"
# How many demo registrations end in each status (the rest are funded and wait for their card).
PLAN = {"duplicate": 1, "received": 3, "verified": 3, "rejected": 4, "card_printed": 3,
        "card_handed_over": 3}
MIN_COUNT = sum(PLAN.values()) + 2
LATE_UNSENT = 3  # saved after the last sync: "registered", waiting on this device
REJECT_EXAMPLES = (
    ("not_resident", "Alamat KTP di luar Kota Jambi (contoh)."),
    ("wrong_data", "Nomor RT tidak sesuai KTP; mohon diperbaiki (contoh)."),
    ("documents_incomplete", ""),
    ("already_covered", "Sudah terdaftar sebagai peserta mandiri (contoh)."),
)

OFFER_TITLE = "Coba seluruh sistem di komputer ini?"
OFFER_TEXT = (
    "Perangkat ini belum terhubung ke server pusat.\n\n"
    "Untuk mencoba seluruh alur (mendaftar, sinkronisasi, verifikasi, pendanaan, cetak kartu, "
    "dan pemeriksaan kartu), aplikasi dapat menjalankan server pusat di komputer ini saja, di "
    "latar belakang. Server ini hanya dapat dihubungi dari komputer ini dan menyimpan datanya "
    "sendiri. Perangkat ini akan didaftarkan ke server tersebut sebagai perangkat admin.\n\n"
    "Jalankan server lokal sekarang?"
)
SEED_TITLE = "Isi data contoh?"
SEED_TEXT = (
    "Server lokal sudah berjalan dan perangkat ini sudah terdaftar.\n\n"
    f"Isi {DEMO_COUNT} pendaftaran contoh (fiktif) di setiap tahap: terdaftar, diterima server, "
    "terverifikasi, ditolak dengan alasan, kemungkinan duplikat, didanai dengan nomor peserta "
    "dan kartu bertanda tangan, kartu dicetak, dan kartu diserahkan?\n\n"
    "Semua dibuat lewat jalur yang sebenarnya: disimpan di perangkat, dikirim lewat "
    "sinkronisasi, lalu diputuskan di server."
)


# --- the remembered choice -------------------------------------------------------------------


@dataclass
class DemoChoice:
    declined: bool = False  # "do not ask again"
    local_server: bool = False  # this device uses the local server
    port: int = 0
    seeded: bool = False

    @classmethod
    def load(cls, data_dir: Path) -> DemoChoice:
        try:
            raw = json.loads((Path(data_dir) / CHOICE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {k: raw[k] for k in cls.__dataclass_fields__ if isinstance(raw, dict) and k in raw}
        return cls(**known)

    def save(self, data_dir: Path) -> None:
        path = Path(data_dir) / CHOICE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)  # never a half-written choice after a crash


# --- the work (no Qt; runs on the database worker's thread) ----------------------------------


def enrol_local(registry, url: str, code: str) -> enrolment.Enrolment:
    return enrolment.enrol(registry, url, code, "Komputer demo (server lokal)")


def use_url(registry, url: str) -> bool:
    """The local server came up again (perhaps on another port): follow it. Returns whether
    this device is still enrolled (a fresh database next to an old choice is not)."""
    if not enrolment.is_enrolled(registry):
        return False
    if registry.get_setting("server_url") != url:
        registry.set_setting("server_url", url)
    return True


def is_enrolled(registry) -> bool:
    return enrolment.is_enrolled(registry)


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False

    def summary(self) -> str:
        parts = [f"{n} {label}" for label, n in self.counts.items() if n]
        text = "Data contoh siap: " + ", ".join(parts) + "."
        return text + (" (Dihentikan sebelum selesai.)" if self.cancelled else "")


class _Stop(Exception):
    pass


def seed_demo(registry, server_data: Path | str, count: int = DEMO_COUNT, *, progress=None,
              cancel: threading.Event | None = None) -> SeedReport:
    """Demo registrations in every status, made through sync and the real API."""
    count = max(count, MIN_COUNT)
    total = count + LATE_UNSENT + 6
    step = progress or (lambda done, total: None)
    report = SeedReport()
    client = enrolment.client_for(registry)

    def check(done: int) -> None:
        step(min(done, total), total)
        if cancel is not None and cancel.is_set():
            raise _Stop

    try:
        create_demo_operators(registry, datetime.now(UTC))
        trust_server_keys_of(registry, client)
        made: list[str] = []  # only these are decided: never a row the demo did not make
        fill_demo_data(registry, count, seed=2026, made=made)
        ids = sorted(made)  # ids are time-ordered: oldest first
        check(count // 2)
        run_sync(registry, client)
        check(count)
        groups = _plan(ids)
        _decide_all(registry, client, server_data, groups, report, lambda n: check(count + n))
        run_sync(registry, client)  # decisions and signed cards back to this device
        _cards_out(registry, groups)
        report.counts[Status.CARD_PRINTED.value] = len(groups["card_printed"])
        report.counts[Status.CARD_HANDED_OVER.value] = len(groups["card_handed_over"])
        run_sync(registry, client)  # the card steps up, the statuses back
        fill_demo_data(registry, LATE_UNSENT, seed=2027)
        report.counts[Status.REGISTERED.value] = LATE_UNSENT
        check(total)
    except _Stop:
        report.cancelled = True
    finally:
        client.close()
    report.counts = {_label(k): v for k, v in report.counts.items()}
    return report


def create_demo_operators(registry, now: datetime) -> list[str]:
    """The demo's operator accounts (one per role, password DEMO_PASSWORD), unless they
    exist already. Returns the usernames made."""
    made = []
    for username, display_name, role in DEMO_OPERATORS:
        if registry.operators.get(username) is None:
            registry.operators.add(username, display_name, role, DEMO_PASSWORD, now=now,
                                   by="demo")
            made.append(username)
    return made


def demo_hint(reader, data_dir: Path | str | None) -> str:
    """The log-in dialog's hint in demo mode (this device uses the local demo server and its
    demo data was made): the demo accounts still active and their password. Else ""."""
    from storage.paths import data_dir as resolve
    from ui.labels import t

    choice = DemoChoice.load(resolve(data_dir))
    if not (choice.local_server and choice.seeded):
        return ""
    active = {o.username for o in reader.operators.list(include_inactive=False)}
    users = [username for username, _name, _role in DEMO_OPERATORS if username in active]
    if not users:
        return ""
    return t("login.demo_hint", users=", ".join(users), password=DEMO_PASSWORD)


def _label(status: str) -> str:
    from storage.models import STATUS_LABELS

    if status == "duplicate":
        return "kemungkinan duplikat"
    return STATUS_LABELS.get(status, status).lower()


def _plan(ids: list[str]) -> dict[str, list[str]]:
    """Which demo registration ends in which status."""
    groups: dict[str, list[str]] = {}
    rest = list(ids)
    for status, n in PLAN.items():
        groups[status], rest = rest[:n], rest[n:]
    groups["funded"] = rest
    return groups


def _decide_all(registry, client, server_data, groups: dict[str, list[str]],
                report: SeedReport, check) -> None:
    """The verifier's decisions through the API."""
    _push_twin(registry, server_data, groups["duplicate"])
    report.counts["duplicate"] = len(groups["duplicate"]) * 2
    report.counts[Status.RECEIVED.value] = len(groups["received"])
    check(1)
    for reg_id in groups["verified"]:
        _verify(client, reg_id)
    report.counts[Status.VERIFIED.value] = len(groups["verified"])
    for i, reg_id in enumerate(groups["rejected"]):
        code, text = REJECT_EXAMPLES[i % len(REJECT_EXAMPLES)]
        api.reject(client, reg_id, _revision(client, reg_id), code, reason_text=text,
                   operator=DEMO_OPERATOR)
    report.counts[Status.REJECTED.value] = len(groups["rejected"])
    check(2)
    funded = groups["funded"] + groups["card_printed"] + groups["card_handed_over"]
    for reg_id in funded:
        _fund(registry, client, reg_id)
    report.counts[Status.FUNDED.value] = len(groups["funded"])
    check(4)


def _revision(client, reg_id: str) -> int:
    return int(api.registration_detail(client, reg_id)["registration"]["revision"])


def _verify(client, reg_id: str) -> dict:
    return api.verify(client, reg_id, _revision(client, reg_id), operator=DEMO_OPERATOR,
                      note="Dokumen lengkap (contoh)")["registration"]


def _fund(registry, client, reg_id: str) -> None:
    """Verify and fund; the signed card the server issued comes down with the next pull."""
    row = _verify(client, reg_id)
    api.fund(client, reg_id, row["revision"], operator=DEMO_OPERATOR)


def _cards_out(registry, groups: dict) -> None:
    """Print and hand over cards as the card desk does; the next sync reports both steps to the
    server (sync/card_steps.py)."""
    from cards import desk

    operator = DEMO_CARD_OPERATOR
    out = groups["card_printed"] + groups["card_handed_over"]
    rows = {r.registration_id: r for r in desk.members_ready_to_print(registry)}
    desk.record_printed(registry, [(rows[i].serial, rows[i].version) for i in out if i in rows],
                        operator=operator)
    for reg_id in groups["card_handed_over"]:
        desk.mark_handed_over(registry, reg_id, received_by=registry.get(reg_id).full_name,
                              operator=operator)


def _push_twin(registry, server_data, ids: list[str]) -> None:
    """A second (demo) field laptop registers the same person again, with the name spelled a
    little differently: the server flags both as possible duplicates for the verifier."""
    if not ids:
        return
    url = registry.get_setting("server_url")
    code = make_enrol_code(server_data, "enumerator", SECOND_DEVICE)
    other = SyncClient(url)
    try:
        answer = other.enrol(code, SECOND_DEVICE)
        other.token = answer["token"]
        records = []
        for reg_id in ids:
            data = registry.get(reg_id).to_dict()
            data.update(id=new_id(), version=1, device_id=answer["device_id"],
                        full_name=data["full_name"].upper(), status=Status.REGISTERED.value,
                        operator="Petugas Pendata Contoh 2")
            records.append({"record_id": data["id"], "version": 1, "base_version": 0,
                            "data": data})
        other.push(str(uuid.uuid4()), answer["device_id"], records)
    finally:
        other.close()


# --- the window side -------------------------------------------------------------------------


class DemoMode(QObject):
    """Offers and runs the one-machine demo for a window. `start()` at start-up; `shutdown()`
    when the app closes (stops the local server)."""

    server_ready = Signal(str)  # URL of the local server, once this device is enrolled with it
    seeding = Signal()  # demo data is about to be made
    seeded = Signal(object)  # SeedReport
    failed = Signal(str)  # Indonesian message
    _started = Signal(object)  # LocalServer or LocalServerError, from the starting thread

    def __init__(self, window: QWidget, worker: Any, data_dir: Path | str,
                 count: int = DEMO_COUNT):
        super().__init__(window)
        self.window, self.worker = window, worker
        self.data_dir = Path(data_dir)
        self.count = count
        self.choice = DemoChoice.load(self.data_dir)
        self.server: LocalServer | None = None
        self.task = None
        self._fresh = False  # True when the user just accepted the offer
        self._started.connect(self._server_started)

    # dialogs (replaced in tests)
    def offer_box(self) -> tuple[QMessageBox, QCheckBox]:
        box = QMessageBox(QMessageBox.Icon.Question, OFFER_TITLE, OFFER_TEXT,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self.window)
        box.button(QMessageBox.StandardButton.Yes).setText("Ya, jalankan server lokal")
        box.button(QMessageBox.StandardButton.No).setText("Tidak sekarang")
        again = QCheckBox("Jangan tanyakan lagi", box)
        box.setCheckBox(again)
        return box, again

    def ask_offer(self) -> tuple[bool, bool]:
        """(run the local server?, do not ask again?)"""
        box, again = self.offer_box()
        accepted = box.exec() == QMessageBox.StandardButton.Yes
        return accepted, again.isChecked()

    def ask_seed(self) -> bool:
        answer = QMessageBox.question(self.window, SEED_TITLE, SEED_TEXT)
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
        self.tell("Menyalakan server lokal…")
        self.server = LocalServer(server_dir(self.data_dir), self.choice.port or None)
        server = self.server

        def run() -> None:
            try:
                server.start()
            except LocalServerError as exc:
                self._started.emit(exc)
            else:
                self._started.emit(server)

        threading.Thread(target=run, name="local-server-start", daemon=True).start()

    def _server_started(self, result: object) -> None:
        if isinstance(result, LocalServerError):
            self._fail(str(result))
            return
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
        self.worker.call(enrol_local, self.server.url, code, on_result=self._enrolled,
                         on_error=lambda exc: self._fail(_message(exc)))

    def _enrolled(self, _enrolment) -> None:
        self._ready()
        if not self.choice.seeded and self.ask_seed():
            self.seed()

    def _ready(self) -> None:
        self.tell(f"Server lokal berjalan di {self.server.url}.")
        self.server_ready.emit(self.server.url)

    def seed(self) -> None:
        from ui.long_task import LongTask

        self.seeding.emit()
        self.task = LongTask(self.window, self.worker, SEED_TITLE,
                             "Membuat data contoh lewat server lokal…", seed_demo,
                             self.server.data_dir, self.count)
        self.task.finished.connect(self._seeded)
        # The task has shown the error; say that the demo data stopped there.
        self.task.failed.connect(lambda exc: self.failed.emit(
            f"Data contoh tidak selesai dibuat: {_message(exc)}"))

    def _seeded(self, report: SeedReport | None) -> None:
        self.choice.seeded = True
        self.choice.save(self.data_dir)
        report = report or SeedReport(cancelled=True)
        self.tell(report.summary())
        self.seeded.emit(report)

    def _fail(self, text: str) -> None:
        self.tell(text)
        self.failed.emit(text)
        QMessageBox.warning(self.window, "Server lokal", text) if self._fresh else None

    def shutdown(self) -> None:
        if self.server is not None:
            self.server.stop()


def _message(exc: BaseException) -> str:
    if isinstance(exc, SyncError):
        return exc.message
    if type(exc).__name__ == "StorageError":
        return str(exc)  # storage errors carry their own Indonesian explanation
    return f"Pendaftaran ke server lokal gagal ({type(exc).__name__})."


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
