"""Running an import, or a dry run of it, over a table read by storage/import_table.py.

Rows are saved in groups (`Registry.save_many`, one transaction and one sync to disk per group,
every row still with its own version, audit entry and outbox entry). A crash loses at most the
group in flight; a re-run finds the saved rows' NIKs registered and counts them as *already
registered*. That is about 25 times faster than one transaction per row (bench/bench_import.py).

A dry run judges every row with the same rules and the same duplicate checks, without writing:
the rows it would save are kept in memory (storage/pending.py) so that a later row with the same NIK,
or a similar name and the same birth date, is judged as the real run will judge it after the
earlier row is saved. Its counts equal the real run's (tests/test_xlsx_import.py checks it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING

from storage.csv_import import ImportReport, SkippedRow, row_to_registration
from storage.import_cells import cell_text
from storage.import_mapping import column_letter
from storage.models import Registration, ValidationResult, mask_nik

if TYPE_CHECKING:
    from storage.registry import Registry

GROUP_SIZE = 500  # rows per transaction: ~0.3 s of work, so Cancel answers quickly


def extract(table, mapping: list[str]) -> Iterator[tuple[int, dict[str, str], list[str]]]:
    """(line, {column: text}, problems) for every row of `table` under `mapping`."""
    columns = [(i, name) for i, name in enumerate(mapping) if name]
    formulas = table.formula_cells
    for line, values in table.rows:
        row: dict[str, str] = {}
        problems: list[str] = []
        for i, name in columns:
            if formulas and (line, i) in formulas:
                row[name] = ""
                problems.append(_formula_problem(f"{column_letter(i)}{line}", name,
                                                 formulas[(line, i)]))
                continue
            text, problem = cell_text(name, values[i] if i < len(values) else None)
            row[name] = text
            if problem:
                problems.append(problem)
        yield line, row, problems


def _formula_problem(cell: str, name: str, error: str) -> str:
    if error:
        return f"Sel {cell} ({name}) berisi galat rumus {error}; perbaiki rumusnya di Excel."
    return (f"Sel {cell} ({name}) berisi rumus tanpa hasil tersimpan; buka dan simpan ulang "
            "berkas di Excel atau LibreOffice.")


def classify(result: ValidationResult | None, problems: list[str]) -> str:
    """One of csv_import.KINDS for a row with these reading problems and this verdict."""
    if problems or result is None:
        return "refused"
    if any(e.code == "duplicate.nik" for e in result.errors):
        return "already"
    if result.errors:
        return "refused"
    if any(w.code == "duplicate.similar" for w in result.warnings):
        return "similar"
    return "warnings" if result.warnings else "new"


def run_import(registry: Registry, table, mapping: list[str], *, operator: str,
               as_of: date | None = None,
               event_id: str | None = None, accept_warnings: bool = False,
               dry_run: bool = False, group_size: int = GROUP_SIZE,
               progress: Callable[[int, int], None] | None = None,
               cancel: threading.Event | None = None) -> ImportReport:
    """Import (or with `dry_run`, only judge) every row of `table`. Progress is reported after
    each group; a cancel is honoured between groups, keeping the groups already saved."""
    from storage.vocabulary import local_now_iso

    as_of = as_of or date.today()
    make = _row_maker(registry, as_of, event_id)
    report = ImportReport(total=len(table.rows), dry_run=dry_run, notices=list(table.notices))
    judge = _DryJudge(registry, as_of, accept_warnings) if dry_run else None
    rows = list(extract(table, mapping))
    for start in range(0, len(rows), max(1, group_size)):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        items = [(line, *make(row), problems)
                 for line, row, problems in rows[start:start + group_size]]
        verdicts = judge.group(items) if judge else _save_group(registry, items, operator,
                                                               as_of, accept_warnings)
        for (line, reg, read_problems, problems), (result, saved) in zip(items, verdicts,
                                                                      strict=True):
            _count(report, line, reg, read_problems + problems, result, saved)
        if progress is not None and not (cancel is not None and cancel.is_set()):
            progress(min(start + group_size, len(rows)), len(rows))
    if not dry_run:
        _audit(registry, table, report, operator, local_now_iso())
    return report


def _row_maker(registry: Registry, as_of: date, event_id: str | None):
    """row -> (Registration, reading problems), with what every row shares looked up once."""
    from storage.vocabulary import local_now_iso

    config = registry.config
    occupations = {o.code: o.name for o in registry.occupations()}
    consent = config.current_consent(as_of).version
    version = config.for_date(max(as_of, config.versions[0].valid_from))
    now = local_now_iso()

    def make(row: dict[str, str]) -> tuple[Registration, list[str]]:
        return row_to_registration(row, regions=registry.regions, version=version,
                                   occupations=occupations, consent_version=consent,
                                   event_id=event_id, now=now, as_of=as_of)

    return make


def _save_group(registry: Registry, items, operator: str, as_of: date, accept_warnings: bool):
    """Save the readable rows of one group in one transaction; a verdict per item."""
    readable = [reg for _line, reg, read_problems, problems in items
                if not read_problems and not problems]
    results = iter(registry.save_many(readable, operator=operator, as_of=as_of,
                                      accept_warnings=accept_warnings))
    verdicts = []
    for _line, _reg, read_problems, problems in items:
        if read_problems or problems:
            verdicts.append((None, False))
        else:
            result = next(results)
            verdicts.append((result.validation, result.saved))
    return verdicts


def _count(report: ImportReport, line: int, reg: Registration, problems: list[str],
           result: ValidationResult | None, saved: bool) -> None:
    kind = classify(result, problems)
    report.counts[kind] += 1
    if saved:
        report.imported += 1
        report.with_warnings += bool(result.warnings)
        return
    if problems:
        reasons = problems
    else:
        issues = result.errors or result.warnings
        reasons = [issue.message for issue in issues]
    report.skipped.append(SkippedRow(line, mask_nik(str(reg.nik).strip()),
                                     str(reg.full_name).strip(), reasons, kind))


def _audit(registry: Registry, table, report: ImportReport, operator: str, now: str) -> None:
    """One entry for the import as a whole (each row has its own): which file, how it went."""
    from storage.db import storage_errors

    detail = {"file": table.name, "sheet": table.sheet, "rows": report.total,
              "saved": report.imported, "counts": report.counts,
              "cancelled": report.cancelled}
    with storage_errors(), registry._db.atomic():
        registry.append_audit(operator, "import.file", "import", table.fingerprint, detail, now)


# --- the dry run ---------------------------------------------------------------------------


class _DryJudge:
    """What `Registry.save_many` would decide for each row, without writing."""

    def __init__(self, registry: Registry, as_of: date, accept_warnings: bool):
        self.registry = registry
        self.as_of = as_of
        self.accept_warnings = accept_warnings
        from storage.pending import Pending

        self.planned = Pending(registry)
        self.codes = frozenset(o.code for o in registry.occupations())

    def group(self, items) -> list[tuple[ValidationResult | None, bool]]:
        from storage.cleaning import clean_registration
        from storage.db import storage_errors
        from storage.validation import validate_registration

        verdicts = []
        with storage_errors():
            for _line, reg, read_problems, problems in items:
                if read_problems or problems:
                    verdicts.append((None, False))
                    continue
                reg = clean_registration(reg)
                result = validate_registration(
                    reg, as_of=self.as_of, regions=self.registry.regions,
                    config=self.registry.config, duplicates=self.planned,
                    occupation_codes=self.codes)
                saved = not result.errors and (self.accept_warnings or not result.warnings)
                if saved:
                    self.planned.add(reg)
                verdicts.append((result, saved))
        return verdicts
