"""Bodies of the verifier's and the card desk's endpoints (docs/SYNC_API.md §6–§7): decisions,
corrections, card steps and reprints, the registration's detail and lists, kegiatan and quotas."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.schema_base import FilledText, Id, OperatorField, Revision, Strict, Text

# The codes of storage/vocabulary.py's REJECT_REASONS and REPRINT_REASONS (the API's contract;
# tests/test_vocabulary.py holds them equal).
RejectCode = Literal[
    "duplicate", "not_eligible_age", "not_resident", "already_covered", "income_not_eligible",
    "wrong_data", "documents_incomplete", "other",
]
ReprintCode = Literal["lost", "damaged", "data_corrected", "other"]

CardVersion = Annotated[int, Field(ge=1, le=255)]  # the version of a member's card


class Reason(BaseModel):
    code: str
    label: str


class Reasons(BaseModel):
    reject: list[Reason]
    reprint: list[Reason]


class VerifyRequest(Strict):
    revision: Revision
    operator: OperatorField
    note: Text = ""


class RejectRequest(Strict):
    revision: Revision
    reason_code: RejectCode
    reason_text: Text = ""
    operator: OperatorField


class FundRequest(Strict):
    revision: Revision
    programme_year: Annotated[int | None, Field(ge=2000, le=2100)] = None
    operator: OperatorField


class ResolveDuplicateRequest(Strict):
    revision: Revision
    keep_id: Id
    operator: OperatorField
    note: Text = ""


class ResolveConflictRequest(Strict):
    revision: Revision
    keep_version: Annotated[int, Field(ge=1, le=2**31)]
    keep_device_id: Annotated[str, Field(max_length=64)] = ""
    operator: OperatorField


PendingVersion = Annotated[int, Field(
    ge=1, le=2**31, description="The pending correction's version the verifier saw; 409 "
                                "decision.stale_revision when another correction replaced it.")]


class ApproveCorrectionRequest(Strict):
    revision: Revision
    version: PendingVersion
    operator: OperatorField
    note: Text = ""


class RejectCorrectionRequest(Strict):
    revision: Revision
    version: PendingVersion
    reason_code: RejectCode
    reason_text: Text = ""
    operator: OperatorField


class CardPrintedRequest(Strict):
    card_version: CardVersion
    operator: OperatorField


class CardHandedOverRequest(Strict):
    card_version: CardVersion
    received_by: FilledText
    operator: OperatorField


class ReprintRequest(Strict):
    """Identified by `revision` (the registration's revision the person saw) or by
    `card_version` (the card version being replaced, which a card desk holds); at least one."""

    # The rule "at least one of them, not null" in the published schema too, so that a request
    # built from the schema alone is not refused with 422 (a model validator is invisible there).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["revision"], "properties": {"revision": {"type": "integer"}}},
        {"required": ["card_version"], "properties": {"card_version": {"type": "integer"}}},
    ]})

    revision: Annotated[Revision | None, Field(
        description="The registration's revision the person saw; 409 decision.stale_revision "
                    "when it changed since.")] = None
    card_version: Annotated[int | None, Field(
        ge=1, le=255, description="The card version being replaced (the desk's current card); "
                                  "409 card.not_current when it is no longer the current card."
    )] = None
    reason_code: ReprintCode
    reason_text: Text = ""
    operator: OperatorField
    request_id: Annotated[Id | None, Field(
        description="Made by the client (a UUID), one per reprint the person asks for, and sent "
                    "again unchanged on retries: a request repeated with the same id is not "
                    "applied again and answers 200 with the current Detail; the same id with "
                    "another request (e.g. another registration) gets 409 request.id_reused. "
                    "Scoped to the device.")] = None

    @model_validator(mode="after")
    def _identified(self) -> ReprintRequest:
        if self.revision is None and self.card_version is None:
            raise ValueError("isi revision atau card_version")
        return self


class Summary(BaseModel):
    id: str
    nik_masked: str
    full_name: str
    birth_date: str | None
    kecamatan_code: str
    kelurahan_code: str
    occupation_code: str
    cohort: str
    event_id: str | None
    event_name: str = ""  # "" when the server does not know the kegiatan
    status: str
    reason_code: str
    status_reason: str
    member_number: str
    possible_duplicate: bool
    duplicate_of: str | None
    conflict: bool
    correction_pending: bool = False  # a correction waits for a verifier (§6)
    card_outdated: bool = False  # an approved correction changed what the card prints
    version: int
    revision: int
    received_at: str


class CardInfo(BaseModel):
    serial: int
    card_version: int
    qr: str
    valid_from: str
    valid_until: str
    printed_at: str | None
    handed_over_at: str | None


class Detail(Summary):
    data: dict[str, Any]
    device_id: str
    programme_year: int | None
    programme_start: str | None
    programme_end: str | None
    card: CardInfo | None


class PendingCorrection(BaseModel):
    version: int
    device_id: str
    received_at: str
    data: dict[str, Any]
    changed: list[str]  # Registration.to_dict() keys whose values differ from the current data


class ConflictVersion(BaseModel):
    version: int
    device_id: str
    received_at: str
    data: dict[str, Any]


class EventOperator(BaseModel):
    username: str
    display_name: str


class EventInfo(BaseModel):
    event: str
    at: str
    by: str
    reason_code: str
    reason: str
    operator: EventOperator | None = None  # None on events from before operators were sent
    device_id: str = ""  # "" for the server's own admin command line
    version: int | None = None  # the correction's version, on correction events


class DetailResponse(BaseModel):
    registration: Detail
    duplicates: list[Detail]
    conflicts: list[ConflictVersion]
    correction: PendingCorrection | None = None
    events: list[EventInfo]


class RegistrationList(BaseModel):
    total: int  # exact when `total_exact`; else at least this many (server/verifier.py)
    total_exact: bool = True
    offset: int
    limit: int
    items: list[Summary]


class Kegiatan(BaseModel):
    id: str
    name: str
    held_on: str | None
    kelurahan_code: str


class KegiatanList(BaseModel):
    events: list[Kegiatan]


class CohortQuota(BaseModel):
    cohort: str
    label: str
    places: int
    funded: int
    left: int
    shared: bool  # one total for every cohort of the year; `left` is what remains of it


class QuotaSetting(Strict):
    programme_year: Annotated[int, Field(ge=2000, le=2100)]
    cohort: Literal["pekerja_rentan", "petugas_keagamaan", ""]  # "": one total for every cohort
    places: Annotated[int, Field(ge=0, le=10_000_000)]


class QuotaResponse(BaseModel):
    programme_year: int
    cohorts: list[CohortQuota]
