"""The README's backup and restore of a server on PostgreSQL (*A provincial server on
PostgreSQL*), done for real: `pg_dump -Fc` of a live server's database, `createdb` and
`pg_restore --no-owner --role=…` into a fresh database owned by an ordinary role, the data
folder's signing keys copied, and `main.py server --database …` started on the restored copy.

The device then sees exactly what it saw before, its token still works, a batch it sent before
the backup is still recognised as sent, a new push continues the pull sequence (no number given
twice), the next member number follows the last one, and cards old and new verify with the
keys the restored server serves.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests
from psycopg import sql
from server_util import DeviceClient, LiveServer, outcomes, record, workers
from sqlalchemy.engine import make_url
from sync_util import ROOT, free_port, wait_until_up

from cards.credential import verify_credential
from server.decisions import set_quota

# Only PostgreSQL: the procedure is PostgreSQL's (see pytest_generate_tests in conftest).
SERVER_ENGINES = ("postgresql",)
OPERATOR = {"username": "rina", "display_name": "Rina"}


def _decide(client: DeviceClient, record_id: str, action: str) -> dict:
    revision = client.registration(record_id)["revision"]
    answer = client.post(f"/registrations/{record_id}/{action}",
                         {"revision": revision, "operator": OPERATOR})
    assert answer.status_code == 200, answer.text
    return answer.json()["registration"]


def _run(pg_cluster, program: str, *args: str) -> None:
    """One of PostgreSQL's client programs from the cluster's bin folder, over its socket as
    the superuser (trust authentication: no password, whichever system user runs it)."""
    done = subprocess.run([str(pg_cluster.bin_dir / program), "-h", str(pg_cluster.socket_dir),
                           "-U", "postgres", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{program} failed: {done.stderr}"


def _trusted(api: str) -> dict:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    keys = requests.get(f"{api}/keys", timeout=10).json()["keys"]
    return {k["key_id"]: load_pem_public_key(k["public_key_pem"].encode()) for k in keys}


def _seqs(changes: list[dict]) -> list[int]:
    return [c["seq"] for c in changes]


class RestoredServer:
    """`python main.py server` on a restored database, as the operator starts it."""

    def __init__(self, data_dir: Path, database_url: str, log: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "main.py", "server", "--data-dir", str(data_dir), "--host",
                 "127.0.0.1", "--port", self.url.rsplit(":", 1)[1], "--database", database_url],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        try:
            wait_until_up(self.url, timeout=60)
        except TimeoutError:
            self.stop()
            raise AssertionError("the restored server did not start: "
                                 f"{self.log.read_text(errors='replace')}") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Setup:
    """A server's state before its backup, as its devices saw it."""

    device: DeviceClient
    verifier: DeviceClient
    desk: DeviceClient
    regs: list
    first_batch: list[dict]
    first_answer: dict
    funded: dict
    seen: list[dict]
    cursor: int
    desk_seen: list[dict]
    keys: dict


def _server_with_data(live: LiveServer) -> Setup:
    """A device pushes (one registration twice: a correction), a verifier funds one, the
    device and a card desk pull."""
    set_quota(live.store, date.today().year, "", 100)
    device = live.enrol("enumerator", "Laptop Pasar")
    regs = workers(4, seed=41)
    first_batch = [record(r, device.device_id) for r in regs]
    first_answer = device.push(first_batch, batch_id="batch-before-backup")
    assert outcomes(first_answer) == ["accepted"] * 4
    regs[0].version, regs[0].phone = 2, "081234567890"
    assert outcomes(device.push([record(regs[0], device.device_id, 1)])) == ["accepted"]
    verifier = live.enrol("verifier", "Meja verifikasi")
    _decide(verifier, regs[1].id, "verify")
    funded = _decide(verifier, regs[1].id, "fund")
    seen, cursor = device.pull_all()
    desk = live.enrol("card_desk", "Loket")
    desk_seen, _ = desk.pull_all()
    return Setup(device, verifier, desk, regs, first_batch, first_answer.json(), funded, seen,
                 cursor, desk_seen, _trusted(live.api))


def _dump(pg_cluster, live: LiveServer, path: Path) -> Path:
    """The nightly backup, taken while the server runs."""
    _run(pg_cluster, "pg_dump", "-Fc", "-d", make_url(live.store.url).database, "-f", str(path))
    assert path.read_bytes()[:5] == b"PGDMP"  # the custom format pg_restore reads
    return path


@contextlib.contextmanager
def _restored(pg_cluster, tmp_path: Path, dump: Path, *after_restore: str):
    """The README's restore: a fresh database owned by an ordinary role, `pg_restore
    --no-owner --role=…` into it, the data folder's keys copied, the statements in
    `after_restore` run, and `main.py server --database …` started on it. Yields its API."""
    suffix = tmp_path.name.replace("-", "_")[-20:].lower()
    role, restored = f"jamsos_{suffix}", f"restored_{suffix}"
    with pg_cluster.connect() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    server = None
    try:
        _run(pg_cluster, "createdb", "-O", role, restored)
        _run(pg_cluster, "pg_restore", "--no-owner", f"--role={role}", "--exit-on-error",
             "--single-transaction", "-d", restored, str(dump))
        with pg_cluster.connect(restored) as conn:
            for statement in after_restore:
                conn.execute(statement)
        new_dir = tmp_path / "server-restored"
        new_dir.mkdir(mode=0o700)
        shutil.copytree(tmp_path / "server" / "keys", new_dir / "keys")
        url = f"postgresql://{role}@/{restored}?host={pg_cluster.socket_dir}"
        server = RestoredServer(new_dir, url, tmp_path / "restored-server.log")
        server.wait()
        yield f"{server.url}/api/v1"
    finally:
        if server is not None:
            server.stop()
        with pg_cluster.connect() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(restored)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _next_number(member_number: str) -> str:
    return f"{member_number[:-6]}{int(member_number[-6:]) + 1:06d}"


def test_pg_dump_and_pg_restore_give_the_same_server(tmp_path, pg_cluster, server_engine):
    assert server_engine == "postgresql"
    live = LiveServer(tmp_path / "server").start()
    try:
        before = _server_with_data(live)
        dump = _dump(pg_cluster, live, tmp_path / "jamsos.dump")
    finally:
        live.stop()
    regs = before.regs
    with _restored(pg_cluster, tmp_path, dump) as api:
        # The same tokens work: the devices were restored with everything else.
        device = DeviceClient(api, before.device.enrolment)
        verifier = DeviceClient(api, before.verifier.enrolment)

        # ---- the device sees the same data ------------------------------------------------
        assert device.pull_all() == (before.seen, before.cursor)
        assert device.pull_all(before.cursor) == ([], before.cursor)
        assert _trusted(api) == before.keys  # the same public keys, no new signing key made
        replayed = device.push(before.first_batch, batch_id="batch-before-backup")
        # A retried batch is recognised and changes nothing: the same answer, marked replayed.
        assert replayed.json() == {**before.first_answer, "replayed": True}

        # ---- and new work continues the sequences ------------------------------------------
        fresh = workers(3, seed=42)
        assert outcomes(device.push([record(r, device.device_id) for r in fresh])) == [
            "accepted"] * 3
        _decide(verifier, regs[2].id, "verify")
        funded_after = _decide(verifier, regs[2].id, "fund")
        new_items, _ = device.pull_all(before.cursor)
        assert {c["id"] for c in new_items if c["kind"] == "registration"} == {
            r.id for r in fresh} | {regs[2].id}
        assert min(_seqs(new_items)) > max(_seqs(before.seen))
        everything, _ = device.pull_all()
        assert len(set(_seqs(everything))) == len(everything)  # no sequence number twice
        assert funded_after["member_number"] == _next_number(before.funded["member_number"])

        # ---- cards signed before and after the restore verify with the served keys --------
        desk_after, _ = DeviceClient(api, before.desk.enrolment).pull_all()
        cards = {c["id"]: c for c in desk_after if c["kind"] == "credential"}
        assert {c["id"]: c["qr"] for c in before.desk_seen if c["kind"] == "credential"} == {
            regs[1].id: cards[regs[1].id]["qr"]}
        trusted = _trusted(api)
        for record_id in (regs[1].id, regs[2].id):
            verdict = verify_credential(cards[record_id]["qr"], trusted, today=date.today())
            assert verdict.valid, (record_id, verdict)
        assert cards[regs[1].id]["key_id"] == cards[regs[2].id]["key_id"]


# The README's two statements after restoring a dump older than the lost database.
MOVE_PAST_THE_LOSS = (
    "SELECT setval('feed_seq_seq', (SELECT last_value FROM feed_seq_seq) + 10000000)",
    "UPDATE counters SET value = value + 10000 WHERE name LIKE 'member:%' "
    "OR name = 'card_serial'",
)


def test_an_older_dump_restored_and_moved_past_the_loss(tmp_path, pg_cluster, server_engine):
    """Work done after the dump is lost from the server, but the devices went on: their
    cursors are past the dump's numbers and a member number given since is on a card. After
    the README's two statements, a device still receives every change made after the restore,
    and no member number is given twice."""
    live = LiveServer(tmp_path / "server").start()
    try:
        before = _server_with_data(live)
        dump = _dump(pg_cluster, live, tmp_path / "jamsos.dump")
        # ---- the day goes on after the dump, then the database is lost --------------------
        lost = workers(5, seed=43)
        assert outcomes(before.device.push([record(r, before.device.device_id)
                                            for r in lost])) == ["accepted"] * 5
        _decide(before.verifier, before.regs[2].id, "verify")
        lost_number = _decide(before.verifier, before.regs[2].id, "fund")["member_number"]
        _, cursor_at_loss = before.device.pull_all()
        assert cursor_at_loss > before.cursor
    finally:
        live.stop()
    with _restored(pg_cluster, tmp_path, dump, *MOVE_PAST_THE_LOSS) as api:
        device = DeviceClient(api, before.device.enrolment)
        verifier = DeviceClient(api, before.verifier.enrolment)
        fresh = workers(1, seed=44)
        assert outcomes(device.push([record(r, device.device_id) for r in fresh])) == [
            "accepted"]
        _decide(verifier, before.regs[3].id, "verify")
        funded = _decide(verifier, before.regs[3].id, "fund")
        # The device pulls from where it was when the database was lost.
        changes, _ = device.pull_all(cursor_at_loss)
        assert {c["id"] for c in changes if c["kind"] == "registration"} == {
            fresh[0].id, before.regs[3].id}
        assert funded["member_number"] not in (lost_number, before.funded["member_number"])
