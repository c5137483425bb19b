"""storage.paths.private_file on a database that is already open: it must not release the
locks this process's SQLite connections hold (closing any descriptor of a file drops every
POSIX lock the process holds on it)."""

import sqlite3
import stat
import subprocess
import sys

from storage.paths import private_file

TRY_WRITE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
try:
    conn.execute("BEGIN IMMEDIATE")
except sqlite3.OperationalError as error:
    print("locked" if "locked" in str(error) else error)
else:
    print("got the write lock")
"""


def other_process_can_write(path) -> str:
    done = subprocess.run([sys.executable, "-c", TRY_WRITE, str(path)], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_private_file_keeps_the_locks_of_an_open_database(tmp_path):
    path = tmp_path / "server.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("BEGIN IMMEDIATE")  # this process holds the write lock
    assert other_process_can_write(path) == "locked"
    private_file(path)
    assert other_process_can_write(path) == "locked"
    conn.execute("ROLLBACK")
    conn.close()


def test_private_file_creates_a_missing_file_owner_only_and_tightens_an_existing_one(tmp_path):
    fresh = private_file(tmp_path / "new.db")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    loose = tmp_path / "loose.db"
    loose.write_bytes(b"x")
    loose.chmod(0o644)
    private_file(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    assert loose.read_bytes() == b"x"
