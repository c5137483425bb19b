"""A throwaway PostgreSQL cluster for the tests, made from the system's own PostgreSQL binaries.

`Cluster.start()` runs `initdb` (trust authentication, no password) and `pg_ctl start` in a
private temporary folder. The server listens on a Unix socket in that folder only (no TCP port
at all), with durability switched off (fsync, synchronous_commit, full_page_writes): the cluster
lives for one test session and is thrown away with its folder by `stop()`.

`initdb` and `pg_ctl` refuse to run as root; as root the folder is handed to the `postgres`
user (the system package makes it) and both run through `runuser -u postgres --`.

Each server data folder gets a database of its own (`url_for(data_dir)`), copied from a template
migrated once per session, so a fresh database costs a file copy rather than a migration, and a
test that reopens the server on the same folder (a restart) reaches the same database again.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

BIN_GLOB = "/usr/lib/postgresql/*/bin"
# The environment variable that names another bin folder (a PostgreSQL built or installed
# elsewhere, e.g. on a machine without the Debian layout).
BIN_ENV = "JAMSOS_TEST_PG_BIN"
TEMPLATE = "jamsos_template"
SUPERUSER = "postgres"
INSTALL_HINT = ("PostgreSQL's server binaries (initdb, pg_ctl) were not found under "
                f"{BIN_GLOB}: run `make sysdeps` as root or `sudo apt-get install postgresql` "
                f"(or set {BIN_ENV} to the folder holding initdb and pg_ctl).")

# Settings of a cluster that is thrown away after the session: nothing needs to survive a crash.
SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "'32MB'",
    "log_min_messages": "warning",
}


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine; the message says how to install them."""


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", bin_dir.parent.name)) or (0,)


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: $JAMSOS_TEST_PG_BIN, else the newest
    /usr/lib/postgresql/<version>/bin, else the folder of an initdb on PATH."""
    if os.environ.get(BIN_ENV):
        candidates = [Path(os.environ[BIN_ENV])]
    else:
        candidates = sorted((Path(p) for p in glob.glob(BIN_GLOB)), key=_version_key,
                            reverse=True)
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresMissing(INSTALL_HINT)


class Cluster:
    """One PostgreSQL cluster in a temporary folder, and the databases the tests made in it."""

    def __init__(self, bin_dir: Path | None = None):
        self.bin_dir = bin_dir or find_bin_dir()
        self.root: Path | None = None
        self.running = False
        self._watcher: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._by_dir: dict[Path, str] = {}
        self._made: list[tuple[int, Path, str]] = []  # (serial, data dir, database), in order
        self._serial = 0
        self._template_ready = False

    # ---- life cycle ----------------------------------------------------------------------
    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root / "socket"

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        return ["runuser", "-u", SUPERUSER, "--", *command] if self.as_root else command

    def _run(self, *args: str) -> None:
        command = self._command(*args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}")

    def start(self, settings: dict[str, str] | None = None) -> Cluster:
        """Make and start the cluster; `settings` override SETTINGS (a benchmark's durable
        ones, for example)."""
        # A short path under the system's temporary folder: a Unix socket's path is limited to
        # about 100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="jamsos-pg-"))
        self.socket_dir.mkdir()
        if self.as_root:
            shutil.chown(self.root, SUPERUSER, SUPERUSER)
            shutil.chown(self.socket_dir, SUPERUSER, SUPERUSER)
        atexit.register(self.stop)  # a backstop for an interrupted session
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")
        settings = {**SETTINGS, **(settings or {}),
                    "unix_socket_directories": f"'{self.socket_dir}'"}
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# Throwaway test cluster (tests/pg_cluster.py)\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "start")
        self.running = True
        self._watch()
        return self

    def _watch(self) -> None:
        """pg_ctl leaves the server running on its own: should this process be killed before
        `stop()` (SIGKILL, a lost CI runner), a small watcher in its own session stops the
        server and removes the folder once this process is gone."""
        stop = shlex.join(self._command("pg_ctl", "-D", str(self.root / "data"), "-m",
                                        "immediate", "stop"))
        script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
                  f"{stop} >/dev/null 2>&1; rm -rf {shlex.quote(str(self.root))}")
        self._watcher = subprocess.Popen(["sh", "-c", script], start_new_session=True,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        """Stop the server at once (nothing in it needs to be kept) and remove its folder."""
        if self.root is None:
            return
        if self._watcher is not None:
            self._watcher.kill()  # this process stops the server itself
            self._watcher.wait()
            self._watcher = None
        if self.running:
            self.running = False
            with contextlib.suppress(Exception):
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w",
                          "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    # ---- connections and databases -------------------------------------------------------
    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database` (psycopg 3, over the Unix socket, no password)."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.socket_dir), dbname=database, user=SUPERUSER,
                               autocommit=True)

    def prepare_template(self, migrate: Callable[[str], None] | None = None) -> None:
        """Make the template database every test database is copied from; `migrate(url)`
        brings it to the current schema (once per session)."""
        with self.connect() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        if migrate is not None:
            migrate(self.url(TEMPLATE))
        self._template_ready = True

    def _create(self, name: str) -> None:
        # FILE_COPY copies the template's files (fast for a small database) instead of logging
        # every block (WAL_LOG, the default since PostgreSQL 15; older servers only copy).
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                  sql.Identifier(TEMPLATE))
        if self._server_version() >= 150000:
            query += sql.SQL(" STRATEGY FILE_COPY")
        with self.connect() as admin:
            admin.execute(query)

    def _server_version(self) -> int:
        if not hasattr(self, "_version"):
            with self.connect() as admin:
                self._version = admin.info.server_version
        return self._version

    def database_for(self, data_dir: Path | str) -> str:
        """The name of the database that belongs to the server data folder `data_dir`, made
        from the template the first time the folder is seen."""
        if not self._template_ready:
            raise RuntimeError("prepare_template() first")
        key = Path(data_dir).resolve()
        with self._lock:
            if key not in self._by_dir:
                self._serial += 1
                name = f"t{self._serial:05d}"
                self._create(name)
                self._by_dir[key] = name
                self._made.append((self._serial, key, name))
            return self._by_dir[key]

    def url_for(self, data_dir: Path | str) -> str:
        return self.url(self.database_for(data_dir))

    def mark(self) -> int:
        """A point in time for `drop_since`: the serial of the last database made so far."""
        return self._serial

    def drop_since(self, mark: int) -> None:
        """Drop every database made after `mark` (a test's or a module's own), closing any
        connection still open to it, and forget their folders."""
        with self._lock:
            gone = [entry for entry in self._made if entry[0] > mark]
            self._made = [entry for entry in self._made if entry[0] <= mark]
            for _, key, _ in gone:
                self._by_dir.pop(key, None)
        if not gone or not self.running:
            return
        with self.connect() as admin:
            for _, _, name in gone:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                              .format(sql.Identifier(name)))
