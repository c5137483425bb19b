"""A person's requests under UU 27/2022 (PDP) (docs/SYNC_API.md §13): a copy of everything held
about them, the withdrawal of consent, and erasure after the retention period.

- **Copy**: a PDF (ReportLab) with the current data, every version received with what changed,
  every decision and card step, cards, KPJ, the death claim and the withdrawal. It is for the
  person, so nothing is masked; it is never written to disk or to a log by the server, and the
  office audit records only that a copy was made, by whom and when.
- **Withdrawal**: the membership ends at the end of the month already paid (the month the
  request was received), the registration becomes `inactive`, every card is revoked (reason
  `persetujuan_ditarik`), and every device pulls the change.
- **Erasure**: once the membership ended (death, withdrawal, refusal) and the retention period
  of the configuration (`programme_office.retention_days`) has passed since, the personal fields
  are removed everywhere on the server (current data, every version, a waiting correction, the
  NIK and its hash, names on cards, claim details, the KPJ, event reasons) and every device pulls
  an `erasure` item and removes them from its own copy. What stays is a tombstone in the office
  audit: what was erased, when and by whom. Earlier is refused with the date it becomes possible.
"""

from __future__ import annotations

import calendar
import io
import json
from datetime import date, timedelta
from xml.sax.saxutils import escape

from server import office, rules
from server import registrations as regs
from server.auth import Device
from server.decisions import add_event, decide
from server.errors import ApiError
from server.store import Store
from storage.models import STATUS_LABELS, Status
from storage.vocabulary import (
    FIELD_LABELS,
    REASON_ERASED,
    REASON_WITHDRAWN,
    show_date,
    utc_now_iso,
)

# Registration.to_dict() fields that are the person's own (removed by an erasure). Region,
# occupation, cohort, kegiatan and consent fields stay: they count in statistics and identify
# no one on their own.
PERSONAL_FIELDS = ("nik", "full_name", "birth_place", "birth_date", "sex", "street", "rt", "rw",
                   "postal_code", "phone", "monthly_income", "heirs", "notes")
_BLANK = {"nik": "", "full_name": "", "birth_place": "", "birth_date": None, "sex": "",
          "street": "", "rt": "", "rw": "", "postal_code": "", "phone": "",
          "monthly_income": None, "heirs": [], "notes": ""}


def _refuse(code: str, message: str, status: int = 409) -> ApiError:
    return ApiError(status, code, message)


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- withdrawal of consent --------------------------------------------------------------------


def withdraw(store: Store, device: Device, record_id: str, revision: int, received_on: date,
             operator: dict) -> None:
    if received_on > rules.server_today():
        raise _refuse("pdp.bad_date", "Tanggal permintaan tidak boleh sesudah hari ini.", 422)
    ends_on = end_of_month(received_on)

    def apply(db, row, now):
        if row["status"] in office.ENDED_STATUSES:
            raise _refuse("pdp.already_ended",
                          f"Kepesertaan ini sudah berakhir (status '{row['status']}').")
        if db.execute("SELECT 1 FROM erasures WHERE record_id = ?", [record_id]).fetchone():
            raise _refuse("pdp.erased", "Data orang ini sudah dihapus.")
        db.execute("INSERT INTO withdrawals (record_id, received_on, ends_on, at) "
                   "VALUES (?,?,?,?)", [record_id, received_on.isoformat(), ends_on.isoformat(),
                                        now])
        reason = f"Persetujuan ditarik; kepesertaan berakhir {show_date(ends_on)}"
        changes = {"status": Status.INACTIVE.value, "reason_code": REASON_WITHDRAWN,
                   "status_reason": reason}
        if row["programme_end"] and row["programme_end"] > ends_on.isoformat():
            changes["programme_end"] = ends_on.isoformat()
        regs.touch(db, record_id, now, **changes)
        revoked = office.revoke_cards(db, record_id, now, REASON_WITHDRAWN)
        add_event(db, record_id, "consent_withdrawn", device, operator, now,
                  REASON_WITHDRAWN, reason + (f"; {revoked} kartu dicabut" if revoked else ""))

    decide(store, record_id, revision, apply)


# --- erasure ---------------------------------------------------------------------------------


def ended_on(db, row: dict) -> date | None:
    """The day the membership (or the registration's life) ended, or None while it runs."""
    if row["status"] == Status.DIED.value:
        died = db.execute("SELECT died_on FROM claims WHERE record_id = ?", [row["id"]]).fetchone()
        return date.fromisoformat(died[0]) if died else None
    if row["status"] == Status.INACTIVE.value:
        ends = db.execute("SELECT ends_on FROM withdrawals WHERE record_id = ?",
                          [row["id"]]).fetchone()
        return date.fromisoformat(ends[0]) if ends else None
    if row["status"] == Status.REJECTED.value:
        return date.fromisoformat(row["updated_at"][:10])
    return None


def erasable_from(db, row: dict) -> date:
    """The first day the person's data may be erased; refuses while the membership runs."""
    ended = ended_on(db, row)
    if ended is None:
        raise _refuse(
            "pdp.still_member",
            "Orang ini masih terdaftar atau menjadi peserta. Catat dulu penarikan persetujuannya; "
            "data dapat dihapus sesudah kepesertaan berakhir dan masa simpan lewat.")
    claim = db.execute("SELECT stage FROM claims WHERE record_id = ?", [row["id"]]).fetchone()
    if claim is not None and claim[0] not in ("handed_over",):
        raise _refuse("pdp.claim_open",
                      "Klaim JKM orang ini masih berjalan; data tidak dapat dihapus sebelum "
                      "santunan diserahkan.")
    return ended + timedelta(days=office.office_config().retention_days)


def _tombstone(data: dict) -> dict:
    return {**data, **_BLANK, "erased": True}


def erase(store: Store, device: Device | None, record_id: str, operator: dict) -> dict:
    """Remove the person's personal fields everywhere on the server. Returns the tombstone."""
    today = rules.server_today()
    tomb: dict = {}

    def apply(db, row, now):
        if db.execute("SELECT 1 FROM erasures WHERE record_id = ?", [record_id]).fetchone():
            raise _refuse("pdp.erased", "Data orang ini sudah dihapus.")
        first = erasable_from(db, row)
        if today < first:
            days = office.office_config().retention_days
            raise _refuse(
                "pdp.retention",
                f"Data belum dapat dihapus: masa simpan {days} hari sejak kepesertaan berakhir "
                f"({show_date(ended_on(db, row))}) baru lewat pada {show_date(first)}.")
        _erase_rows(db, row, now)
        (seq,) = Store.next_seqs(db, "erasure", [record_id])
        db.execute("INSERT INTO erasures (seq, record_id, at) VALUES (?,?,?)",
                   [seq, record_id, now])
        tomb.update({"record_id": record_id, "at": now, "fields": list(PERSONAL_FIELDS),
                     "tables": ["registrations", "versions", "cards", "events", "claims",
                                "kpj_numbers"],
                     "ended_on": ended_on(db, row).isoformat()})
        office.audit(db, "pdp_erasure", device, operator, now, record_id=record_id, detail=tomb)
        add_event(db, record_id, "erased", device, operator, now, REASON_ERASED,
                  "Data pribadi dihapus atas permintaan (UU 27/2022)")

    if store.is_postgresql:
        # Old row versions stay in the table's pages until autovacuum reuses them
        # (README: erasure on PostgreSQL).
        decide(store, record_id, None, apply)
        return tomb
    with store.write() as db:  # the writer's connection: freed pages are zeroed meanwhile
        db.execute("PRAGMA secure_delete = ON")
    try:
        decide(store, record_id, None, apply)
    finally:
        with store.write() as db:
            db.execute("PRAGMA secure_delete = OFF")
    return tomb


def _erase_rows(db, row: dict, now: str) -> None:
    record_id = row["id"]
    data = _tombstone(json.loads(row["data"]))
    regs.touch(db, record_id, now, nik="", nik_hash="", full_name="", birth_date=None,
               data=json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
               pending_version=None, pending_data=None, pending_device_id=None, pending_at=None,
               possible_duplicate=0, duplicate_of=None)
    regs.refresh_group(db, row["nik"], now)  # the others of a same-NIK group
    for version, content_hash, version_data in db.execute(
            "SELECT version, content_hash, data FROM versions WHERE record_id = ?",
            [record_id]).fetchall():
        blank = json.dumps(_tombstone(json.loads(version_data)), sort_keys=True)
        db.execute("UPDATE versions SET data = ?, content_hash = ? "
                   "WHERE record_id = ? AND version = ? AND content_hash = ?",
                   [blank, f"erased:{content_hash[:16]}", record_id, version, content_hash])
    db.execute("UPDATE cards SET name = '', qr = '' WHERE record_id = ?", [record_id])
    db.execute("UPDATE events SET reason = '' WHERE record_id = ?", [record_id])
    db.execute("UPDATE claims SET death_place = '', certificate_no = '', reported_by = '', "
               "claimant_name = '', claimant_reason = '', handed_to = '' WHERE record_id = ?",
               [record_id])
    db.execute("DELETE FROM kpj_numbers WHERE record_id = ?", [record_id])


# --- the copy ----------------------------------------------------------------------------------


def _collect(db, record_id: str) -> dict:
    from server import claims, kpj

    row = regs.fetch_row(db, record_id)
    if row is None:
        raise _refuse("not_found", "Pendaftaran ini tidak ada di server.", 404)
    versions = db.execute(
        "SELECT version, received_at, device_id, outcome, data FROM versions "
        "WHERE record_id = ? ORDER BY version, received_at", [record_id]).fetchall()
    events = db.execute(
        "SELECT at, event, \"by\", reason FROM events WHERE record_id = ? ORDER BY seq",
        [record_id]).fetchall()
    cards = db.execute(
        "SELECT serial, card_version, valid_from, valid_until, issued_at, printed_at, "
        "handed_over_at, revoked_at FROM cards WHERE record_id = ? ORDER BY card_version",
        [record_id]).fetchall()
    withdrawal = db.execute("SELECT received_on, ends_on FROM withdrawals WHERE record_id = ?",
                            [record_id]).fetchone()
    return {"row": row, "data": json.loads(row["data"]), "versions": versions,
            "events": events, "cards": cards, "withdrawal": withdrawal,
            "claim": claims.claim_view(db, record_id), "kpj": kpj.kpj_of(db, record_id)}


# The fields the copy lists first, in this order (the heirs follow in a row of their own).
COPY_FIELDS = ("nik", "full_name", "birth_place", "birth_date", "sex", "street", "rt", "rw",
               "kecamatan_code", "kelurahan_code", "postal_code", "phone", "occupation_code",
               "cohort", "monthly_income", "consent_version", "consent_given", "consent_at",
               "notes")


def _label(field: str) -> str:
    """A field's name in the copy; a field that holds a code says so (Kecamatan (kode))."""
    label = FIELD_LABELS.get(field, field)
    return f"{label} (kode)" if field in ("kecamatan_code", "kelurahan_code") else label


def _text(value) -> str:
    if isinstance(value, list):
        return "; ".join(f"{h.get('name', '')} ({h.get('relationship', '')}"
                         f"{', ' + h['phone'] if h.get('phone') else ''}"
                         f"{', NIK ' + h['nik'] if h.get('nik') else ''})" for h in value)
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return "" if value is None else str(value)


def copy_pdf(store: Store, device: Device, record_id: str, operator: dict) -> bytes:
    """The person's copy (PDF bytes). Only that a copy was made is audited."""
    db = store.reader()
    held = _collect(db, record_id)
    body = _render(held)
    with store.write() as wdb:
        office.audit(wdb, "pdp_copy", device, operator, utc_now_iso(precise=True),
                     record_id=record_id, detail={"pages_bytes": len(body)})
    return body


def _render(held: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)

    def p(text) -> Paragraph:
        return Paragraph(escape(_text(text)), small)

    def table(rows: list[list], widths) -> Table:
        t = Table([[p(c) for c in r] for r in rows], colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    row, data = held["row"], held["data"]
    story = [Paragraph("Salinan data pribadi", styles["Title"]),
             Paragraph(escape(f"Dibuat {utc_now_iso()[:16].replace('T', ' ')} UTC atas "
                              "permintaan yang bersangkutan (UU 27/2022 tentang Pelindungan Data "
                              "Pribadi). Dokumen ini memuat semua data yang disimpan server "
                              "Pemerintah Kota Jambi tentang Anda."), small),
             Spacer(1, 4 * mm), Paragraph("Data saat ini", styles["Heading2"])]
    current = [["Data", "Isi"]] + [[_label(k), data.get(k)] for k in COPY_FIELDS if k in data]
    current.append(["Ahli waris", data.get("heirs") or []])
    status = STATUS_LABELS.get(row["status"], row["status"])
    current += [["Status", f"{status} {row['status_reason']}".strip()],
                ["Nomor anggota kota", row["member_number"]],
                ["Masa program", f"{row['programme_start'] or ''} s.d. {row['programme_end'] or ''}"],
                ["Nomor KPJ BPJS", (held["kpj"] or {}).get("kpj", "")],
                ["Nomor pendaftaran", row["id"]]]
    story += [table(current, [45 * mm, 125 * mm]), Spacer(1, 4 * mm),
              Paragraph("Riwayat versi data", styles["Heading2"])]
    versions, before = [["Versi", "Diterima", "Hasil", "Yang berubah"]], {}
    for version, at, _device, outcome, text in held["versions"]:
        now = json.loads(text)
        changed = regs.changed_fields(before, now) if before else ["(data pertama)"]
        shown = "; ".join(c if c.startswith("(") else
                          f"{_label(c)}: {_text(now.get(c))}" for c in changed)
        versions.append([version, at[:16].replace("T", " "), outcome, shown])
        before = now
    story += [table(versions, [14 * mm, 30 * mm, 24 * mm, 102 * mm]), Spacer(1, 4 * mm),
              Paragraph("Keputusan dan langkah", styles["Heading2"])]
    events = [["Waktu", "Langkah", "Oleh", "Keterangan"]] + [
        [at[:16].replace("T", " "), event, by, reason] for at, event, by, reason in held["events"]]
    story += [table(events, [30 * mm, 34 * mm, 46 * mm, 60 * mm]), Spacer(1, 4 * mm)]
    if held["cards"]:
        cards = [["Seri", "Versi", "Berlaku", "Dicetak", "Diserahkan", "Dicabut"]] + [
            [s, v, f"{f} s.d. {u}", pr or "", ho or "", rv or ""]
            for s, v, f, u, _i, pr, ho, rv in held["cards"]]
        story += [Paragraph("Kartu peserta", styles["Heading2"]),
                  table(cards, [18 * mm, 14 * mm, 42 * mm, 32 * mm, 32 * mm, 32 * mm])]
    claim = held["claim"]
    if claim:
        rows = [["Klaim JKM", ""], ["Meninggal", f"{claim['died_on']} di {claim['death_place']}"],
                ["Nomor akta kematian", claim["certificate_no"]],
                ["Dilaporkan oleh", claim["reported_by"]],
                ["Penerima klaim", claim["claimant_name"]], ["Tahap", claim["stage_label"]],
                ["Dibayar", f"{claim['paid_on'] or ''} Rp{claim['amount'] or 0:,}".replace(",", ".")]]
        story += [Spacer(1, 4 * mm), table(rows, [45 * mm, 125 * mm])]
    if held["withdrawal"]:
        story += [Spacer(1, 4 * mm), p(f"Persetujuan ditarik pada {held['withdrawal'][0]}; "
                                       f"kepesertaan berakhir {held['withdrawal'][1]}.")]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title="Salinan data pribadi", leftMargin=20 * mm,
                      rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm).build(story)
    return out.getvalue()
