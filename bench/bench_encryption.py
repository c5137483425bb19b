"""The encrypted device database against the same database unencrypted, in the same run.

The demo database of bench_storage (built once, cached) is exported to a SQLCipher copy with
a random key, exactly as the upgrade of a plain database does it (`sqlcipher_export`). Both are
opened as the app opens them (plain: `Registry.open(path)`; encrypted: the same with `key=`) and
measured alternately, operation by operation, so drift on a noisy machine hits both alike:
a save (validation, duplicate checks, every table, one durable commit), the exact NIK lookup,
the name search (first 100 rows), the list's first page. Then the unlock (scrypt, unwrap, open)
from a key file, and app start to a shown, unlocked window (a fresh process each time, offscreen
Qt). Growth: the encrypted save and name search at two sizes.

Goals (issue 11): every encrypted figure within 1.5× of the unencrypted one; unlock under
0.5 s; save and name search p95 at the top size at most 1.2× those at 10,000 workers.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_storage import AS_OF, SEARCHES, _cached_database
from bench.util import ms, percentile, table
from storage.demo import generate_workers
from storage.registry import RegistrationFilter, Registry

FULL_SIZE = 228_000
QUICK_SIZE = 5_000
GROWTH = (10_000, 1_000_000)
QUICK_GROWTH = (2_000, 10_000)
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "sandi-bench-jambi"


def _encrypted_copy(plain: Path, target: Path, key: bytes) -> float:
    """`plain` exported to `target` encrypted with `key` (as storage/upgrade.py does)."""
    from storage.upgrade import _export

    started = time.perf_counter()
    _export(plain, target, key)
    return time.perf_counter() - started


def _alternate(pairs: list, fn_plain, fn_encrypted, warm_up: int = 10) -> tuple[list, list]:
    plain, encrypted = _interleave(pairs, [fn_plain, fn_encrypted], warm_up)
    return plain, encrypted


def _interleave(args: list, fns: list, warm_up: int = 10) -> list[list]:
    """Each of `fns` timed on each of `args`, one after another, the order turning every round:
    drift on a noisy machine (other processes, the disk's own writes) hits them all alike."""
    out = [[] for _ in fns]
    for i, arg in enumerate(args):
        order = list(range(len(fns)))
        shift = i % len(fns)
        for k in order[shift:] + order[:shift]:
            started = time.perf_counter()
            fns[k](*arg)
            if i >= warm_up:
                out[k].append(time.perf_counter() - started)
    return out


def _registries(size: int, work: Path) -> tuple[Registry, Registry, bytes, float]:
    cached, _built = _cached_database(size)
    (work / "plain").mkdir()
    (work / "encrypted").mkdir()
    plain_path = work / "plain" / "registry.sqlite3"
    shutil.copy(cached, plain_path)
    key = os.urandom(32)
    exported = _encrypted_copy(cached, work / "encrypted" / "registry.sqlite3", key)
    # The copies' pages still on their way to the disk would slow the measured saves' syncs
    # (gigabytes at 1,000,000 workers): let them land first.
    os.sync()
    return (Registry.open(plain_path), Registry.open(work / "encrypted" / "registry.sqlite3",
                                                     key=key), key, exported)


def _saves(plain: Registry, encrypted: Registry, n: int, seed: int) -> tuple[list, list]:
    taken = {r[0] for r in plain.db_for_tests.execute("SELECT nik FROM workers")}
    fresh = generate_workers(2 * (n + 10), seed=seed, as_of=AS_OF, taken_niks=taken)
    pairs = [(next(fresh), next(fresh)) for _ in range(n + 10)]

    def save(registry, reg):
        assert registry.save(reg, operator="Bench", confirmed_warnings=["duplicate.similar"],
                             as_of=AS_OF).saved

    return _alternate([(a, b) for a, b in pairs], lambda a, _b: save(plain, a),
                      lambda _a, b: save(encrypted, b))


def _reads(plain: Registry, encrypted: Registry) -> dict[str, tuple[list, list]]:
    rng = random.Random(3)
    niks = [r[0] for r in plain.db_for_tests.execute(
        "SELECT nik FROM workers ORDER BY random() LIMIT 210")]
    names = [(RegistrationFilter(text=rng.choice(SEARCHES)),) for _ in range(210)]
    first = [(RegistrationFilter(),) for _ in range(110)]
    return {
        "nik": _alternate([(n,) for n in niks], plain.exact_nik, encrypted.exact_nik),
        "name": _alternate(names, lambda f: plain.query(f, limit=100),
                           lambda f: encrypted.query(f, limit=100)),
        "first": _alternate(first, lambda f: plain.query(f, limit=100),
                            lambda f: encrypted.query(f, limit=100)),
    }


def _key_folder(plain_db: Path, key_holder: Path) -> Path:
    """A data folder with the encrypted database, a key file wrapping its key for an admin
    account, and that account in the database: what a device holds."""
    from storage.vault import Vault

    folder = key_holder
    folder.mkdir()
    vault = Vault(folder)
    key, _recovery = vault.pending().create("admin.bench", PASSWORD)
    _encrypted_copy(plain_db, folder / "registry.sqlite3", key)
    registry = Registry.open(folder / "registry.sqlite3", key=key)
    registry.operators.add("admin.bench", "Admin Bench", "admin", PASSWORD,
                           now=datetime.now(UTC))
    registry.close()
    vault.activate()
    return folder


def _plain_account(plain_db: Path) -> None:
    """The same admin account in the plain database, for its log-in at start."""
    registry = Registry.open(plain_db)
    registry.operators.add("admin.bench", "Admin Bench", "admin", PASSWORD,
                           now=datetime.now(UTC))
    registry.close()


def _unlock_times(folder: Path, rounds: int = 5) -> tuple[list, list]:
    from storage.vault import Vault, open_registry

    derive, opening = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        outcome = Vault(folder).unlock("admin.bench", PASSWORD, datetime.now(UTC))
        derive.append(time.perf_counter() - started)
        started = time.perf_counter()
        open_registry(Vault(folder), outcome.key).close()
        opening.append(time.perf_counter() - started)
    return derive, opening


START_SCRIPT = r"""
import sys, time
from pathlib import Path
folder, mode = Path(sys.argv[1]), sys.argv[2]
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from ui.app import build_window
from ui.db_worker import DbWorker
if mode == "encrypted":
    from datetime import UTC, datetime
    from storage.unlock import open_with_password
    opened = open_with_password(folder, "admin.bench", sys.argv[3], datetime.now(UTC))
    worker = DbWorker.for_registry(opened.registry)
    operator = opened.operator
else:  # the plain database as the app opened it before: the log-in checks a scrypt hash
    from datetime import UTC, datetime
    from storage.registry import Registry
    registry = Registry.open(folder / "registry.sqlite3")
    operator = registry.operators.log_in("admin.bench", sys.argv[3], datetime.now(UTC)).operator
    assert operator is not None
    worker = DbWorker.for_registry(registry)
worker.start()
window = build_window(worker, operator)
window.show()
for _ in range(5):
    app.processEvents()
print("shown", flush=True)
worker.shutdown()
"""


def _start_times(plain_folder: Path, key_folder: Path, rounds: int = 3) -> tuple[list, list]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")

    def once(folder: Path, mode: str) -> float:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", START_SCRIPT, str(folder), mode, PASSWORD],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert "shown" in out.stdout, out.stderr[-2000:]
        return time.perf_counter() - started

    plain, encrypted = [], []
    for _ in range(rounds):
        plain.append(once(plain_folder, "plain"))
        encrypted.append(once(key_folder, "encrypted"))
    return plain, encrypted


def _growth(sizes: tuple[int, int], n_saves: int) -> list[list[str]]:
    """Save and name search at both sizes, plain and encrypted, the four databases open at once
    and measured in turn, operation by operation (`_interleave`), so that load on the machine
    cannot make one size look slower than the other."""
    small, big = sizes
    works = [Path(tempfile.mkdtemp(prefix="jamsos-bench-enc-growth-")) for _ in sizes]
    registries: list[Registry] = []
    try:
        for size, work in zip(sizes, works, strict=True):
            plain, encrypted, _key, _ = _registries(size, work)
            registries += [encrypted, plain]
        # Order: small encrypted, small plain, big encrypted, big plain.
        taken = set()
        for registry in registries[::2]:
            taken |= {r[0] for r in registry.db_for_tests.execute("SELECT nik FROM workers")}
        fresh = generate_workers(4 * (n_saves + 10), seed=7, as_of=AS_OF, taken_niks=taken)
        rounds = [tuple(next(fresh) for _ in registries) for _ in range(n_saves + 10)]

        def saver(k: int):
            def save(*regs):
                assert registries[k].save(regs[k], operator="Bench", as_of=AS_OF,
                                          confirmed_warnings=["duplicate.similar"]).saved
            return save

        saves = _interleave(rounds, [saver(k) for k in range(len(registries))])
        rng = random.Random(3)
        names = [(RegistrationFilter(text=rng.choice(SEARCHES)),) for _ in range(210)]
        searches = _interleave(names, [lambda f, r=r: r.query(f, limit=100) for r in registries])
        # At the small size some searches find fewer than 100 rows: compare those that fill
        # the page at both sizes too, so the same work is compared.
        full = sorted(t for t in set(SEARCHES) if len(registries[0].query(
            RegistrationFilter(text=t), limit=100)) == 100)
        kept = [j for j, (flt,) in enumerate(names[10:]) if flt.text in full]
        searches_full = [[x[j] for j in kept] for x in searches]
    finally:
        for registry in registries:
            registry.close()
        for work in works:
            shutil.rmtree(work, ignore_errors=True)
    p95 = ([percentile(x, 95) for x in saves], [percentile(x, 95) for x in searches],
           [percentile(x, 95) for x in searches_full])
    rows = []
    words = ", ".join(f"“{t}”" for t in full)
    for label, of, k in (("save p95, encrypted", p95[0], 0),
                         ("name search p95, encrypted", p95[1], 0),
                         (f"name search p95, encrypted, searches that fill the page of 100 at "
                          f"both sizes ({words})", p95[2], 0)):
        ratio = of[k + 2] / of[k]
        rows.append([f"{label}: {small:,} → {big:,} workers", ms(of[k + 2]),
                     f"at {small:,}: {ms(of[k])}", "≤ 1.2×",
                     f"{'yes' if ratio <= 1.2 else '**no**'} ({ratio:.2f}×)"])
    for label, of, k in (("save p95, unencrypted", p95[0], 1),
                         ("name search p95, unencrypted", p95[1], 1),
                         ("name search p95, unencrypted, the same full pages", p95[2], 1)):
        ratio = of[k + 2] / of[k]
        rows.append([f"{label}: {small:,} → {big:,} workers (for comparison)", ms(of[k + 2]),
                     f"at {small:,}: {ms(of[k])}", "", f"({ratio:.2f}×)"])
    return rows


def run_sizes(size: int, growth: tuple[int, int], n_saves: int = 200) -> str:
    work = Path(tempfile.mkdtemp(prefix="jamsos-bench-enc-"))
    try:
        plain, encrypted, _key, exported = _registries(size, work)
        plain_saves, enc_saves = _saves(plain, encrypted, n_saves, seed=5)
        reads = _reads(plain, encrypted)
        plain.close()
        encrypted.close()
        key_folder = _key_folder(work / "plain" / "registry.sqlite3", work / "device")
        _plain_account(work / "plain" / "registry.sqlite3")
        derive, opening = _unlock_times(key_folder)
        start_plain, start_enc = _start_times(work / "plain", key_folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def compare(label: str, a: list, b: list, pct: float = 95) -> list[str]:
        pa, pb = percentile(a, pct), percentile(b, pct)
        ratio = pb / pa
        return [label, ms(pb), ms(pa), "≤ 1.5×", f"{'yes' if ratio <= 1.5 else '**no**'} "
                f"({ratio:.2f}×)"]

    unlock = [d + o for d, o in zip(derive, opening, strict=True)]
    rows = [
        compare("save, end to end (p95)", plain_saves, enc_saves),
        compare("exact NIK lookup (p95)", *reads["nik"]),
        compare("name search, first 100 rows (p95)", *reads["name"]),
        compare("list, first page of 100 (p95)", *reads["first"]),
        compare("app start to a shown, unlocked window (median of 3 fresh processes)",
                start_plain, start_enc, pct=50),
        ["unlock: scrypt + unwrap from the key file (median)", ms(statistics.median(derive)),
         "", "", ""],
        ["unlock: open the encrypted database (median)", ms(statistics.median(opening)), "",
         "", ""],
        ["unlock, whole (worst of 5)", ms(max(unlock)), "", "< 500 ms",
         "yes" if max(unlock) < 0.5 else "**no**"],
        ["encrypting a copy of the plain database (upgrade's export)", f"{exported:.1f} s", "",
         "", ""],
    ]
    rows += _growth(growth, n_saves)
    note = (f"{size:,} workers; {n_saves} saves and about 200 of each read, alternating between "
            "the plain and the encrypted database (same content, same process); the app start "
            "includes the log-in in both (the plain one checks the account's scrypt hash, n=2^14; "
            "the encrypted one derives the key-encryption key, n=2^15, and opens the database "
            "with it). Growth: fresh databases of "
            f"{growth[0]:,} and {growth[1]:,} workers, plain and encrypted, open at once and "
            "measured in turn, operation by operation.")
    return table(f"Encrypted device database ({size:,} workers)",
                 ["measure", "encrypted", "unencrypted (same run)", "goal", "met?"], rows, note)


def run(quick: bool) -> str:
    if quick:
        return run_sizes(QUICK_SIZE, QUICK_GROWTH, n_saves=50)
    return run_sizes(FULL_SIZE, GROWTH)


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else QUICK_SIZE
    growth = tuple(json.loads(sys.argv[2])) if len(sys.argv) > 2 else QUICK_GROWTH
    print(run_sizes(size, growth))
