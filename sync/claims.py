"""Client functions of the programme office's endpoints (docs/SYNC_API.md §10–§13) for
verifier and admin devices: the collective registration file for BPJS, KPJ numbers back, the
JKM death claim and a person's PDP requests. Refusals come out as `sync.verifier.
DecisionRefused` with the server's code and Indonesian message, as for every decision.

Downloads (the XLSX file, the PDF copy) are sent once, without automatic retries: an export is
audited each time it is made, so a retry would record a second export.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import requests

from sync.client import API_PREFIX, Offline, ProtocolError, SyncClient
from sync.verifier import CannotDecide, DecisionRefused, _call, operator_body


@dataclass(frozen=True)
class Download:
    content: bytes
    headers: dict[str, str]

    @property
    def sha256(self) -> str:
        return self.headers.get("x-export-sha256", "")


def _download(client: SyncClient, path: str, body: dict) -> Download:
    headers = {"Content-Type": "application/json"}
    if client.token:
        headers["Authorization"] = f"Bearer {client.token}"
    try:
        response = client.session.post(client.base_url + API_PREFIX + path,
                                       data=json.dumps(body).encode("utf-8"), headers=headers,
                                       timeout=(10, 300))
    except requests.exceptions.RequestException as exc:
        raise Offline(detail=f"{type(exc).__name__} on {path}") from exc
    if response.status_code in (401, 403):
        raise CannotDecide(detail=f"{response.status_code} on {path}")
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            raise ProtocolError(detail=f"{response.status_code} on {path}") from None
        raise DecisionRefused(message, detail=f"{response.status_code} {code} on {path}",
                              code=code, status=response.status_code)
    return Download(response.content, {k.lower(): v for k, v in response.headers.items()})


# --- BPJS file and KPJ -------------------------------------------------------------------------


def bpjs_export(client: SyncClient, *, operator: Any, since_last: bool = False) -> Download:
    """The collective registration file (XLSX bytes); `sha256` is the one the audit holds."""
    body = {"mode": "delta" if since_last else "full", "operator": operator_body(operator)}
    return _download(client, "/office/bpjs-export", body)


def office_audit(client: SyncClient, action: str = "", limit: int = 50) -> list[dict]:
    """The office audit, newest first (exports, KPJ imports, PDP copies, erasures)."""
    params = {"limit": limit, **({"action": action} if action else {})}
    return _call(client, "GET", "/office/audit", params=params)["entries"]


def kpj_import(client: SyncClient, path: Path | str, *, operator: Any) -> dict:
    """Send BPJS's answer file: {"rows", "taken", "unchanged", "refused": [...]}."""
    path = Path(path)
    body = {"file_name": path.name[:200],
            "content_base64": base64.b64encode(path.read_bytes()).decode("ascii"),
            "operator": operator_body(operator)}
    return _call(client, "POST", "/office/kpj-import", body=body)


# --- the JKM death claim ----------------------------------------------------------------------


def claims(client: SyncClient, stage: str = "") -> dict:
    return _call(client, "GET", "/claims", params={"stage": stage} if stage else None)


def claim(client: SyncClient, registration_id: str) -> dict:
    return _call(client, "GET", f"/registrations/{registration_id}/claim")["claim"]


def record_death(client: SyncClient, registration_id: str, revision: int, *, died_on: date,
                 place: str, certificate_no: str, reported_by: str, operator: Any) -> dict:
    body = {"revision": int(revision), "died_on": died_on.isoformat(), "place": place,
            "certificate_no": certificate_no, "reported_by": reported_by,
            "operator": operator_body(operator)}
    return _call(client, "POST", f"/registrations/{registration_id}/death", body=body)["claim"]


def choose_claimant(client: SyncClient, registration_id: str, *, operator: Any,
                    heir_position: int | None = None, name: str = "", relationship: str = "",
                    reason: str = "") -> dict:
    body: dict = {"operator": operator_body(operator)}
    if heir_position is not None:
        body["heir_position"] = int(heir_position)
    else:
        body.update(name=name, relationship=relationship, reason=reason)
    return _step(client, registration_id, "claimant", body)


def check_documents(client: SyncClient, registration_id: str, documents: dict[str, bool], *,
                    operator: Any) -> dict:
    return _step(client, registration_id, "documents",
                 {"documents": documents, "operator": operator_body(operator)})


def submit_claim(client: SyncClient, registration_id: str, *, submitted_on: date,
                 reference: str, operator: Any) -> dict:
    return _step(client, registration_id, "submitted", {
        "submitted_on": submitted_on.isoformat(), "reference": reference,
        "operator": operator_body(operator)})


def claim_paid(client: SyncClient, registration_id: str, *, paid_on: date,
               amount: int | None = None, operator: Any) -> dict:
    body: dict = {"paid_on": paid_on.isoformat(), "operator": operator_body(operator)}
    if amount:
        body["amount"] = int(amount)
    return _step(client, registration_id, "paid", body)


def claim_handed_over(client: SyncClient, registration_id: str, *, handed_over_on: date,
                      received_by: str = "", operator: Any) -> dict:
    return _step(client, registration_id, "handed-over", {
        "handed_over_on": handed_over_on.isoformat(), "received_by": received_by,
        "operator": operator_body(operator)})


def _step(client: SyncClient, registration_id: str, step: str, body: dict) -> dict:
    return _call(client, "POST", f"/registrations/{registration_id}/claim/{step}",
                 body=body)["claim"]


# --- PDP --------------------------------------------------------------------------------------


def pdp_copy(client: SyncClient, registration_id: str, *, operator: Any) -> bytes:
    """The person's copy (PDF bytes): for the person; save it only where they asked."""
    return _download(client, f"/registrations/{registration_id}/pdp/copy",
                     {"operator": operator_body(operator)}).content


def withdraw_consent(client: SyncClient, registration_id: str, revision: int, *,
                     received_on: date, operator: Any) -> dict:
    body = {"revision": int(revision), "received_on": received_on.isoformat(),
            "operator": operator_body(operator)}
    return _call(client, "POST", f"/registrations/{registration_id}/pdp/withdraw", body=body)


def erase(client: SyncClient, registration_id: str, *, operator: Any) -> dict:
    return _call(client, "POST", f"/registrations/{registration_id}/pdp/erase",
                 body={"operator": operator_body(operator)})["tombstone"]
