"""Request and response bodies of the sync API (docs/SYNC_API.md), with their size limits.

The schema checks shapes and sizes only. The record rules (NIK, regions, ages) are not here:
a record that breaks them is answered `rejected` with field errors, one record at a time, so that
one bad record never refuses a whole batch.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_RECORDS_PER_BATCH = 500
ROLES = ("enumerator", "verifier", "card_desk", "admin")
Role = Literal["enumerator", "verifier", "card_desk", "admin"]

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Short = Annotated[str, Field(max_length=100)]
Text = Annotated[str, Field(max_length=2000)]
Operator = Annotated[str, Field(max_length=100)]  # the registration data's free `operator` text
Revision = Annotated[int, Field(ge=0, le=2**31)]
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _no_lone_surrogates(value: Any) -> Any:
    """A lone UTF-16 surrogate ("\\ud800") parses as JSON but cannot be stored as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("teks berisi karakter yang tidak sah") from exc
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _text_is_utf8(cls, value: Any) -> Any:
        return _no_lone_surrogates(value)


class Lenient(Strict):
    # Record data may gain fields in a later app version (models.py is append-only).
    model_config = ConfigDict(extra="ignore")


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorInfo


# Every refusal an endpoint may give, for the OpenAPI document.
ERROR_RESPONSES = {status: {"model": ErrorBody}
                   for status in (400, 401, 403, 404, 409, 413, 415, 422, 503)}


NOT_BLANK = r"[^\s\x1c-\x1f]"


class OperatorInfo(Strict):
    """Who did it: the operator logged in on the device (storage.operators), both parts required
    and non-empty after trimming."""

    # The pattern (one character that is not white space to Python's str.split) puts the
    # "not blank" rule into the published schema too, so a schema-valid request is not a 422.
    username: Annotated[str, Field(min_length=1, max_length=64, pattern=NOT_BLANK)]
    display_name: Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK)]

    @field_validator("username", "display_name", mode="after")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("tidak boleh kosong")
        return value


OperatorField = Annotated[OperatorInfo, Field(
    description="The operator logged in on the device; a decision, card step or reprint "
                "without one gets 422 request.invalid (loc [\"body\", \"operator\"]).")]


# --- health, keys, devices ------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]
    api_version: int
    server_time: str


class PublicKey(BaseModel):
    key_id: str
    public_key_pem: str


class Keys(BaseModel):
    keys: list[PublicKey]


class EnrolRequest(Strict):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    device_name: Annotated[str, Field(min_length=1, max_length=100)]
    # The device's own id for this enrolment: a retry with it gets the same answer (§3).
    request_id: Annotated[str | None, Field(min_length=16, max_length=64)] = None


class DeviceInfo(BaseModel):
    device_id: str
    device_name: str
    role: Role
    nik_hash_key_id: str
    nik_hash_key: str


class EnrolResponse(DeviceInfo):
    token: str


class TransferRequest(Strict):
    from_device_id: Id
    to_device_id: Id
    operator: OperatorField


class TransferResponse(BaseModel):
    transfer_id: str
    from_device_id: str
    to_device_id: str
    records: int
    at: str


# --- push -------------------------------------------------------------------------------------


class HeirData(Lenient):
    name: Annotated[str, Field(max_length=200)] = ""
    relationship: Annotated[str, Field(max_length=40)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    nik: Annotated[str, Field(max_length=40)] = ""


class RegistrationData(Lenient):
    """`storage.models.Registration.to_dict()`, with generous size limits."""

    nik: Annotated[str, Field(max_length=40)] = ""
    full_name: Annotated[str, Field(max_length=200)] = ""
    birth_place: Short = ""
    birth_date: Annotated[str | None, Field(max_length=40)] = None
    sex: Annotated[str, Field(max_length=10)] = ""
    street: Annotated[str, Field(max_length=300)] = ""
    rt: Annotated[str, Field(max_length=10)] = ""
    rw: Annotated[str, Field(max_length=10)] = ""
    kecamatan_code: Annotated[str, Field(max_length=40)] = ""
    kelurahan_code: Annotated[str, Field(max_length=40)] = ""
    postal_code: Annotated[str, Field(max_length=10)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    occupation_code: Annotated[str, Field(max_length=60)] = ""
    cohort: Annotated[str, Field(max_length=40)] = ""
    monthly_income: Annotated[int | None, Field(ge=0, le=10**12)] = None
    heirs: Annotated[list[HeirData], Field(max_length=10)] = []
    consent_version: Annotated[str, Field(max_length=60)] = ""
    consent_given: bool = False
    event_id: Annotated[str | None, Field(max_length=64)] = None
    notes: Text = ""
    id: Annotated[str, Field(max_length=64)] = ""
    version: Annotated[int, Field(ge=0, le=2**31)] = 0
    status: Annotated[str, Field(max_length=40)] = ""
    status_reason: Text = ""
    member_number: Annotated[str, Field(max_length=40)] = ""
    device_id: Annotated[str, Field(max_length=64)] = ""
    operator: Operator = ""
    consent_at: Annotated[str, Field(max_length=40)] = ""
    created_at: Annotated[str, Field(max_length=40)] = ""
    updated_at: Annotated[str, Field(max_length=40)] = ""


class PushRecord(Strict):
    record_id: Id
    version: Annotated[int, Field(ge=1, le=2**31)]
    base_version: Annotated[int | None, Field(ge=0, le=2**31)] = None
    data: RegistrationData


class KegiatanData(Strict):
    """A kegiatan (registration drive) the batch's records refer to, as the device made it."""

    id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    held_on: Annotated[str | None, Field(max_length=10, pattern=ISO_DATE)] = None
    kelurahan_code: Annotated[str, Field(max_length=40)] = ""


class PushRequest(Strict):
    batch_id: Id
    device_id: Id
    records: Annotated[list[PushRecord], Field(min_length=1)]
    # Optional: a client that sends none still works; the server then has no name for them.
    events: Annotated[list[KegiatanData], Field(max_length=MAX_RECORDS_PER_BATCH)] = []


class FieldIssue(BaseModel):
    field: str
    code: str
    message: str


Outcome = Literal["accepted", "duplicate", "rejected", "conflict", "stale", "refused",
                  "correction_pending"]


class PushResult(BaseModel):
    record_id: str
    version: int
    outcome: Outcome
    server_version: int | None = None
    status: str | None = None
    duplicate_of: str | None = None
    errors: list[FieldIssue] = []
    warnings: list[FieldIssue] = []


class PushResponse(BaseModel):
    batch_id: str
    replayed: bool
    server_time: str
    results: list[PushResult]


# --- pull -------------------------------------------------------------------------------------


class PullChange(BaseModel):
    """One item of the change feed. Fields whose value is the default are left out."""

    seq: int
    kind: str
    id: str = ""
    nik_hash: str = ""
    status: str = ""
    version: int = 0
    revision: int = 0
    status_reason: str = ""
    reason_code: str = ""
    member_number: str = ""
    programme_year: int | None = None
    possible_duplicate: bool = False
    duplicate_of: str | None = None
    conflict: bool = False
    correction_pending: bool = False
    pending_version: int = 0
    seen_version: int = 0
    card_outdated: bool = False
    event: str = ""
    at: str = ""
    by: str = ""
    reason: str = ""
    operator_username: str = ""
    operator_name: str = ""
    device_id: str = ""
    name: str = ""
    cohort: str = ""
    serial: int = 0
    card_version: int = 0
    valid_from: str = ""
    valid_until: str = ""
    key_id: str = ""
    qr: str = ""
    # The card holder, on credential items (masked NIK only).
    full_name: str = ""
    nik_masked: str = ""
    occupation_code: str = ""
    kecamatan_code: str = ""
    kelurahan_code: str = ""
    event_id: str = ""
    event_name: str = ""
    # Transfer items (to the two devices only; `data` only to the new owner).
    from_device_id: str = ""
    to_device_id: str = ""
    data: dict[str, Any] | None = None
    # KPJ items (server/kpj.py): BPJS's membership number and the start of cover.
    kpj: str = ""
    start_date: str = ""


class PullResponse(BaseModel):
    cursor: int
    next_cursor: int
    has_more: bool
    server_time: str
    changes: list[PullChange]


# --- verifier and card desk ------------------------------------------------------------------

# The codes of storage/vocabulary.py's REJECT_REASONS and REPRINT_REASONS (the API's contract;
# tests/test_vocabulary.py holds them equal).
RejectCode = Literal[
    "duplicate", "not_eligible_age", "not_resident", "already_covered", "income_not_eligible",
    "wrong_data", "documents_incomplete", "other",
]
ReprintCode = Literal["lost", "damaged", "data_corrected", "other"]


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
    card_version: Annotated[int, Field(ge=1, le=255)]
    operator: OperatorField


class CardHandedOverRequest(Strict):
    card_version: Annotated[int, Field(ge=1, le=255)]
    received_by: Annotated[str, Field(min_length=1, max_length=200)]
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
    total: int
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
