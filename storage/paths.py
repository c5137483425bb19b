"""Where the application keeps its files: the platform's data directory unless the command line
gives one (`main.py --data-dir DIR`). Everything in it concerns people or secrets, so the folder
is the owner's alone (0700) and the files made in it are created 0600."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

APP_NAME = "jamsos-jambi"
DATABASE_NAME = "registry.sqlite3"
KEYFILE_NAME = "registry.key"
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """`path` created if missing, readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    with contextlib.suppress(OSError):  # a folder the user does not own keeps its mode
        os.chmod(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` created empty if missing, then 0600. SQLite gives the WAL and shared-memory files
    the mode of the database file, so creating the database this way covers them too."""
    # An existing file is only chmod-ed, never opened: closing any descriptor of a file drops
    # every POSIX lock this process holds on it, so opening a live SQLite database here would
    # silently release the locks of its connections in this process.
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically (temporary file, fsync, rename, fsync the folder),
    readable by its owner only: a crash leaves the old file or the new one, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def data_dir(override: str | Path | None = None) -> Path:
    """The data directory, created if missing (0700). `override` is the --data-dir value."""
    path = Path(override).expanduser() if override else platformdirs.user_data_path(
        APP_NAME, appauthor=False
    )
    return private_dir(path)


def database_path(override: str | Path | None = None) -> Path:
    """The local registry database inside the data directory."""
    return data_dir(override) / DATABASE_NAME


def keyfile_path(override: str | Path | None = None) -> Path:
    """The key file next to the database: wrapped keys and log-in state, no personal data."""
    return data_dir(override) / KEYFILE_NAME
