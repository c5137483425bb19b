"""The window's texts by part, each `{key: (Indonesian, English)}`; `ui/labels.py` joins them
into one table and is the only way to read them.

A part's texts are a data file here (`*.toml`, each text `"key" = [Indonesian, English]`); the
programme's words, whose Indonesian is the shared vocabulary's, are `terms.py`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

from ui.texts import terms

Table = dict[str, tuple[str, str]]
FOLDER = Path(__file__).resolve().parent


def tables() -> Iterator[Table]:
    """Every part's table: the programme's words, then each data file (by name)."""
    yield terms.TEXT
    for path in sorted(FOLDER.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        yield {key: _pair(path, key, value) for key, value in data.items()}


def _pair(path: Path, key: str, value: object) -> tuple[str, str]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise ValueError(f"{path.name}: {key} must be [Indonesian, English]")
    return value[0], value[1]
