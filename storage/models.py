"""Typed records of the domain. Plain dataclasses: the storage layer, validation, sync payloads and
the window all speak these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum


class Sex(StrEnum):
    MALE = "L"  # laki-laki
    FEMALE = "P"  # perempuan


class Cohort(StrEnum):
    PEKERJA_RENTAN = "pekerja_rentan"
    PETUGAS_KEAGAMAAN = "petugas_keagamaan"


COHORT_LABELS = {
    Cohort.PEKERJA_RENTAN: "Pekerja rentan",
    Cohort.PETUGAS_KEAGAMAAN: "Petugas keagamaan",
}


class Status(StrEnum):
    """Where a registration stands in its life (DESIGN.md §3)."""

    REGISTERED = "registered"  # saved on the device
    RECEIVED = "received"  # the server has it
    VERIFIED = "verified"
    REJECTED = "rejected"
    FUNDED = "funded"
    CARD_PRINTED = "card_printed"
    CARD_HANDED_OVER = "card_handed_over"
    DIED = "died"
    INACTIVE = "inactive"


STATUS_LABELS = {
    Status.REGISTERED: "Terdaftar (di perangkat)",
    Status.RECEIVED: "Diterima server",
    Status.VERIFIED: "Terverifikasi",
    Status.REJECTED: "Ditolak",
    Status.FUNDED: "Didanai",
    Status.CARD_PRINTED: "Kartu dicetak",
    Status.CARD_HANDED_OVER: "Kartu diserahkan",
    Status.DIED: "Meninggal",
    Status.INACTIVE: "Tidak aktif",
}


HEIR_RELATIONSHIPS = {
    "suami": "Suami",
    "istri": "Istri",
    "anak": "Anak",
    "orang_tua": "Orang tua",
    "saudara_kandung": "Saudara kandung",
    "lainnya": "Lainnya",
}


@dataclass
class Heir:
    """Ahli waris: receives the JKM benefit when the worker dies."""

    name: str
    relationship: str  # a key of HEIR_RELATIONSHIPS
    phone: str = ""
    nik: str = ""  # optional


@dataclass
class Registration:
    """One worker's registration, as the operator entered it, plus its metadata.

    Region fields hold Kemendagri codes with dots ("15.71.01", "15.71.01.1001"), never BPS codes.
    """

    nik: str
    full_name: str
    birth_place: str = ""
    birth_date: date | None = None
    sex: str = ""  # Sex value
    street: str = ""
    rt: str = ""
    rw: str = ""
    kecamatan_code: str = ""
    kelurahan_code: str = ""
    postal_code: str = ""
    phone: str = ""
    occupation_code: str = ""
    cohort: str = Cohort.PEKERJA_RENTAN.value
    monthly_income: int | None = None  # declared, rupiah; sets the JKK tier
    heirs: list[Heir] = field(default_factory=list)
    consent_version: str = ""
    consent_given: bool = False
    event_id: str | None = None
    notes: str = ""
    # Metadata. id and version are set by the registry on save.
    id: str = ""
    version: int = 0
    status: str = Status.REGISTERED.value
    status_reason: str = ""
    member_number: str = ""
    device_id: str = ""
    operator: str = ""
    consent_at: str = ""  # ISO timestamp, device clock
    created_at: str = ""  # device clock, informative only
    updated_at: str = ""  # device clock, informative only

    def to_dict(self) -> dict:
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Registration:
        data = dict(data)
        known = set(cls.__dataclass_fields__)
        data = {k: v for k, v in data.items() if k in known}
        if isinstance(data.get("birth_date"), str) and data["birth_date"]:
            data["birth_date"] = date.fromisoformat(data["birth_date"])
        data["heirs"] = [h if isinstance(h, Heir) else Heir(**h) for h in data.get("heirs") or []]
        return cls(**data)


@dataclass
class Issue:
    """One finding of validation. Errors block the save; warnings must be confirmed by the
    operator (their code goes into `confirmed_warnings` of the save)."""

    field: str  # Registration field name, or "heirs[0].name", or "" for the whole record
    code: str  # stable machine code, e.g. "nik.length", "nik.dob_mismatch", "duplicate.nik"
    message: str  # Indonesian, shown to the operator


@dataclass
class ValidationResult:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def unconfirmed(self, confirmed: set[str] | frozenset[str]) -> list[Issue]:
        return [w for w in self.warnings if w.code not in confirmed]


@dataclass
class Event:
    """Kegiatan: the kampung event where registrations are made."""

    id: str
    name: str
    held_on: date | None = None
    kelurahan_code: str = ""


@dataclass
class Occupation:
    code: str
    name: str
    is_transport: bool = False  # PP 50/2025 discount periods differ for transport workers
    active: bool = True


def mask_nik(nik: str) -> str:
    """157109******9902: enough to recognise a person, not enough to misuse the number."""
    digits = "".join(ch for ch in nik if ch.isdigit())
    if len(digits) != 16:
        return "*" * len(digits)
    return digits[:6] + "*" * 6 + digits[12:]
