"""The programme's shared words, each said once for the device and the server alike.

Reasons (reject, reprint, the death and withdrawal codes), the member-number format and its
cohort codes, the clock stamps and the date shown to people. The codes are the API's contract
(docs/SYNC_API.md) and never change; the Indonesian labels are what people read on the device,
on the server's dashboard and in the events every device pulls. The window translates them by
code through `ui/labels.py`, never by keeping its own Indonesian copy.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from storage.models import Cohort

# --- reasons -------------------------------------------------------------------------------

# Why a verifier rejects a registration or a correction (API §6, GET /reasons).
REJECT_REASONS = {
    "duplicate": "Terdaftar ganda (duplikat)",
    "not_eligible_age": "Usia di luar batas program",
    "not_resident": "Bukan penduduk / tidak berdomisili di kota ini",
    "already_covered": "Sudah menjadi peserta BPJS Ketenagakerjaan",
    "income_not_eligible": "Penghasilan tidak memenuhi syarat",
    "wrong_data": "Data tidak sesuai dokumen (KTP/KK)",
    "documents_incomplete": "Dokumen belum lengkap",
    "other": "Alasan lain",
}
# Why the card desk prints a card again (the old one is revoked).
REPRINT_REASONS = {
    "lost": "Kartu hilang",
    "damaged": "Kartu rusak",
    "data_corrected": "Data diperbaiki",
    "other": "Alasan lain",
}
# Reason codes of the programme office's steps (events, statuses and revocations).
REASON_DIED = "meninggal"
REASON_WITHDRAWN = "persetujuan_ditarik"
REASON_ERASED = "pdp_erasure"
# The programme office's steps as every device pulls them (event → label).
OFFICE_STEP_LABELS = {
    "death_recorded": "Kematian dicatat", "claim_claimant": "Penerima klaim dipilih",
    "claim_documents": "Dokumen klaim diperiksa", "claim_submitted": "Klaim diajukan ke BPJS",
    "claim_paid": "Klaim dibayar BPJS", "claim_handed_over": "Santunan diserahkan",
    "consent_withdrawn": "Persetujuan ditarik", "erased": "Data pribadi dihapus",
}

# Where a JKM claim stands (server/claims.py stages → label).
CLAIM_STAGE_LABELS = {
    "death_recorded": "Kematian tercatat", "claimant_chosen": "Penerima klaim dipilih",
    "submitted": "Diajukan ke BPJS", "paid": "Dibayar BPJS",
    "handed_over": "Diserahkan ke ahli waris",
}

# The fields of a registration (Registration.to_dict()) as people read them: the verifier's
# view of a correction, the reason "Diubah: …" the enumerator reads, the PDP copy.
FIELD_LABELS = {
    "nik": "NIK", "full_name": "Nama lengkap", "birth_place": "Tempat lahir",
    "birth_date": "Tanggal lahir", "sex": "Jenis kelamin", "street": "Alamat", "rt": "RT",
    "rw": "RW", "kecamatan_code": "Kecamatan", "kelurahan_code": "Kelurahan",
    "postal_code": "Kode pos", "phone": "Nomor HP", "occupation_code": "Pekerjaan",
    "cohort": "Kelompok", "monthly_income": "Penghasilan per bulan", "heirs": "Ahli waris",
    "consent_version": "Versi persetujuan", "consent_given": "Persetujuan diberikan",
    "consent_at": "Waktu persetujuan", "event_id": "Kegiatan", "notes": "Catatan",
    "photo": "Foto",
}


def field_names(fields: list[str]) -> str:
    """"nama lengkap, ahli waris": changed fields inside a sentence, each named once."""
    names: list[str] = []
    for field in fields:
        label = FIELD_LABELS.get(field, field)
        name = label if label[:2].isupper() else label[:1].lower() + label[1:]
        if name not in names:
            names.append(name)
    return ", ".join(names)


def rejection_reason(reason_code: str, reason_text: str) -> str:
    """What the enumerator reads: the reason's label, then the verifier's note as typed
    ("Data tidak sesuai dokumen (KTP/KK): Nomor RT salah"); the label alone without a note."""
    label = REJECT_REASONS.get(reason_code, reason_code)
    note = reason_text.strip()
    return f"{label}: {note}" if note and note != label else label


# --- member numbers ------------------------------------------------------------------------

MEMBER_CITY = "JMB"  # Kota Jambi in member numbers
MEMBER_COHORT_CODES = {Cohort.PEKERJA_RENTAN.value: "PR", Cohort.PETUGAS_KEAGAMAAN.value: "PK"}


def member_prefix(year: int, cohort: str) -> str:
    """"JMB-2026-PR-": the part of a member number before its sequence."""
    return f"{MEMBER_CITY}-{year}-{MEMBER_COHORT_CODES[cohort]}-"


def member_number(year: int, cohort: str, sequence: int) -> str:
    """"JMB-2026-PR-000123": the number the server gives a funded member (KeyError: a cohort
    without a code)."""
    return f"{member_prefix(year, cohort)}{sequence:06d}"


# --- time ----------------------------------------------------------------------------------

DATE_FORMAT = "%d-%m-%Y"  # 17-08-1985, everywhere a person reads a date
TIME_FORMAT = "%d-%m-%Y %H:%M"


def utc_now_iso(*, precise: bool = False) -> str:
    """Now in UTC as ISO text: to the second, or to the microsecond (`precise`, the server's
    stamps, which order events written in the same second)."""
    return utc_iso(datetime.now(UTC), precise=precise)


def utc_iso(moment: datetime, *, precise: bool = False) -> str:
    """A moment (with its zone) in UTC as ISO text, to the second unless `precise`."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds" if precise else "seconds")


def local_now_iso() -> str:
    """Now with this computer's offset, to the second: the device's own records, whose date
    part is the device's day (registered today, drafts)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def show_clock(moment: datetime) -> str:
    """13.05: a moment's local time of day, as Indonesian texts write it."""
    return moment.astimezone().strftime("%H.%M")


def show_date(value: Any) -> str:
    """A date (or the date part of an ISO text) as 17-08-1985; "" for nothing; a text that is
    not ISO as it came."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value.strftime(DATE_FORMAT)
