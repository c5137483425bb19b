"""The one-machine demo without a window: the remembered choice (`demo.json`), the local
central server (server/local.py), this device's enrolment with it, and demo data in every status
of a registration's life made the real way (saved here, pushed by sync, decided through the
verifier's API, cards printed and handed over, everything pulled back). Also the command line's
`demo-data` (fictitious workers, some funded with demo cards).

Qt-free: the window (ui/demo_mode.py) runs the database steps on its writer, and the waits on
the network (the enrolment's request, the demo data's syncs) off it, and shows the outcome."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ops import enrolment as enrol_ops
from server.local import LocalServer, LocalServerError, make_enrol_code, server_dir
from storage.demo import fill_demo_data
from storage.ids import new_id
from storage.models import Status
from sync import enrol as enrolment
from sync import verifier as api
from sync.client import SyncClient
from sync.engine import run_sync
from sync.keys import trust_server_keys_of

__all__ = ["LocalServer", "LocalServerError"]  # the window reaches the local server through here

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

# --- the local central server ----------------------------------------------------------------


def local_server(data_dir: Path | str, port: int | None = None) -> LocalServer:
    """The demo's central server for this app data directory (not started: `start()` waits
    until it answers, so the window calls it off the main thread)."""
    return LocalServer(server_dir(data_dir), port)


# --- the work (runs on the database worker's thread) -----------------------------------------


DEMO_DEVICE_NAME = "Komputer demo (server lokal)"


def plan_local(registry, url: str, code: str) -> enrol_ops.EnrolRequest:
    """The demo's enrolment, first step (then ops/enrolment.py `ask` and `keep`)."""
    return enrol_ops.plan(registry, url, code, DEMO_DEVICE_NAME)


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


def seed_demo_apart(db_path: Path | str, key: bytes | None, server_data: Path | str,
                    count: int = DEMO_COUNT, *, progress=None,
                    cancel: threading.Event | None = None) -> SeedReport:
    """`seed_demo` on a connection of its own (WAL lets it write beside the window's writer),
    so that the writer's thread stays free for saves while the demo waits on its syncs."""
    from storage.registry import Registry

    registry = Registry.open(db_path, key=key)
    try:
        return seed_demo(registry, server_data, count, progress=progress, cancel=cancel)
    finally:
        registry.close()


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
    from ops.cards import hand_over

    operator = DEMO_CARD_OPERATOR
    out = groups["card_printed"] + groups["card_handed_over"]
    rows = {r.registration_id: r for r in desk.members_ready_to_print(registry)}
    desk.record_printed(registry, [(rows[i].serial, rows[i].version) for i in out if i in rows],
                        operator=operator)
    for reg_id in groups["card_handed_over"]:
        hand_over(registry, reg_id, received_by=registry.get(reg_id).full_name,
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


def fill_and_fund(registry, count: int, *, seed: int, data_dir: Path,
                  progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """`main.py demo-data`: `count` fictitious workers, then demo cards (this device's demo key)
    for some of them. Only what this call made is funded, never an imported row.
    Returns (workers added, members funded)."""
    from cards.demo import fund_demo_members  # lazy: the window's demo does not need it

    made: list[str] = []
    done = fill_demo_data(registry, count, seed=seed, progress=progress, made=made)
    return done, fund_demo_members(registry, data_dir, seed=seed, ids=made)
