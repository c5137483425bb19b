"""Crash test: a child process saves in a loop and is killed with SIGKILL at random moments.

Every save the child reported (it prints after `save()` returned, i.e. after the commit) must be
there on reopen, the file must pass `PRAGMA integrity_check`, the audit chain must be intact and
the outbox must hold exactly one entry per saved version.
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

registry = Registry.open(sys.argv[1])
taken = {r[0] for r in registry.db.execute("SELECT nik FROM workers")}
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


def _run_and_kill(path: Path, seed: int, rng: random.Random) -> list[tuple[str, int]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(seed)],
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
    registry = Registry.open(path)
    try:
        db = registry.db
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
        assert current == registry.db["workers"].count
    finally:
        registry.close()


@pytest.mark.slow
def test_sigkill_loses_no_reported_save(tmp_path):
    path = tmp_path / "crash.sqlite3"
    Registry.open(path).close()
    rng = random.Random(20261124)
    all_reported = []
    for run in range(KILLS):
        reported = _run_and_kill(path, seed=run, rng=rng)
        all_reported += reported
        _check_after_crash(path, all_reported)
    assert len(all_reported) >= KILLS, "the child must have saved between the kills"
    assert any(version > 1 for _, version in all_reported), "corrections were exercised"
