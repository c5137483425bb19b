"""Importing a list of registrations (CSV or XLSX) for the window (ui/csv_import.py, on its
database thread) and `main.py import` alike: open the list with the column mapping to start from,
then judge (dry run) or import it, keeping the mapping for the next list with these headers.
The rules of a row are storage/import_run.py's; this module only puts the steps in order."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from storage.import_mapping import initial, is_documented, remember
from storage.import_run import ImportReport, run_import
from storage.import_table import load_table
from storage.vocabulary import local_now_iso


def open_list(registry, path: str | Path, *, sheet: str | None = None, progress=None):
    """(table, mapping to start from, whether it was remembered from an earlier import). The
    table carries the reader's notices (e.g. formulas, hidden sheets) for the operator."""
    table = load_table(path, sheet=sheet)
    mapping, kept = initial(registry, table.headers)
    return table, mapping, kept


def import_list(registry, table, mapping: list[str], *, operator: str, dry_run: bool = False,
                progress=None, cancel=None, **options) -> ImportReport:
    """Import the rows (with `dry_run`, only count what would happen, saving nothing); after a
    real import the mapping is kept for the next list with these headers, unless they are the
    documented ones. `options`: event_id, accept_warnings, group_size, as_of."""
    report = run_import(registry, table, mapping, operator=operator, dry_run=dry_run,
                        progress=progress, cancel=cancel, **options)
    if not dry_run and not is_documented(table.headers):
        remember(registry, table.headers, mapping, source=table.name, now=local_now_iso())
    return report


def event_named(registry, name: str, operator: str) -> str:
    """The id of the kegiatan with this name; made (held today) when there is none yet."""
    wanted = " ".join(name.split())
    for event in registry.events():
        if event.name == wanted:
            return event.id
    return registry.add_event(name, date.today(), operator=operator).id
