"""The collective registration file for BPJS Ketenagakerjaan (an XLSX of funded members).

The columns are declared once in `resources/config/program.json` (`programme_office.
bpjs_export_columns`: a field this module knows and the branch's header), so the city can match
the branch's template without a code change. A **full** export lists every active member; a
**delta** export lists what changed since the last export of either kind: members new to BPJS,
members whose exported data was corrected (an approved correction: a correction still waiting
is never used, the current version is), and members whose cover ended (death, withdrawal of
consent). `bpjs_exported` remembers what each member's last export said.

Every export is one write transaction: the file is made, `bpjs_exported` is updated and the
office audit records who, when, how many rows and the file's SHA-256, together or not at all.
A member recorded as dead is never exported as active (their status is `died`).
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from server import office
from server.auth import Device
from server.errors import ApiError
from server.store import Store
from storage.ids import new_id
from storage.models import COHORT_LABELS
from storage.regions import load_regions
from storage.vocabulary import utc_now_iso

FULL, DELTA = "full", "delta"
ACTIVE, ENDED = "active", "ended"
CHANGE_LABELS = {"new": "BARU", "corrected": "KOREKSI", "ended": "BERHENTI", "full": "AKTIF"}
SEX_LABELS = {"L": "LAKI-LAKI", "P": "PEREMPUAN"}
END_REASONS = {"died": "MENINGGAL", "inactive": "PERSETUJUAN DITARIK"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_FIELDS = {"nik", "phone", "kpj", "member_number"}  # kept as text: leading zeros, no 1E+15
DATE_FIELDS = {"birth_date", "start_date", "end_date"}

_SELECT = (
    "SELECT r.id, r.data, r.status, r.member_number, r.cohort, r.programme_start, "
    "r.kecamatan_code, r.kelurahan_code, r.occupation_code, k.kpj, c.died_on, w.ends_on "
    "FROM registrations r LEFT JOIN kpj_numbers k ON k.record_id = r.id "
    "LEFT JOIN claims c ON c.record_id = r.id LEFT JOIN withdrawals w ON w.record_id = r.id "
    "WHERE r.member_number != '' ORDER BY r.member_number"
)


def _occupations() -> dict[str, str]:
    from storage.config import load_program_config

    names: dict[str, str] = {}
    for version in load_program_config().versions:
        names.update({o.code: o.name for o in version.occupations})
    return names


def _values(row: tuple, regions, occupations: dict[str, str], cfg) -> dict:
    """Every field a column may name, for one member (`data` is the current version)."""
    (record_id, data, status, member, cohort, start, kec, kel, occ, kpj, died_on,
     ends_on) = row
    d = json.loads(data)
    street = " ".join(str(d.get("street") or "").split())
    rt_rw = f"RT {d['rt']}/RW {d['rw']}" if d.get("rt") or d.get("rw") else ""
    kecamatan, kelurahan = regions.kecamatan(kec), regions.kelurahan(kel)
    ended = status in office.ENDED_STATUSES
    return {
        "nik": d.get("nik", ""), "full_name": d.get("full_name", ""),
        "birth_place": d.get("birth_place", ""), "birth_date": d.get("birth_date") or "",
        "sex": SEX_LABELS.get(d.get("sex", ""), d.get("sex", "")),
        "address": ", ".join(p for p in (street, rt_rw) if p),
        "kelurahan": kelurahan.name if kelurahan else kel,
        "kecamatan": kecamatan.name if kecamatan else kec, "phone": d.get("phone", ""),
        "occupation": occupations.get(occ, occ),
        "monthly_income": d.get("monthly_income"),
        "programmes": cfg.bpjs_export_programmes,
        "start_date": start or "", "cohort": COHORT_LABELS.get(cohort, cohort),
        "member_number": member, "kpj": kpj or "", "postal_code": d.get("postal_code", ""),
        "end_date": (died_on or ends_on or "") if ended else "",
        "end_reason": END_REASONS.get(status, "") if ended else "",
        "record_id": record_id,
    }


FIELDS = ("nik", "full_name", "birth_place", "birth_date", "sex", "address", "kelurahan",
          "kecamatan", "phone", "occupation", "monthly_income", "programmes", "start_date",
          "cohort", "member_number", "kpj", "postal_code", "change", "end_date", "end_reason",
          "record_id")


def _content_hash(values: dict, fields: list[str]) -> str:
    """What BPJS was told about a member: the configured columns but the change marker and the
    KPJ (BPJS's own number: learning it is no change to report back)."""
    text = json.dumps([values.get(f) for f in fields], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows(db, mode: str, cfg) -> list[tuple[dict, str, str, str]]:
    """(values, change, state, content hash) of each member the export lists."""
    regions, occupations = load_regions(), _occupations()
    fields = [c.field for c in cfg.bpjs_export_columns if c.field not in ("change", "kpj")]
    last = dict((r[0], (r[1], r[2])) for r in db.execute(
        "SELECT record_id, content_hash, state FROM bpjs_exported").fetchall())
    chosen = []
    for row in db.execute(_SELECT).fetchall():
        status = row[2]
        values = _values(row, regions, occupations, cfg)
        digest = _content_hash(values, fields)
        before = last.get(row[0])
        if status in office.MEMBER_STATUSES:
            if mode == FULL:
                chosen.append((values, "full", ACTIVE, digest))
            elif before is None or before[1] != ACTIVE:
                chosen.append((values, "new", ACTIVE, digest))
            elif before[0] != digest:
                chosen.append((values, "corrected", ACTIVE, digest))
        elif status in office.ENDED_STATUSES and before is not None and before[1] == ACTIVE:
            # The full list no longer holds them; the delta says so explicitly.
            chosen.append((values, "ended", ENDED, digest))
    return chosen


def _workbook(rows: list, mode: str, export_id: str, cfg) -> bytes:
    columns = cfg.bpjs_export_columns
    if not columns:
        raise ApiError(409, "export.no_columns",
                       "Kolom berkas BPJS belum ditetapkan di konfigurasi program.")
    unknown = [c.field for c in columns if c.field not in FIELDS]
    if unknown:
        raise ApiError(409, "export.bad_columns",
                       f"Kolom berkas BPJS tidak dikenal di konfigurasi: {', '.join(unknown)}.")
    # Write-only: rows stream to the file (a 15,000-row full export in a fraction of the time
    # and memory of a normal workbook); formats go on each cell as it is written.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Peserta" if mode == FULL else "Perubahan")
    for index, column in enumerate(columns):
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = max(12, len(column.header) + 2)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for values, change, _state, _digest in rows:
        line = []
        for column in columns:
            value = CHANGE_LABELS[change] if column.field == "change" else values[column.field]
            if column.field in DATE_FIELDS and value:
                cell = WriteOnlyCell(sheet, value=date.fromisoformat(str(value)[:10]))
                cell.number_format = "DD-MM-YYYY"
            elif column.field in TEXT_FIELDS:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "@"
            else:
                cell = value
            line.append(cell)
        sheet.append(line)
    book.properties.title = f"Pendaftaran kolektif BPJS Ketenagakerjaan ({export_id})"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _plan(rows: list) -> list[tuple[str, str, str]]:
    """What an export says, member by member: equal plans make equal files."""
    return [(v["record_id"], change, digest) for v, change, _state, digest in rows]


def export(store: Store, mode: str, device: Device | None, operator: dict) -> tuple[bytes, dict]:
    """Make the file, remember what it said, audit it. Returns (the XLSX bytes, the summary:
    `export_id`, `mode`, `rows`, `sha256`, `at`, and counts per change).

    The file is written from a read snapshot, outside the write lock (15,000 rows take seconds
    to serialise and pushes must not wait that long); the write transaction then reads the
    members again and commits only when the file still says exactly what they say now, else it
    makes the file again (the last attempt inside the transaction, so an export always ends)."""
    if mode not in (FULL, DELTA):
        raise ApiError(422, "request.invalid", "Jenis ekspor harus 'full' atau 'delta'.")
    cfg = office.office_config()
    export_id = new_id()
    for attempt in range(3):
        with store.snapshot() as reader:
            rows = _rows(reader, mode, cfg)
        body = _workbook(rows, mode, export_id, cfg)
        with store.write() as db:
            now = utc_now_iso(precise=True)
            current = _rows(db, mode, cfg)
            if _plan(current) != _plan(rows):
                if attempt < 2:
                    continue  # something changed meanwhile: make the file again
                rows, body = current, _workbook(current, mode, export_id, cfg)
            return body, _record(db, rows, body, mode, export_id, now, device, operator)
    raise AssertionError("unreachable: the last attempt always records")


def _record(db, rows: list, body: bytes, mode: str, export_id: str, now: str,
            device: Device | None, operator: dict) -> dict:
    """Remember what the file said about each member and audit it (in the write transaction)."""
    digest = hashlib.sha256(body).hexdigest()
    db.executemany(
        "INSERT INTO bpjs_exported (record_id, content_hash, state, export_id, at) "
        "VALUES (?,?,?,?,?) ON CONFLICT(record_id) DO UPDATE SET content_hash = "
        "excluded.content_hash, state = excluded.state, export_id = excluded.export_id, "
        "at = excluded.at",
        [(v["record_id"], h, state, export_id, now) for v, _c, state, h in rows],
    )
    if mode == FULL:  # members no longer active are not on the full list: BPJS ends them
        active = {v["record_id"] for v, *_ in rows}
        gone = [r[0] for r in db.execute(
            "SELECT record_id FROM bpjs_exported WHERE state = ?", [ACTIVE]).fetchall()
            if r[0] not in active]
        db.executemany("UPDATE bpjs_exported SET state = ?, export_id = ?, at = ? "
                       "WHERE record_id = ?", [(ENDED, export_id, now, r) for r in gone])
    counts = {c: sum(1 for _v, change, *_ in rows if change == c)
              for c in ("full", "new", "corrected", "ended")}
    info = {"export_id": export_id, "mode": mode, "rows": len(rows), "sha256": digest,
            "at": now, "counts": counts}
    office.audit(db, "bpjs_export", device, operator, now, detail=info)
    return info


def exports(store: Store, limit: int = 50) -> list[dict]:
    """The audit of earlier exports, newest first (who, when, rows, SHA-256)."""
    return office.audit_entries(store, "bpjs_export", limit)
