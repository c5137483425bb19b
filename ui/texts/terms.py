"""The programme's words in the window: reasons, cohorts, statuses, relationships, sync
outcomes, claim stages, office steps and the fields of a registration.

Their Indonesian is the shared vocabulary's and the domain's own (storage/vocabulary.py,
storage/models.py, sync/state.py), so it is never written twice; only the English is kept
here. A word is read as `t("<kind>.<code>")` (for example `t("reject.duplicate")`,
`t("corr.field.phone")`) or through `term(kind, code)` in ui/labels.py.
"""

from __future__ import annotations

from cards.credential import VERDICT_TEXTS
from cards.validity import WARNING_TEXTS as VALIDITY_WARNINGS
from storage.csv_import import COLUMNS as IMPORT_COLUMNS
from storage.models import COHORT_LABELS, HEIR_RELATIONSHIPS, STATUS_LABELS
from storage.vocabulary import (
    CLAIM_STAGE_LABELS,
    FIELD_LABELS,
    OFFICE_STEP_LABELS,
    REJECT_REASONS,
    REPRINT_REASONS,
)
from sync.engine import SUMMARY_TEXTS
from sync.state import OUTCOME_LABELS

ENGLISH: dict[str, dict[str, str]] = {
    "reject": {
        "duplicate": "Registered twice (duplicate)",
        "not_eligible_age": "Age outside the programme's limits",
        "not_resident": "Not a resident / not living in this city",
        "already_covered": "Already a BPJS Ketenagakerjaan member",
        "income_not_eligible": "Income does not qualify",
        "wrong_data": "Data does not match the documents (KTP/KK)",
        "documents_incomplete": "Documents incomplete",
        "other": "Another reason",
    },
    "reprint": {
        "lost": "Card lost",
        "damaged": "Card damaged",
        "data_corrected": "Data corrected",
        "other": "Another reason",
    },
    "cohort": {
        "pekerja_rentan": "Vulnerable worker",
        "petugas_keagamaan": "Religious worker",
    },
    "status": {
        "registered": "Registered (on this device)",
        "received": "Received by the server",
        "verified": "Verified",
        "rejected": "Rejected",
        "funded": "Funded",
        "card_printed": "Card printed",
        "card_handed_over": "Card handed over",
        "died": "Died",
        "inactive": "Inactive",
    },
    "relationship": {
        "suami": "Husband",
        "istri": "Wife",
        "anak": "Child",
        "orang_tua": "Parent",
        "saudara_kandung": "Sibling",
        "lainnya": "Other",
    },
    "outcome": {
        "accepted": "Received by the server",
        "duplicate": "Duplicate NIK: already registered on the server",
        "rejected": "Rejected by the server: needs fixing",
        "conflict": "Conflict: this record was also changed elsewhere",
        "stale": "Old version: a newer version exists",
        "refused": "Rejected by the server: owned by another device",
        "correction_pending": "Correction waiting for verification",
        "correction_rejected": "Correction rejected by the verifier",
    },
    "corr.field": {
        "nik": "NIK", "full_name": "Full name", "birth_place": "Place of birth",
        "birth_date": "Date of birth", "sex": "Sex", "street": "Address", "rt": "RT", "rw": "RW",
        "kecamatan_code": "Kecamatan", "kelurahan_code": "Kelurahan", "postal_code": "Postal code",
        "phone": "Phone", "occupation_code": "Occupation", "cohort": "Cohort",
        "monthly_income": "Monthly income", "heirs": "Heirs", "consent_version": "Consent version",
        "consent_given": "Consent given", "consent_at": "Time of consent", "event_id": "Event",
        "notes": "Notes", "photo": "Photo",
    },
    "claims.stage": {
        "death_recorded": "Death recorded", "claimant_chosen": "Claimant chosen",
        "submitted": "Sent to BPJS", "paid": "Paid by BPJS",
        "handed_over": "Handed over to the heirs",
    },
    "import_hint": {
        "nik": "16 digits as on the KTP", "nama_lengkap": "as on the KTP",
        "tanggal_lahir": "DD-MM-YYYY or YYYY-MM-DD; empty: from the NIK",
        "jenis_kelamin": "L or P; empty: from the NIK", "alamat": "street and number",
        "kecamatan": "Kemendagri code (15.71.01) or name",
        "kelurahan": "Kemendagri code (15.71.01.1001) or name",
        "kode_pos": "empty: from the region data", "no_hp": "08… or +62 8…",
        "pekerjaan": "code or name from the occupation list",
        "kelompok": "pekerja_rentan or petugas_keagamaan; empty: from the occupation",
        "penghasilan": "rupiah per month, dots allowed",
        "ahli_waris_hubungan": ", ".join(HEIR_RELATIONSHIPS),
        "persetujuan": "ya: the consent form is signed",
    },
    "sync_report": {
        "pushed": "Sent {pushed} records: {accepted} accepted, {duplicates} duplicate NIK, "
                  "{rejected} rejected, {conflicts} conflicts.",
        "pulled": "Received from the server: {pulled} changes.",
        "refused": "{refused} records refused as another device's.",
        "corrections": "{corrections} corrections waiting for verification.",
        "card_steps": "Card steps sent: {card_steps}.",
        "remaining": "Still waiting to be sent: {remaining} records.",
        "cancelled": "Sync cancelled; no data was lost.",
    },
    "verdict": {
        "not_a_credential": "This is not a Jamsostek Kota Jambi member card code.",
        "damaged": "The card's code is damaged or was altered. This card can NOT be trusted.",
        "unknown_key": "The card was signed with a key this device does not know ({kid}). "
                       "Update the key list, then check again.",
        "bad_signature": "The card's signature is not valid: the card is forged or its data "
                         "was altered.",
        "revoked": "This card was revoked (serial {serial}, version {version}); a replacement "
                   "card exists. Do not accept it.",
        "expired": "The card's validity ended on {until}.",
        "not_yet": "The card is not valid yet; valid from {start}.",
        "valid": "Valid card. Valid {start} to {until}.",
    },
    "validity": {
        "expired": "This card's validity ended on {until}.",
        "short": "This card is valid for only {left} more days (until {until}), fewer than "
                 "{below} days.",
        "batch": "{short} of {total} cards are valid for fewer than {below} more days (the "
                 "earliest until {until}).",
    },
    "step": {
        "death_recorded": "Death recorded", "claim_claimant": "Claimant chosen",
        "claim_documents": "Claim documents checked", "claim_submitted": "Claim sent to BPJS",
        "claim_paid": "Claim paid by BPJS", "claim_handed_over": "Benefit handed over",
        "consent_withdrawn": "Consent withdrawn", "erased": "Personal data erased",
    },
}
INDONESIAN: dict[str, dict[str, str]] = {
    "reject": REJECT_REASONS,
    "reprint": REPRINT_REASONS,
    "cohort": {str(k): v for k, v in COHORT_LABELS.items()},
    "status": {str(k): v for k, v in STATUS_LABELS.items()},
    "relationship": HEIR_RELATIONSHIPS,
    "outcome": OUTCOME_LABELS,
    "corr.field": FIELD_LABELS,
    "claims.stage": CLAIM_STAGE_LABELS,
    "import_hint": {c.name: c.help for c in IMPORT_COLUMNS if c.help},  # what a column holds
    "sync_report": SUMMARY_TEXTS,
    "verdict": VERDICT_TEXTS,
    "validity": VALIDITY_WARNINGS,
    "step": OFFICE_STEP_LABELS,
}

TEXT: dict[str, tuple[str, str]] = {
    f"{kind}.{code}": (indonesian, ENGLISH[kind][code])
    for kind, table in INDONESIAN.items() for code, indonesian in table.items()
}
