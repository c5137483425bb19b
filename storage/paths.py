"""Where the application keeps its files: the platform's data directory unless the command line
gives one (`main.py --data-dir DIR`)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "jamsos-jambi"
DATABASE_NAME = "registry.sqlite3"


def data_dir(override: str | Path | None = None) -> Path:
    """The data directory, created if missing. `override` is the --data-dir value, if any."""
    path = Path(override).expanduser() if override else platformdirs.user_data_path(
        APP_NAME, appauthor=False
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path(override: str | Path | None = None) -> Path:
    """The local registry database inside the data directory."""
    return data_dir(override) / DATABASE_NAME

