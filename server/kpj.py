"""BPJS's answer to the collective registration: KPJ numbers (docs/SYNC_API.md §11).

The branch sends back a spreadsheet (XLSX or CSV) naming each member by NIK or by the city's
member number, with the KPJ number it gave and the start of cover. Each row is matched exactly
or not at all: a row that matches nobody is reported, never guessed; a row for a person who is
not a funded member, or with a KPJ that already belongs to someone else, is refused and listed.
The whole file is one transaction and one office audit entry (who, when, the file's SHA-256,
how many rows were taken and refused). A KPJ taken gets a pull sequence number: devices learn
it in pull (`kpj` items).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta

from server import office
from server.auth import Device
from server.errors import ApiError
from server.store import Store
from storage.csv_import import ImportFileError
from storage.ids import new_id
from storage.import_cells import EXCEL_EPOCH, cell_text
from storage.import_table import OLE_MAGIC, ZIP_MAGIC, _ole_message, read_csv_table
from storage.models import mask_nik
from storage.nik import strip_separators
from storage.vocabulary import utc_now_iso

MAX_FILE_BYTES = 6 * 1024 * 1024
KPJ_PATTERN = re.compile(r"^[0-9A-Z]{6,20}$")
# Header labels (lower case, spaces and punctuation collapsed) of each column the file may have.
ALIASES = {
    "nik": {"nik", "no nik", "nomor nik", "nomor induk kependudukan"},
    "member_number": {"no anggota kota", "nomor anggota kota", "no anggota", "nomor anggota",
                      "member number", "member_number", "no peserta kota"},
    "kpj": {"kpj", "no kpj", "nomor kpj", "no kartu peserta", "nomor kepesertaan",
            "no peserta", "nomor peserta"},
    "start_date": {"tanggal mulai", "tgl mulai", "tmt", "tanggal kepesertaan",
                   "tgl kepesertaan", "mulai", "start date", "start_date", "tanggal efektif"},
}

# Reasons a row is not taken: stable codes and Indonesian text.
UNMATCHED, NOT_FUNDED, KPJ_TAKEN = "kpj.unmatched", "kpj.not_funded", "kpj.already_used"
BAD_ROW, AMBIGUOUS = "kpj.bad_row", "kpj.ambiguous"


def _label(text: object) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(text or "").lower()).split())


def _table(raw: bytes, name: str):
    if len(raw) > MAX_FILE_BYTES:
        raise ApiError(413, "request.too_large", "Berkas KPJ terlalu besar (paling besar 6 MiB).")
    try:
        if raw.startswith(ZIP_MAGIC):
            from storage.xlsx_import import read_xlsx

            return read_xlsx(raw, name=name)
        if raw.startswith(OLE_MAGIC):
            raise ImportFileError(_ole_message(raw))
        return read_csv_table(raw, name=name)
    except ImportFileError as exc:
        raise ApiError(422, "kpj.bad_file", str(exc)) from exc


def _columns(headers: list[str]) -> dict[str, int]:
    found = {}
    for index, header in enumerate(headers):
        label = _label(header)
        for field, names in ALIASES.items():
            if label in names and field not in found:
                found[field] = index
    if "kpj" not in found or not ({"nik", "member_number"} & set(found)):
        raise ApiError(
            422, "kpj.bad_file",
            "Berkas KPJ harus punya kolom nomor KPJ dan kolom NIK atau nomor anggota kota "
            f"(kolom yang ada: {', '.join(h for h in headers if h) or 'tidak ada'}).",
        )
    return found


def _start_date(value: object) -> tuple[str, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "", None
    if isinstance(value, datetime):
        return value.date().isoformat(), None
    if isinstance(value, date):
        return value.isoformat(), None
    if isinstance(value, int | float) and float(value).is_integer() and 1 <= value <= 73_050:
        return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat(), None
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text[:10], fmt).date().isoformat(), None
        except ValueError:
            continue
    return "", f"Tanggal mulai '{text}' tidak dapat dibaca (tulis HH-BB-TTTT)."


def _cell(values: list, index: int | None) -> object:
    return values[index] if index is not None and index < len(values) else None


def _read_row(values: list, cols: dict[str, int]) -> tuple[dict, str | None]:
    nik, problem = cell_text("nik", _cell(values, cols.get("nik")))
    nik = strip_separators(nik)
    if problem:
        return {}, problem
    kpj_text, problem = cell_text("kpj", _cell(values, cols.get("kpj")))
    kpj = "".join(kpj_text.upper().split())
    member = " ".join(str(_cell(values, cols.get("member_number")) or "").upper().split())
    start, date_problem = _start_date(_cell(values, cols.get("start_date")))
    if problem or date_problem:
        return {}, problem or date_problem
    if not KPJ_PATTERN.match(kpj):
        return {}, f"Nomor KPJ '{kpj_text}' tidak sah (6–20 huruf/angka)."
    if not nik and not member:
        return {}, "Baris tanpa NIK dan tanpa nomor anggota kota."
    if nik and not re.fullmatch(r"\d{16}", nik):
        return {}, "NIK harus 16 angka."
    return {"nik": nik, "member_number": member, "kpj": kpj, "start_date": start}, None


def _match(db, row: dict) -> tuple[dict | None, str, str]:
    """(the member, "", "") or (None, code, message): exact matches only."""
    if row["member_number"]:
        found = db.execute("SELECT id, status, nik FROM registrations WHERE member_number = ?",
                           [row["member_number"]]).fetchall()
        if row["nik"]:
            found = [f for f in found if f[2] == row["nik"]]
    else:
        found = db.execute("SELECT id, status, nik FROM registrations WHERE nik = ?",
                           [row["nik"]]).fetchall()
    if not found:
        return None, UNMATCHED, "Tidak cocok dengan pendaftaran mana pun (tidak ditebak)."
    funded = [f for f in found if f[1] in office.MEMBER_STATUSES]
    if not funded:
        return None, NOT_FUNDED, (f"Orang ini bukan peserta yang didanai kota (status "
                                  f"'{found[0][1]}').")
    if len(funded) > 1:
        return None, AMBIGUOUS, "Cocok dengan lebih dari satu peserta; periksa manual."
    return {"id": funded[0][0]}, "", ""


def import_kpj(store: Store, raw: bytes, file_name: str, device: Device | None,
               operator: dict) -> dict:
    """Take a KPJ answer file. Returns {"import_id", "rows", "taken", "unchanged",
    "refused": [{"line", "reason_code", "message", "nik_masked", "member_number", "kpj"}]}."""
    table = _table(raw, file_name)
    cols = _columns(table.headers)
    import_id, now = new_id(), utc_now_iso(precise=True)
    taken = unchanged = 0
    refused: list[dict] = []
    with store.write() as db:
        for line, values in table.rows:
            row, problem = _read_row(values, cols)
            shown = {"nik_masked": mask_nik(row.get("nik", "")),
                     "member_number": row.get("member_number", ""), "kpj": row.get("kpj", "")}
            if problem:
                refused.append({"line": line, "reason_code": BAD_ROW, "message": problem,
                                **shown})
                continue
            member, code, message = _match(db, row)
            if member is None:
                refused.append({"line": line, "reason_code": code, "message": message, **shown})
                continue
            holder = db.execute("SELECT record_id FROM kpj_numbers WHERE kpj = ?",
                                [row["kpj"]]).fetchone()
            if holder is not None and holder[0] != member["id"]:
                refused.append({"line": line, "reason_code": KPJ_TAKEN, "message":
                                "Nomor KPJ ini sudah tercatat untuk peserta lain.", **shown})
                continue
            same = db.execute("SELECT kpj, start_date FROM kpj_numbers WHERE record_id = ?",
                              [member["id"]]).fetchone()
            if same is not None and tuple(same) == (row["kpj"], row["start_date"] or None):
                unchanged += 1
                continue
            (seq,) = Store.next_seqs(db, "kpj", [member["id"]])
            db.execute(
                "INSERT INTO kpj_numbers (record_id, kpj, start_date, import_id, at, seq) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(record_id) DO UPDATE SET kpj = excluded.kpj, "
                "start_date = excluded.start_date, import_id = excluded.import_id, "
                "at = excluded.at, seq = excluded.seq",
                [member["id"], row["kpj"], row["start_date"] or None, import_id, now, seq],
            )
            taken += 1
        detail = {"import_id": import_id, "file_name": file_name[:200],
                  "sha256": hashlib.sha256(raw).hexdigest(), "rows": len(table.rows),
                  "taken": taken, "unchanged": unchanged, "refused": len(refused),
                  "refused_by_reason": _by_reason(refused)}
        office.audit(db, "kpj_import", device, operator, now, detail=detail)
    return {"import_id": import_id, "rows": len(table.rows), "taken": taken,
            "unchanged": unchanged, "refused": refused}


def _by_reason(refused: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in refused:
        counts[item["reason_code"]] = counts.get(item["reason_code"], 0) + 1
    return counts


def kpj_of(db, record_id: str) -> dict | None:
    row = db.execute("SELECT kpj, start_date FROM kpj_numbers WHERE record_id = ?",
                     [record_id]).fetchone()
    return {"kpj": row[0], "start_date": row[1]} if row else None
