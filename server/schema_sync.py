"""Bodies of the device endpoints (docs/SYNC_API.md §2–§5): health, keys, enrolment, device
transfer, push and pull."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from server.schema_base import (
    ISO_DATE,
    MAX_RECORDS_PER_BATCH,
    FilledText,
    Id,
    Lenient,
    Operator,
    OperatorField,
    Role,
    Short,
    Strict,
    Text,
)

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
    name: FilledText
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
