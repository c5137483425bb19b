"""The JKM death claim (docs/SYNC_API.md §12): a member's death and the heir's claim to BPJS.

A verifier records the death (date, place, death certificate number, who reported it): the
registration becomes `died` (*meninggal*), every card of the member is revoked with reason
`meninggal` (devices pull the revocation), and the claim opens. Then, in order: the claimant
(one of the registered heirs, or another person with the verifier's written reason), the
checklist of the documents the branch asks for (programme configuration), submission to BPJS
(date, the branch's reference), payment (date, amount: the JKM benefit of the configuration,
Rp42,000,000, unless BPJS paid another amount) and hand-over to the claimant. Each step is an
event every device pulls. A death is recorded once; a member recorded as dead is never funded,
carded, reprinted or exported as active (server/office.py `refuse_if_dead`, and the `died`
status itself).

The event reasons devices pull say what happened and when, not the certificate number, the
place or the claimant's name: those stay on the server (GET /registrations/{id}/claim).
"""

from __future__ import annotations

import json
from datetime import date

from server import office, rules
from server import registrations as regs
from server.auth import Device
from server.decisions import add_event, decide
from server.errors import ApiError
from server.store import Store
from storage.models import HEIR_RELATIONSHIPS, Status
from storage.vocabulary import CLAIM_STAGE_LABELS, REASON_DIED, show_date

RECORDED, CLAIMANT, SUBMITTED, PAID, HANDED_OVER = (
    "death_recorded", "claimant_chosen", "submitted", "paid", "handed_over")
MIN_REASON = 10  # a written reason for a claimant who is not a registered heir
_COLUMNS = ("record_id", "died_on", "death_place", "certificate_no", "reported_by",
            "recorded_at", "claimant_name", "claimant_relationship", "claimant_heir",
            "claimant_reason", "documents", "submitted_on", "submission_ref", "paid_on",
            "amount", "handed_over_on", "handed_to", "stage", "updated_at")


def _refuse(code: str, message: str, status: int = 409) -> ApiError:
    return ApiError(status, code, message)


def _fetch(db, record_id: str) -> dict | None:
    row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM claims WHERE record_id = ?",
                     [record_id]).fetchone()
    if row is None:
        return None
    claim = dict(zip(_COLUMNS, row, strict=True))
    claim["documents"] = json.loads(claim["documents"])
    return claim


def claim_view(db, record_id: str) -> dict | None:
    """The claim with its checklist spelled out (every configured document, checked or not)."""
    claim = _fetch(db, record_id)
    if claim is None:
        return None
    checked = claim["documents"]
    claim["checklist"] = [{"code": d.code, "label": d.label, "checked": bool(checked.get(d.code))}
                          for d in office.office_config().claim_documents]
    claim["stage_label"] = CLAIM_STAGE_LABELS.get(claim["stage"], claim["stage"])
    claim["jkm_benefit_rupiah"] = office.office_config().jkm_benefit_rupiah
    return claim


def get_claim(store: Store, record_id: str) -> dict:
    db = store.reader()
    if regs.fetch_row(db, record_id) is None:
        raise _refuse("not_found", "Pendaftaran ini tidak ada di server.", 404)
    claim = claim_view(db, record_id)
    if claim is None:
        raise _refuse("claim.not_found", "Belum ada kematian yang tercatat untuk peserta ini.",
                      404)
    return claim


def _not_future(day: date, what: str) -> None:
    if day > rules.server_today():
        raise _refuse("claim.bad_date", f"Tanggal {what} tidak boleh sesudah hari ini.", 422)


def _not_before(day: date, earliest: str | None, what: str, than: str) -> None:
    if earliest and day < date.fromisoformat(earliest[:10]):
        raise _refuse("claim.bad_date", f"Tanggal {what} tidak boleh sebelum {than}.", 422)


def record_death(store: Store, device: Device, record_id: str, revision: int, died_on: date,
                 place: str, certificate_no: str, reported_by: str, operator: dict) -> None:
    _not_future(died_on, "meninggal")

    def apply(db, row, now):
        known = db.execute("SELECT died_on FROM claims WHERE record_id = ?",
                           [record_id]).fetchone()
        if known is not None:
            raise _refuse("death.already_recorded",
                          f"Kematian peserta ini sudah tercatat (meninggal {known[0]}); tidak "
                          "dapat dicatat dua kali.")
        if row["status"] in (Status.REJECTED.value, Status.INACTIVE.value):
            raise _refuse("decision.not_allowed",
                          f"Pendaftaran berstatus '{row['status']}' bukan peserta aktif; "
                          "kematiannya tidak dicatat di sini.")
        _not_before(died_on, row["birth_date"], "meninggal", "tanggal lahir")
        db.execute(
            "INSERT INTO claims (record_id, died_on, death_place, certificate_no, reported_by, "
            "recorded_at, stage, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            [record_id, died_on.isoformat(), place, certificate_no, reported_by, now, RECORDED,
             now],
        )
        reason = f"Meninggal dunia {show_date(died_on)}"
        regs.touch(db, record_id, now, status=Status.DIED.value, reason_code=REASON_DIED,
                   status_reason=reason)
        revoked = office.revoke_cards(db, record_id, now, REASON_DIED)
        add_event(db, record_id, "death_recorded", device, operator, now, REASON_DIED,
                  reason + (f"; {revoked} kartu dicabut" if revoked else ""))

    decide(store, record_id, revision, apply)


def _step(store: Store, record_id: str, apply_claim) -> None:
    """Run a claim step on an open claim of a member who was funded."""
    def apply(db, row, now):
        claim = _fetch(db, record_id)
        if claim is None:
            raise _refuse("claim.not_found",
                          "Catat dulu kematian peserta ini sebelum mengurus klaim JKM.", 404)
        if not row["member_number"]:
            raise _refuse("claim.not_member",
                          "Almarhum/almarhumah belum didanai sebagai peserta; tidak ada klaim "
                          "JKM yang dapat diajukan.")
        apply_claim(db, row, claim, now)

    decide(store, record_id, None, apply)


def _update(db, record_id: str, now: str, **changes) -> None:
    changes["updated_at"] = now
    sets = ", ".join(f"{k} = ?" for k in changes)
    db.execute(f"UPDATE claims SET {sets} WHERE record_id = ?", [*changes.values(), record_id])


def choose_claimant(store: Store, device: Device, record_id: str, heir_position: int | None,
                    name: str, relationship: str, reason: str, operator: dict) -> None:
    def apply(db, row, claim, now):
        if claim["stage"] not in (RECORDED, CLAIMANT):
            raise _refuse("claim.not_allowed",
                          "Klaim sudah diajukan ke BPJS; penerima klaim tidak dapat diganti.")
        heirs = json.loads(row["data"]).get("heirs") or []
        if heir_position is not None:
            if not 0 <= heir_position < len(heirs):
                raise _refuse("claim.bad_heir", "Ahli waris yang dipilih tidak terdaftar.", 422)
            heir = heirs[heir_position]
            chosen = (heir.get("name", ""), heir.get("relationship", ""), heir_position, "")
            text = f"ahli waris terdaftar ke-{heir_position + 1}"
        else:
            if len(" ".join(reason.split())) < MIN_REASON:
                raise _refuse(
                    "claim.reason_required",
                    "Penerima klaim yang bukan ahli waris terdaftar memerlukan alasan tertulis "
                    f"dari verifikator (paling sedikit {MIN_REASON} huruf).", 422)
            if not name.strip() or relationship not in HEIR_RELATIONSHIPS:
                raise _refuse("claim.bad_claimant",
                              "Isi nama dan hubungan keluarga penerima klaim.", 422)
            chosen = (" ".join(name.split()), relationship, None, " ".join(reason.split()))
            text = "bukan ahli waris terdaftar, dengan alasan tertulis"
        _update(db, record_id, now, claimant_name=chosen[0], claimant_relationship=chosen[1],
                claimant_heir=chosen[2], claimant_reason=chosen[3], stage=CLAIMANT)
        add_event(db, record_id, "claim_claimant", device, operator, now,
                  reason=f"Penerima klaim: {text}")

    _step(store, record_id, apply)


def check_documents(store: Store, device: Device, record_id: str, documents: dict[str, bool],
                    operator: dict) -> None:
    known = {d.code for d in office.office_config().claim_documents}
    unknown = sorted(set(documents) - known)
    if unknown:
        raise _refuse("claim.bad_document", f"Dokumen tidak dikenal: {', '.join(unknown)}.", 422)

    def apply(db, row, claim, now):
        if claim["stage"] not in (RECORDED, CLAIMANT):
            raise _refuse("claim.not_allowed", "Klaim sudah diajukan; daftar dokumen ditutup.")
        merged = {**claim["documents"], **{k: bool(v) for k, v in documents.items()}}
        _update(db, record_id, now, documents=json.dumps(merged, sort_keys=True))
        done = sum(1 for code in known if merged.get(code))
        add_event(db, record_id, "claim_documents", device, operator, now,
                  reason=f"{done} dari {len(known)} dokumen lengkap")

    _step(store, record_id, apply)


def submit(store: Store, device: Device, record_id: str, submitted_on: date, reference: str,
           operator: dict) -> None:
    _not_future(submitted_on, "pengajuan")

    def apply(db, row, claim, now):
        if claim["stage"] != CLAIMANT:
            raise _refuse("claim.not_allowed", "Pilih dulu penerima klaim sebelum mengajukan."
                          if claim["stage"] == RECORDED else "Klaim ini sudah diajukan.")
        missing = [d.label for d in office.office_config().claim_documents
                   if not claim["documents"].get(d.code)]
        if missing:
            raise _refuse("claim.incomplete",
                          "Dokumen belum lengkap: " + "; ".join(missing) + ".")
        _not_before(submitted_on, claim["died_on"], "pengajuan", "tanggal meninggal")
        _update(db, record_id, now, submitted_on=submitted_on.isoformat(),
                submission_ref=" ".join(reference.split()), stage=SUBMITTED)
        add_event(db, record_id, "claim_submitted", device, operator, now,
                  reason=f"Diajukan ke BPJS Ketenagakerjaan {show_date(submitted_on)}")

    _step(store, record_id, apply)


def paid(store: Store, device: Device, record_id: str, paid_on: date, amount: int | None,
         operator: dict) -> None:
    _not_future(paid_on, "pembayaran")
    amount = amount or office.office_config().jkm_benefit_rupiah

    def apply(db, row, claim, now):
        if claim["stage"] != SUBMITTED:
            raise _refuse("claim.not_allowed", "Klaim harus sudah diajukan sebelum dicatat dibayar."
                          if claim["stage"] in (RECORDED, CLAIMANT) else "Klaim ini sudah dibayar.")
        _not_before(paid_on, claim["submitted_on"], "pembayaran", "tanggal pengajuan")
        _update(db, record_id, now, paid_on=paid_on.isoformat(), amount=amount, stage=PAID)
        add_event(db, record_id, "claim_paid", device, operator, now,
                  reason=f"Dibayar BPJS {show_date(paid_on)}: Rp{amount:,}".replace(",", "."))

    _step(store, record_id, apply)


def handed_over(store: Store, device: Device, record_id: str, handed_over_on: date,
                received_by: str, operator: dict) -> None:
    _not_future(handed_over_on, "penyerahan")

    def apply(db, row, claim, now):
        if claim["stage"] != PAID:
            raise _refuse("claim.not_allowed", "Klaim harus sudah dibayar sebelum diserahkan."
                          if claim["stage"] != HANDED_OVER else "Klaim ini sudah diserahkan.")
        _not_before(handed_over_on, claim["paid_on"], "penyerahan", "tanggal pembayaran")
        _update(db, record_id, now, handed_over_on=handed_over_on.isoformat(),
                handed_to=" ".join(received_by.split()) or claim["claimant_name"],
                stage=HANDED_OVER)
        add_event(db, record_id, "claim_handed_over", device, operator, now,
                  reason=f"Santunan JKM diserahkan {show_date(handed_over_on)}")

    _step(store, record_id, apply)


def list_claims(store: Store, stage: str = "", limit: int = 200) -> list[dict]:
    """Open and closed claims, newest death first, with the member's name and number."""
    sql = ("SELECT c.record_id, c.died_on, c.stage, c.amount, c.paid_on, r.full_name, "
           "r.member_number FROM claims c JOIN registrations r ON r.id = c.record_id")
    rows = office.filtered_rows(store, sql, "c.stage", stage, "c.died_on DESC, c.record_id", limit)
    keys = ("record_id", "died_on", "stage", "amount", "paid_on", "full_name", "member_number")
    return [{**dict(zip(keys, r, strict=True)), "stage_label": CLAIM_STAGE_LABELS.get(r[2], r[2])}
            for r in rows]


def claims_summary(db, year: int | None = None) -> dict:
    """For the dashboard: deaths recorded, claims submitted, paid and handed over, and the
    money paid (rupiah), of deaths in `year` (every year when None). `db`: a reader."""
    where, args = "", []
    if year is not None:
        where, args = " WHERE substr(died_on, 1, 4) = ?", [f"{year:04d}"]
    row = db.execute(
        "SELECT count(*), "
        "COUNT(*) FILTER (WHERE stage IN ('submitted', 'paid', 'handed_over')), "
        "COUNT(*) FILTER (WHERE stage IN ('paid', 'handed_over')), "
        "COUNT(*) FILTER (WHERE stage = 'handed_over'), "
        f"coalesce(sum(CASE WHEN stage IN ('paid', 'handed_over') THEN amount END), 0) "
        f"FROM claims{where}", args,
    ).fetchone()
    return {"deaths": row[0], "submitted": row[1] or 0, "paid": row[2] or 0,
            "handed_over": row[3] or 0, "paid_rupiah": row[4]}
