"""Moving a city's server to PostgreSQL: `main.py server migrate-db` (server/migrate_db.py) copies
a SQLite server that the real server wrote, verifies the copy, resumes after an interruption
without doubling anything, refuses a target holding other data, and the server then runs on the
copy with every device's token, cursor and NIK hashes still valid."""

from __future__ import annotations

import base64
import copy
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from server_util import DeviceClient, LiveServer, record, workers

from server import store as store_module
from server.auth import revoke_device
from server.database import sqlite_url
from server.migrate_db import MigrationRefused, migrate_database
from server.store import LEGACY_MIGRATIONS, Store, _alembic_config

# Engines. The subject is the move between the two: the source is always a SQLite server
# written by the real server (LiveServer on its data folder's server.db, the server's own
# default), the target always a new database of the session's PostgreSQL cluster, asked for
# here through `pg_cluster`. tests/conftest.py would run this module once per engine, and the
# [postgresql] run would only move PostgreSQL to PostgreSQL by replacing the source's default;
# so the module names the one engine its source runs on, and needs PostgreSQL all the same.
SERVER_ENGINES = ("sqlite",)

ROOT = Path(__file__).resolve().parent.parent
OPERATOR = {"username": "rina", "display_name": "Rina"}
KEGIATAN = {"id": "0193a1b2-0000-7000-8000-00000000b001", "name": "Kampung Bahagia Talang Banjar",
            "held_on": "2026-11-21", "kelurahan_code": "15.71.03.1001"}
NOT_DATA = {"alembic_version", LEGACY_MIGRATIONS, "sqlite_sequence"}


def _decide(client, record_id: str, action: str, **body) -> dict:
    body.setdefault("operator", OPERATOR)
    body.setdefault("revision", client.registration(record_id)["revision"])
    answer = client.post(f"/registrations/{record_id}/{action}", body)
    assert answer.status_code == 200, answer.text
    return answer.json()["registration"]


def _fill(live: LiveServer) -> dict:
    """A small city as the real server records it: registrations with later versions, a
    kegiatan, decisions, a card printed and handed over, a reprint (a revocation), a revoked
    device, an export to BPJS (the office audit), pulls."""
    field = live.enrol("enumerator")
    regs = workers(14, seed=71)
    for reg in regs[:5]:
        reg.event_id = KEGIATAN["id"]
    body = {"batch_id": "b-first", "device_id": field.device_id,
            "records": [record(r, field.device_id) for r in regs], "events": [KEGIATAN]}
    assert field.post("/sync/push", body).status_code == 200
    edited = copy.deepcopy(regs[6])
    edited.version, edited.notes = 2, "alamat dibetulkan"
    assert field.push([record(edited, field.device_id, base_version=1)]).status_code == 200
    verifier, desk = live.enrol("verifier"), live.enrol("card_desk")
    for reg in regs[:4]:
        _decide(verifier, reg.id, "verify")
        _decide(verifier, reg.id, "fund")
    _decide(verifier, regs[4].id, "reject", reason_code="not_resident",
            reason_text="Domisili di luar kota")
    for step, extra in (("printed", {}), ("handed-over", {"received_by": "Yang bersangkutan"})):
        answer = desk.post(f"/registrations/{regs[0].id}/card/{step}",
                           {"card_version": 1, "operator": OPERATOR, **extra})
        assert answer.status_code == 200, answer.text
    _decide(desk, regs[1].id, "card/reprint", reason_code="lost")
    exported = verifier.post("/office/bpjs-export", {"mode": "full", "operator": OPERATOR})
    assert exported.status_code == 200, exported.text
    revoke_device(live.store, live.enrol("enumerator", "Laptop hilang").device_id)
    changes, cursor = field.pull_all()
    return {"field": field, "verifier": verifier, "changes": changes, "cursor": cursor,
            "record_ids": [r.id for r in regs]}


@pytest.fixture(scope="module")
def city(tmp_path_factory, server_engine):
    data_dir = tmp_path_factory.mktemp("city") / "server"
    live = LiveServer(data_dir).start()
    try:
        facts = _fill(live)
    finally:
        live.stop()
    return data_dir, facts


@pytest.fixture
def target(pg_cluster):
    """A new, empty PostgreSQL database (as `createdb` makes it), dropped after the test."""
    name = f"move_{uuid.uuid4().hex[:10]}"
    with pg_cluster.connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield pg_cluster.url(name)
    with pg_cluster.connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _source(data_dir: Path) -> str:
    return sqlite_url(data_dir / "server.db")


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "server", "migrate-db", "--data-dir",
                           str(data_dir), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _content(url: str) -> dict[str, list[tuple]]:
    """Every data table's rows, sorted: read independently of server/migrate_db.py."""
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            names = [t for t in sqlalchemy.inspect(conn).get_table_names() if t not in NOT_DATA]
            return {t: sorted(tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {t}"))
                    for t in names}
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    return {t: len(rows) for t, rows in _content(url).items()}


@pytest.fixture
def on_target(monkeypatch):
    """Start the real server on a data folder with the target database (as `main.py server
    --database URL` would)."""
    started = []

    def start(data_dir: Path, url: str) -> LiveServer:
        monkeypatch.setattr(store_module, "default_database_url", lambda _: url)
        started.append(LiveServer(data_dir).start())
        return started[-1]

    yield start
    for live in started:
        live.stop()


def test_a_city_moves_whole_and_its_devices_carry_on(city, target, on_target):
    data_dir, facts = city
    done = _cli(data_dir, "--to", target)
    assert done.returncode == 0, done.stderr
    assert "Selesai dan diperiksa" in done.stdout and "SHA-256 versions" in done.stdout
    source = _content(_source(data_dir))
    assert _content(target) == source
    assert len(source["versions"]) == len(source["registrations"]) + 1  # one edit
    for table in ("cards", "revocations", "events", "kegiatan", "office_audit", "batches",
                  "pulls", "devices", "settings", "pushed"):
        assert source[table], table  # the city has every kind of row the move must carry
    live = on_target(data_dir, target)
    assert live.store.is_postgresql
    # The same devices (same tokens) at the server's new address.
    field, verifier = (DeviceClient(live.api, facts[who].enrolment)
                       for who in ("field", "verifier"))
    # The same token, the same changes under the same sequence numbers, the same NIK hashes
    # (the source's key came along).
    assert field.pull_all() == (facts["changes"], facts["cursor"])
    assert field.get("/sync/pull", params={"cursor": facts["cursor"]}).json()["changes"] == []
    (new,) = workers(1, seed=72)
    pushed = field.push([record(new, field.device_id)])
    assert pushed.json()["results"][0]["outcome"] == "accepted", pushed.text
    later, _ = field.pull_all(facts["cursor"])
    assert [c["id"] for c in later if c["kind"] == "registration"] == [new.id]
    # A NIK pushed after the move hashes under the city's key, as every device's copy does.
    key = base64.b64decode(dict(source["settings"])["nik_hash_key"])
    assert later[-1]["nik_hash"] == store_module.nik_hash(key, new.nik)
    assert min(c["seq"] for c in later) > facts["cursor"]  # the sequence continues above
    listed = verifier.get("/registrations", params={"limit": 100}).json()
    assert listed["total"] == len(facts["record_ids"]) + 1
    again = verifier.post("/office/bpjs-export", {"mode": "full", "operator": OPERATOR})
    assert again.status_code == 200, again.text
    audit = verifier.get("/office/audit").json()["entries"]
    assert len({e["id"] for e in audit}) == len(audit) == 2


def _interrupt_at(table: str, chunks: int):
    seen = []

    def hook(name: str, rows: int) -> None:
        if name == table:
            seen.append(rows)
            if len(seen) == chunks:
                raise KeyboardInterrupt

    return hook


def test_an_interrupted_copy_resumes_with_nothing_doubled(city, target):
    data_dir, _ = city
    source = _source(data_dir)
    # Stopped inside `pulls`, which has no key: its one transaction leaves none of it.
    with pytest.raises(KeyboardInterrupt):
        migrate_database(data_dir, source, target, chunk=3, say=lambda _: None,
                         after_chunk=_interrupt_at("pulls", 1))
    counts = _counts(target)
    assert counts["pulls"] == 0 and counts["registrations"] == 0
    assert counts["devices"] == _counts(source)["devices"]
    with pytest.raises(KeyboardInterrupt):
        migrate_database(data_dir, source, target, chunk=3, say=lambda _: None,
                         after_chunk=_interrupt_at("registrations", 2))
    counts = _counts(target)
    assert counts["registrations"] == 6  # two chunks of three committed, the rest not yet
    assert counts["pulls"] == _counts(source)["pulls"] and counts["versions"] == 0
    done = _cli(data_dir, "--to", target)
    assert done.returncode == 0, done.stderr
    assert "dilanjutkan" in done.stdout
    rest = _counts(source)["registrations"] - 6
    assert f"registrations: {rest} baris disalin (6 sudah ada)" in done.stdout
    assert _content(target) == _content(source)
    # A run on a complete copy finds everything there and writes nothing twice.
    assert _cli(data_dir, "--to", target).returncode == 0
    assert _content(target) == _content(source)


def test_a_target_with_another_servers_data_is_refused_untouched(city, target, on_target,
                                                                  tmp_path):
    data_dir, _ = city
    other = on_target(tmp_path / "other", target)
    device = other.enrol("enumerator")
    device.push([record(r, device.device_id) for r in workers(2, seed=73)])
    other.stop()
    before = _content(target)
    done = _cli(data_dir, "--to", target)
    assert done.returncode == 2
    assert done.stderr.startswith("Gagal: basis data tujuan sudah berisi data lain")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert _content(target) == before  # not a row written, the NIK hash key kept


def test_a_copy_that_differs_from_the_source_is_refused(city, target):
    data_dir, _ = city
    migrate_database(data_dir, _source(data_dir), target, say=lambda _: None)
    engine = sqlalchemy.create_engine(target.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE registrations SET full_name = full_name || ' (diubah)' "
                             "WHERE id = (SELECT MIN(id) FROM registrations)")
    engine.dispose()
    with pytest.raises(MigrationRefused, match="tabel registrations"):
        migrate_database(data_dir, _source(data_dir), target, say=lambda _: None)


@pytest.mark.parametrize("args", [
    ["--to", "postgresql://postgres@/jamsos?host=/nonexistent-socket-folder"],
    ["--to", "postgresql://jamsos:rahasia@127.0.0.1:1/jamsos"],
    ["--to", "mysql://jamsos@localhost/jamsos"],
    ["--to", "bukan-alamat"],
    ["--to", "postgresql://localhost:lima/jamsos"],
    ["--from", "sqlite:///tidak/ada/server.db", "--to", "postgresql://localhost/jamsos"],
    ["--to", "sqlite:///{data}/server.db"],
], ids=["no-server", "refused", "mysql", "garbage", "port", "no-source", "same"])
def test_an_unusable_address_is_one_line_and_exit_2(city, args):
    data_dir, _ = city
    done = _cli(data_dir, *(a.replace("{data}", str(data_dir)) for a in args))
    assert done.returncode == 2, done
    assert done.stderr.startswith("Gagal: ") and done.stderr.count("\n") == 1, done.stderr
    assert "rahasia" not in done.stderr  # a password is never shown
    assert done.stdout == ""


def test_an_older_sqlite_server_is_brought_up_to_date_then_copied(tmp_path, target):
    path = tmp_path / "server.db"
    engine = sqlalchemy.create_engine(sqlite_url(path))
    with engine.begin() as conn:  # a server.db of before Alembic, at its fifth migration
        command.upgrade(_alembic_config(conn), "0005_trust")
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql(f"CREATE TABLE {LEGACY_MIGRATIONS} (migration_set TEXT, "
                             "name TEXT, applied_at TEXT)")
        conn.exec_driver_sql(f"INSERT INTO {LEGACY_MIGRATIONS} VALUES "
                             "('jamsos_server', '0005_trust', '2026-06-01')")
        conn.exec_driver_sql("INSERT INTO devices VALUES ('d1', 'Laptop 1', 'enumerator', "
                             "'hash', '2026-06-01', NULL)")
    engine.dispose()
    said = []
    migrate_database(tmp_path, sqlite_url(path), target, say=said.append)
    assert said[0].startswith("Skema sumber revisi 0005_trust dimutakhirkan")
    assert _content(target)["devices"] == [("d1", "Laptop 1", "enumerator", "hash",
                                            "2026-06-01", None)]
    key = sqlite3.connect(path).execute(
        "SELECT value FROM settings WHERE name = 'nik_hash_key'").fetchone()
    assert _content(target)["settings"] == [("nik_hash_key", key[0])]


def test_the_copy_keeps_the_source_nik_hash_key(city, target):
    data_dir, _ = city
    migrate_database(data_dir, _source(data_dir), target, say=lambda _: None)
    moved, original = Store(data_dir, target), Store(data_dir, _source(data_dir))
    try:
        assert moved.nik_hash_key == original.nik_hash_key
        assert moved.nik_hash("1571010101900001") == original.nik_hash("1571010101900001")
    finally:
        moved.close()
        original.close()


def test_a_copy_to_another_sqlite_file_verifies_and_resumes(city, tmp_path):
    # The command is not tied to PostgreSQL: a SQLite target takes every row by INSERT and is
    # checked by key lookups on SQLite.
    data_dir, _ = city
    copy_url = sqlite_url(tmp_path / "salinan.db")
    with pytest.raises(KeyboardInterrupt):
        migrate_database(data_dir, _source(data_dir), copy_url, chunk=4, say=lambda _: None,
                         after_chunk=_interrupt_at("versions", 2))
    assert _counts(copy_url)["versions"] == 8
    done = migrate_database(data_dir, _source(data_dir), copy_url, chunk=4, say=lambda _: None)
    assert done.resumed and _content(copy_url) == _content(_source(data_dir))


def test_a_copy_cut_off_midway_is_one_line_and_exit_1(city, target, monkeypatch, capsys):
    import psycopg

    from cli import build_parser
    from server import migrate_db

    def cut(*_, **__):
        raise psycopg.OperationalError("server closed the connection unexpectedly\n\tThis "
                                       "probably means the server terminated abnormally")

    monkeypatch.setattr(migrate_db, "_copy", cut)
    data_dir, _ = city
    args = build_parser().parse_args(["server", "migrate-db", "--data-dir", str(data_dir),
                                      "--to", target])
    assert args.handler(args) == 1
    said = capsys.readouterr().err
    assert said.startswith("Terhenti: server closed the connection unexpectedly. Jalankan lagi")
    assert said.count("\n") == 1


def test_a_second_copy_into_the_same_database_waits_its_turn(city, target, pg_cluster):
    data_dir, _ = city
    name = sqlalchemy.engine.make_url(target).database
    with pg_cluster.connect(name) as other:  # another migrate-db, still running
        other.execute("SELECT pg_advisory_lock(hashtextextended('jamsos migrate-db', 0))")
        with pytest.raises(MigrationRefused, match="sedang berjalan"):
            migrate_database(data_dir, _source(data_dir), target, say=lambda _: None)
        assert _counts(target)["registrations"] == 0
    migrate_database(data_dir, _source(data_dir), target, say=lambda _: None)
    assert _content(target) == _content(_source(data_dir))
