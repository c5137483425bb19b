"""Crash test: a child process saves in a loop and is killed with SIGKILL at random moments.

Every save the child reported (it prints after `save()` returned, i.e. after the commit) must be
there on reopen, the file must pass `PRAGMA integrity_check`, the audit chain must be intact and
the outbox must hold exactly one entry per saved version. The database is the encrypted one
the app uses (SQLCipher, a raw 256-bit key); a second test kills the upgrade of a plain database
at random moments: the plain or the encrypted database is complete after every kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20

CHILD = r"""
import dataclasses, sys
from storage.demo import generate_workers
from storage.registry import Registry

registry = Registry.open(sys.argv[1], key=bytes.fromhex(sys.argv[3]))
taken = {r[0] for r in registry.db_for_tests.execute("SELECT nik FROM workers")}
print("ready", flush=True)
saved = []
for i, reg in enumerate(generate_workers(10**6, seed=int(sys.argv[2]), taken_niks=taken)):
    if saved and i % 4 == 3:  # every fourth save is a correction: a new version
        reg = dataclasses.replace(registry.get(saved[-1]), street=f"Jl. Koreksi No. {i}")
    result = registry.save(reg, operator="Uji", confirmed_warnings=["duplicate.similar"])
    if not result.saved:
        print("refused", result.validation.errors, file=sys.stderr, flush=True)
        continue
    stored = result.registration
    saved.append(stored.id)
    print(stored.id, stored.version, flush=True)
"""


KEY = bytes(range(32))


def _run_and_kill(path: Path, seed: int, rng: random.Random) -> list[tuple[str, int]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(seed), KEY.hex()],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline() == "ready\n", child.stderr.read()
        time.sleep(rng.uniform(0.05, 0.4))
    finally:
        os.kill(child.pid, signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert "refused" not in err and "Traceback" not in err, err
    reported = []
    for line in out.splitlines(keepends=True):
        if line.endswith("\n"):  # a line cut by the kill was not fully reported
            record_id, version = line.split()
            reported.append((record_id, int(version)))
    return reported


def _check_after_crash(path: Path, reported: list[tuple[str, int]]) -> None:
    registry = Registry.open(path, key=KEY)
    try:
        db = registry.db_for_tests
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        for record_id, version in reported:
            assert version in [r.version for r in registry.history(record_id)], record_id
            assert registry.get(record_id).version >= version
        assert registry.audit_chain_ok()
        versions = db["worker_versions"].count
        assert registry.outbox_count() == versions
        assert db["audit_log"].count == versions
        unmatched = db.execute(
            "SELECT count(*) FROM worker_versions v LEFT JOIN outbox o "
            "ON o.seq = v.seq WHERE o.seq IS NULL"
        ).fetchone()[0]
        assert unmatched == 0
        current = db.execute(
            "SELECT count(*) FROM workers w JOIN worker_versions v "
            "ON v.record_id = w.id AND v.version = w.version AND v.seq = w.seq"
        ).fetchone()[0]
        assert current == registry.db_for_tests["workers"].count
    finally:
        registry.close()


@pytest.mark.slow
def test_sigkill_loses_no_reported_save(tmp_path):
    path = tmp_path / "crash.sqlite3"
    Registry.open(path, key=KEY).close()
    assert not path.read_bytes().startswith(b"SQLite format 3")
    rng = random.Random(20261124)
    all_reported = []
    for run in range(KILLS):
        reported = _run_and_kill(path, seed=run, rng=rng)
        all_reported += reported
        _check_after_crash(path, all_reported)
    assert len(all_reported) >= KILLS, "the child must have saved between the kills"
    assert any(version > 1 for _, version in all_reported), "corrections were exercised"


UPGRADE_CHILD = r"""
import sys
from datetime import UTC, datetime
from storage.unlock import open_with_password

print("start", flush=True)
opened = open_with_password(sys.argv[1], "admin", "sandi-admin-1", datetime.now(UTC))
opened.registry.close()
print("done", flush=True)
"""


def _plain_template(folder: Path) -> int:
    from datetime import UTC, datetime

    from storage.demo import fill_demo_data

    registry = Registry.open(folder / "registry.sqlite3")
    try:
        fill_demo_data(registry, 3000, seed=5)
        registry.operators.add("admin", "Ibu Admin", "admin", "sandi-admin-1",
                               now=datetime.now(UTC))
        return registry.db_for_tests["workers"].count
    finally:
        registry.close()


def _complete_after_kill(folder: Path, workers: int) -> str:
    """Which database the folder holds after a kill; either one is complete."""
    from datetime import UTC, datetime

    from storage.db import is_plain_sqlite
    from storage.unlock import open_with_password
    from storage.vault import Vault

    state = Vault(folder).state()  # also finishes or forgets the interrupted upgrade
    if state == "plain":
        assert is_plain_sqlite(folder / "registry.sqlite3")
        registry = Registry.open(folder / "registry.sqlite3")
    else:
        assert state == "encrypted"
        registry = open_with_password(folder, "admin", "sandi-admin-1",
                                      datetime.now(UTC)).registry
    try:
        registry.check_integrity()
        assert registry.db_for_tests["workers"].count == workers
        assert registry.audit_chain_ok()
    finally:
        registry.close()
    return state


@pytest.mark.slow
def test_sigkill_during_the_upgrade_leaves_one_complete_database(tmp_path):
    import shutil

    template = tmp_path / "template"
    template.mkdir()
    workers = _plain_template(template)
    # How long an upgrade takes here, to spread the kills over it.
    timed = tmp_path / "timed"
    shutil.copytree(template, timed)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", UPGRADE_CHILD, str(timed)], cwd=ROOT, check=True,
                   capture_output=True)
    duration = time.perf_counter() - started
    seen = set()
    for run in range(10):
        folder = tmp_path / f"run{run}"
        shutil.copytree(template, folder)
        child = subprocess.Popen([sys.executable, "-c", UPGRADE_CHILD, str(folder)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline() == "start\n", child.stderr.read()
            time.sleep(duration * run / 9)  # from at once to after the end, evenly
        finally:
            os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
        seen.add(_complete_after_kill(folder, workers))
        # The next start finishes the job: encrypted, and no plain file left.
        assert _complete_after_kill(folder, workers) in ("plain", "encrypted")
        subprocess.run([sys.executable, "-c", UPGRADE_CHILD, str(folder)], cwd=ROOT,
                       check=True, capture_output=True)
        assert _complete_after_kill(folder, workers) == "encrypted"
        for path in folder.iterdir():
            assert not path.read_bytes().startswith(b"SQLite format 3"), path.name
    assert seen == {"plain", "encrypted"}  # kills before and after the commit point
