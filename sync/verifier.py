"""Client functions for the verifier's endpoints (docs/SYNC_API.md §6) and the card desk's
requests (§7), on top of `sync.client.SyncClient`: its session, timeouts, retries and
error family.

Retrying a decision is safe: every decision carries the revision the verifier saw, so a request
repeated after a lost answer is refused as stale instead of being applied twice.

Refusals come out as `DecisionRefused` (with the server's stable `code` and an Indonesian
`message` for the person deciding); a revoked or unauthorised device as `CannotDecide`.

Every decision, card step and reprint names who did it: `operator` is the operator logged in on
the device (`storage.operators.Operator`, an `OperatorRef`, or a `{"username", "display_name"}`
dict). A plain text is taken as both parts (the command line names operators that way until it
logs them in); nothing is sent without one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sync.client import NotAuthorised, ProtocolError, SyncClient

_SERVER_PREFIX = "Server menolak permintaan: "

STALE_MESSAGE = (
    "Data pendaftaran ini sudah berubah sejak Anda membukanya (misalnya dikoreksi petugas "
    "pendata atau diputuskan verifikator lain). Keputusan Anda belum disimpan. Muat ulang "
    "datanya, periksa lagi, lalu putuskan."
)
REVOKED_MESSAGE = (
    "Akses perangkat ini ke server sudah dicabut atau tidak sah, sehingga tidak dapat membuat "
    "keputusan. Hubungi admin untuk kode pendaftaran perangkat yang baru."
)
NO_CORRECTION = "Tidak ada koreksi data yang menunggu verifikasi pada pendaftaran ini."
FORBIDDEN_MESSAGE = (
    "Peran perangkat ini tidak berwenang untuk tindakan ini (misalnya memverifikasi atau "
    "mendanai). Hubungi admin bila perangkat ini seharusnya dipakai verifikator."
)


class DecisionRefused(ProtocolError):
    """The server refused a request of the verifier (stale revision, quota full, not allowed in
    this status, not found…). `code` is the server's stable code."""

    @property
    def stale(self) -> bool:
        return self.code == "decision.stale_revision"

    @property
    def quota_full(self) -> bool:
        return self.code == "quota.full"


class CannotDecide(NotAuthorised):
    """The device may not decide: its token is revoked or unknown, or its role does not allow."""


OPERATOR_MISSING = (
    "Keputusan harus tercatat atas nama petugas yang sedang masuk. Masuk (login) dulu, lalu "
    "ulangi."
)


@dataclass(frozen=True)
class OperatorRef:
    """Who did it, as the server records it with the device."""

    username: str
    display_name: str


def operator_body(operator: Any) -> dict[str, str]:
    """`{"username", "display_name"}` for a request, trimmed to the API's limits; refuses
    (DecisionRefused, code `request.operator_missing`) when either part is empty."""
    if isinstance(operator, str):
        username = display_name = operator
    elif isinstance(operator, dict):
        username, display_name = operator.get("username"), operator.get("display_name")
    else:
        username = getattr(operator, "username", "")
        display_name = getattr(operator, "display_name", "")
    username = " ".join(str(username or "").split())[:64]
    display_name = " ".join(str(display_name or "").split())[:100]
    if not username or not display_name:
        raise DecisionRefused(OPERATOR_MISSING, detail="no operator",
                              code="request.operator_missing")
    return {"username": username, "display_name": display_name}


@dataclass(frozen=True)
class RegistrationQuery:
    """Filters of GET /registrations. Region filters are Kemendagri codes; empty means any."""

    kecamatan: str = ""
    kelurahan: str = ""
    cohort: str = ""
    occupation: str = ""
    event: str = ""
    status: str = ""
    possible_duplicate: bool | None = None
    conflict: bool | None = None
    q: str = ""
    correction_pending: bool | None = None  # True: corrections waiting for a verifier
    card_outdated: bool | None = None  # True: cards an approved correction made outdated

    def params(self) -> dict[str, str]:
        params = {k: v for k, v in self.__dict__.items() if isinstance(v, str) and v.strip()}
        for flag in ("possible_duplicate", "conflict", "correction_pending", "card_outdated"):
            value = getattr(self, flag)
            if value is not None:
                params[flag] = "true" if value else "false"
        return params


# --- reading ---------------------------------------------------------------------------------


def list_registrations(client: SyncClient, query: RegistrationQuery | None = None, *,
                       offset: int = 0, limit: int = 100) -> dict:
    """`{"total", "offset", "limit", "items": [Summary]}`; summaries carry the masked NIK only."""
    params: dict[str, Any] = (query or RegistrationQuery()).params()
    params.update(offset=max(0, offset), limit=min(max(1, limit), 500))
    return _call(client, "GET", "/registrations", params=params)


def registration_detail(client: SyncClient, registration_id: str) -> dict:
    """`{"registration": Detail, "duplicates": [Detail], "conflicts": [...], "events": [...]}`."""
    return _call(client, "GET", f"/registrations/{registration_id}")


def reasons(client: SyncClient) -> dict:
    """`{"reject": [{"code", "label"}], "reprint": [...]}`."""
    return _call(client, "GET", "/reasons")


def events(client: SyncClient) -> dict:
    """The kegiatan the server knows: `{"events": [{"id", "name", "held_on",
    "kelurahan_code"}]}`, the latest first."""
    return _call(client, "GET", "/events")


def quota(client: SyncClient, year: int | None = None) -> dict:
    """Places per cohort: `{"programme_year", "cohorts": [{"cohort", "label", "places",
    "funded", "left"}]}`."""
    return _call(client, "GET", "/quota", params={"year": year} if year else None)


# --- decisions (each answers the new Detail) -------------------------------------------------


def verify(client: SyncClient, registration_id: str, revision: int, *, operator: Any,
           note: str = "") -> dict:
    body = _body(revision, operator, note=note)
    return _call(client, "POST", f"/registrations/{registration_id}/verify", body=body)


def reject(client: SyncClient, registration_id: str, revision: int, reason_code: str, *,
           reason_text: str = "", operator: Any) -> dict:
    body = _body(revision, operator, reason_code=reason_code, reason_text=reason_text.strip())
    return _call(client, "POST", f"/registrations/{registration_id}/reject", body=body)


def fund(client: SyncClient, registration_id: str, revision: int, *,
         programme_year: int | None = None, operator: Any) -> dict:
    body = _body(revision, operator, programme_year=programme_year)
    return _call(client, "POST", f"/registrations/{registration_id}/fund", body=body)


def resolve_duplicate(client: SyncClient, registration_id: str, revision: int, keep_id: str, *,
                      operator: Any, note: str = "") -> dict:
    """Keep `keep_id` (this registration or one it duplicates); the others become rejected."""
    body = _body(revision, operator, keep_id=keep_id, note=note)
    return _call(client, "POST", f"/registrations/{registration_id}/resolve-duplicate",
                 body=body)


def resolve_conflict(client: SyncClient, registration_id: str, revision: int,
                     keep_version: int, *, keep_device_id: str = "", operator: Any) -> dict:
    """Keep one version (the current one, or a conflicting one sent by `keep_device_id`)."""
    body = _body(revision, operator, keep_version=keep_version, keep_device_id=keep_device_id)
    return _call(client, "POST", f"/registrations/{registration_id}/resolve-conflict",
                 body=body)


# --- corrections of decided registrations (§6) ------------------------------------------------


def list_corrections(client: SyncClient, query: RegistrationQuery | None = None, *,
                     offset: int = 0, limit: int = 100) -> dict:
    """The registrations whose correction waits for a verifier (other filters as `query`)."""
    wanted = dataclasses.replace(query or RegistrationQuery(), correction_pending=True)
    return list_registrations(client, wanted, offset=offset, limit=limit)


def correction_detail(client: SyncClient, registration_id: str) -> dict:
    """The current and the pending version side by side: `{"registration": Detail (current),
    "current": data, "pending": data, "changed": [field names], "version": the pending
    version, "revision"}`. DecisionRefused (`decision.not_allowed`) when none waits."""
    detail = registration_detail(client, registration_id)
    correction = detail.get("correction")
    if not correction:
        raise DecisionRefused(NO_CORRECTION, detail="no pending correction",
                              code="decision.not_allowed")
    row = detail["registration"]
    return {"registration": row, "current": row["data"], "pending": correction["data"],
            "changed": list(correction.get("changed") or []),
            "version": int(correction["version"]), "revision": int(row["revision"]),
            "events": detail.get("events", [])}


def approve_correction(client: SyncClient, registration_id: str, revision: int, version: int,
                       *, operator: Any, note: str = "") -> dict:
    """The pending `version` becomes current (409 `decision.stale_revision` when another
    correction replaced it or the registration changed since `revision`)."""
    body = _body(revision, operator, version=int(version), note=note.strip())
    return _call(client, "POST", f"/registrations/{registration_id}/correction/approve",
                 body=body)


def reject_correction(client: SyncClient, registration_id: str, revision: int, version: int,
                      reason_code: str, *, operator: Any, reason_text: str = "") -> dict:
    """The current version stays; the owner device sees `reason_text` (or the code's label)."""
    body = _body(revision, operator, version=int(version), reason_code=reason_code,
                 reason_text=reason_text.strip())
    return _call(client, "POST", f"/registrations/{registration_id}/correction/reject",
                 body=body)


# --- admin: moving a replaced laptop's registrations (§3) ------------------------------------


def transfer_records(client: SyncClient, from_device_id: str, to_device_id: str, *,
                     operator: Any) -> dict:
    """`{"transfer_id", "from_device_id", "to_device_id", "records", "at"}` (admin devices)."""
    body = {"from_device_id": from_device_id, "to_device_id": to_device_id,
            "operator": operator_body(operator)}
    return _call(client, "POST", "/devices/transfer-records", body=body)


# --- card desk steps (§7) --------------------------------------------------------------------


def card_printed(client: SyncClient, registration_id: str, card_version: int, *,
                 operator: Any) -> dict:
    body = _body(None, operator, card_version=card_version)
    return _call(client, "POST", f"/registrations/{registration_id}/card/printed", body=body)


def card_handed_over(client: SyncClient, registration_id: str, card_version: int,
                     received_by: str, *, operator: Any) -> dict:
    body = _body(None, operator, card_version=card_version, received_by=received_by)
    return _call(client, "POST", f"/registrations/{registration_id}/card/handed-over",
                 body=body)


def card_reprint(client: SyncClient, registration_id: str, reason_code: str, *,
                 card_version: int | None = None, revision: int | None = None,
                 reason_text: str = "", operator: Any, request_id: str = "") -> dict:
    """A new card version (earlier ones revoked), named by the card version being replaced
    (a card desk) or the registration's revision (a verifier); the Detail carries the new card.
    `request_id` (one per reprint asked, the same on every retry) lets the server answer a
    request repeated after a lost answer with the card it already made."""
    body = _body(revision, operator, card_version=card_version, reason_code=reason_code,
                 reason_text=reason_text.strip(), request_id=request_id)
    return _call(client, "POST", f"/registrations/{registration_id}/card/reprint", body=body)


# --- plumbing --------------------------------------------------------------------------------


def _body(revision: int | None, operator: Any, **fields: Any) -> dict:
    """A request body without empty optional fields (the API treats absent as default)."""
    body: dict[str, Any] = {} if revision is None else {"revision": int(revision)}
    body["operator"] = operator_body(operator)
    body.update({k: v for k, v in fields.items() if v not in (None, "")})
    return body


def _call(client: SyncClient, method: str, path: str, *, body: dict | None = None,
          params: dict | None = None) -> dict:
    try:
        return client.call(method, path, body, params)
    except NotAuthorised as exc:
        forbidden = exc.detail.startswith("403")
        raise CannotDecide(FORBIDDEN_MESSAGE if forbidden else REVOKED_MESSAGE,
                           detail=exc.detail) from exc
    except ProtocolError as exc:
        if not exc.status:  # an undecodable answer, not a refusal
            raise
        raise _refusal(exc) from exc


def _refusal(exc: ProtocolError) -> DecisionRefused:
    if exc.code == "decision.stale_revision":
        message = STALE_MESSAGE
    else:
        message = exc.message
        if message.startswith(_SERVER_PREFIX):
            message = message[len(_SERVER_PREFIX):]
    return DecisionRefused(message, detail=exc.detail, code=exc.code, status=exc.status,
                           details=exc.details)
