"""Opening the local SQLite database: durable settings, migrations with a backup first, and one
error type (`StorageError`, with an Indonesian message) for every way the file can fail.

With a `key` (32 bytes, from storage/vault.py) the file is a SQLCipher 4 database opened
through `sqlcipher3`; without one it is plain SQLite (tests of the SQL alone, benchmarks'
unencrypted baseline, and the plain database an upgrade starts from)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlcipher3
from sqlite_utils import Database

from storage.migrations import MIGRATIONS, migration_names

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 64 * 1024
WAL_AUTOCHECKPOINT_PAGES = 10_000

MESSAGES = {
    "locked": "Basis data sedang dipakai oleh program lain. Tutup program tersebut lalu coba lagi.",
    "corrupt": (
        "Berkas basis data rusak atau bukan basis data aplikasi ini. Jangan hapus berkas ini; "
        "hubungi petugas TI untuk memulihkannya dari cadangan."
    ),
    "disk_full": (
        "Ruang penyimpanan penuh. Data yang sudah tersimpan aman, tetapi perubahan terakhir "
        "belum tersimpan. Kosongkan ruang disk lalu simpan lagi."
    ),
    "newer_version": (
        "Basis data ini dibuat oleh versi aplikasi yang lebih baru. Perbarui aplikasi ini; "
        "basis data tidak diubah."
    ),
    "read_only": "Basis data tidak dapat ditulis (hanya-baca). Periksa izin berkas atau folder.",
    "cannot_open": "Berkas basis data tidak dapat dibuka. Periksa folder data dan izinnya.",
    "not_migrated": "Basis data belum diperbarui. Buka aplikasi utama terlebih dahulu.",
    "stale": (
        "Data ini sudah diubah di tempat lain sejak Anda membukanya. Buka kembali data tersebut "
        "lalu ulangi perbaikan."
    ),
    "io": "Terjadi kesalahan saat membaca atau menulis basis data. Data yang sudah tersimpan aman.",
    "key_mismatch": (
        "Basis data tidak cocok dengan berkas kunci (registry.key) atau rusak. Tidak ada yang "
        "diubah; jangan hapus kedua berkas itu dan hubungi petugas TI."
    ),
    "encrypted": "Basis data terkunci. Masuk dengan akun petugas atau kunci pemulihan.",
}

# Both drivers raise their own exception classes with the same names and error codes.
DB_ERRORS = (sqlite3.Error, sqlcipher3.dbapi2.Error)
PLAIN_HEADER = b"SQLite format 3\x00"


def is_plain_sqlite(path: Path) -> bool:
    """Whether the file starts like an unencrypted SQLite database (a SQLCipher file starts with
    its random salt)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == PLAIN_HEADER
    except OSError:
        return False

# Primary SQLite result codes (the low byte of an extended code).
_CODES = {
    5: "locked",  # SQLITE_BUSY
    6: "locked",  # SQLITE_LOCKED
    8: "read_only",  # SQLITE_READONLY
    10: "io",  # SQLITE_IOERR
    11: "corrupt",  # SQLITE_CORRUPT
    13: "disk_full",  # SQLITE_FULL
    14: "cannot_open",  # SQLITE_CANTOPEN
    26: "corrupt",  # SQLITE_NOTADB
}


class StorageError(Exception):
    """A database failure the operator can act on. `code` is stable; str() is Indonesian."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.message = MESSAGES.get(code, MESSAGES["io"])
        self.detail = detail  # the technical cause, for logs; never contains personal data
        super().__init__(self.message)


def translate(exc: Exception) -> StorageError:
    """The StorageError for a sqlite3 exception."""
    errorcode = getattr(exc, "sqlite_errorcode", None)
    code = _CODES.get(errorcode & 0xFF) if errorcode is not None else None
    if code is None:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            code = "locked"
        elif "not a database" in text or "malformed" in text:
            code = "corrupt"
        elif "full" in text:
            code = "disk_full"
        else:
            code = "io"
    return StorageError(code, f"{type(exc).__name__}: {exc}")


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Turn sqlite3 errors raised inside the block into StorageError."""
    try:
        yield
    except DB_ERRORS as exc:
        raise translate(exc) from exc
    except UnicodeDecodeError as exc:
        # Text that is not UTF-8 can only come from damaged pages: SQLite stores what we wrote.
        raise StorageError("corrupt", f"undecodable text: {exc.reason}") from exc


def raw_connect(path: str | Path, key: bytes | None, *, timeout: float = 5.0,
                check_same_thread: bool = True):
    """A DB-API connection: SQLCipher keyed with `key` (checked by reading the schema, so a
    wrong key fails here), or plain sqlite3 without one."""
    if key is None:
        return sqlite3.connect(str(path), timeout=timeout, check_same_thread=check_same_thread)
    from storage.crypto import sqlcipher_key

    conn = sqlcipher3.connect(str(path), timeout=timeout, check_same_thread=check_same_thread)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # its own stderr lines say nothing more
        conn.execute(f"PRAGMA key = {sqlcipher_key(key)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def connect(path: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
            readonly: bool = False, key: bytes | None = None) -> Database:
    """A Database with the durability pragmas; no migrations. Usable from another thread than the
    one that opened it (the window's writer thread owns it). `key`: see the module's text."""
    with storage_errors():
        conn = raw_connect(path, key, timeout=busy_timeout_ms / 1000, check_same_thread=False)
        db = Database(conn)
        # A lost power must not lose a committed save: WAL with a sync on every commit.
        if not readonly:
            db.execute("PRAGMA journal_mode = WAL")
            # Copying the WAL back into the file (a checkpoint, with its own fsync) is left to
            # idle moments (Registry.checkpoint) rather than to the save an operator waits on;
            # SQLite still does it by itself once the WAL holds this many pages (~40 MB).
            db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        db.execute("PRAGMA synchronous = FULL")
        # 64 MiB of page cache: the indexes a save touches stay in memory at 228,000 workers.
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if readonly:
            db.execute("PRAGMA query_only = ON")
    return db


def applied_migrations(db: Database) -> list[str]:
    return [m.name for m in MIGRATIONS.applied(db)]


def _inspect(path: Path, busy_timeout_ms: int, key: bytes | None = None) -> list[str]:
    """Applied migration names of an existing file, read without changing it."""
    with storage_errors():
        conn = raw_connect(path, key, timeout=busy_timeout_ms / 1000)
        try:
            # Reading the schema is what reveals "file is not a database".
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return applied_migrations(Database(conn))
        finally:
            conn.close()


def backup(db: Database, target: Path, key: bytes | None = None) -> Path:
    """A consistent copy of `db` at `target` (SQLite online backup API), encrypted with the same
    `key` as the database (readable by its owner only)."""
    from storage.paths import private_file

    with storage_errors():
        dest = raw_connect(target, key)
        try:
            private_file(target)
            db.conn.backup(dest)
        finally:
            dest.close()
    return target


def backup_path(path: Path, version: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return path.with_name(f"{path.stem}.backup-v{version:04d}-{stamp}{path.suffix}")


def open_database(path: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                  stop_before: str | None = None, key: bytes | None = None) -> Database:
    """Open (creating if needed) and migrate the registry database.

    A database written by a newer version of the app is refused and left untouched. Before
    pending migrations touch an existing database, a backup copy is made next to it.
    `stop_before` exists for tests that build databases at earlier schema versions.
    """
    path = Path(path)
    known = migration_names()
    existing = path.exists() and path.stat().st_size > 0
    if existing and key is not None and is_plain_sqlite(path):
        raise StorageError("key_mismatch", "a plain database where an encrypted one was expected")
    if existing and key is None and not is_plain_sqlite(path) and path.with_suffix(".key").exists():
        raise StorageError("encrypted", "an encrypted database opened without its key")
    applied = _inspect(path, busy_timeout_ms, key) if existing else []
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise StorageError("newer_version", f"unknown migrations: {', '.join(unknown)}")
    if not existing and key is not None:
        from storage.paths import private_file

        private_file(path)
    db = connect(path, busy_timeout_ms=busy_timeout_ms, key=key)
    try:
        with storage_errors():
            pending = [m.name for m in MIGRATIONS.pending(db)]
            if stop_before in pending:
                pending = pending[: pending.index(stop_before)]
            if existing and pending and db.table_names():
                target = backup(db, backup_path(path, len(applied)), key)
                log.info("backup before migration: %s", target.name)
            MIGRATIONS.apply(db, stop_before=stop_before)
    except BaseException:
        db.close()
        raise
    return db


def check_integrity(db: Database) -> None:
    """Raise StorageError("corrupt") unless `PRAGMA integrity_check` says ok."""
    with storage_errors():
        rows = db.execute("PRAGMA integrity_check").fetchall()
    if [r[0] for r in rows] != ["ok"]:
        raise StorageError("corrupt", "; ".join(str(r[0]) for r in rows[:5]))
