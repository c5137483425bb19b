"""Routes of the programme office (docs/SYNC_API.md §10–§13), for `verifier` and `admin`
devices: the collective registration file for BPJS, the KPJ answer file, the JKM death claim and
a person's PDP requests. The work is in server/bpjs_export.py, kpj.py, claims.py and pdp.py."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from server import bpjs_export, claims, kpj, office, pdp
from server.auth import require_role
from server.deps import DeviceDep, store_of
from server.errors import ApiError
from server.schemas import ERROR_RESPONSES, OperatorField, Strict

OFFICE = ("verifier", "admin")
RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Text = Annotated[str, Field(max_length=200)]
PDF_TYPE = "application/pdf"


class ExportRequest(Strict):
    mode: Literal["full", "delta"] = "full"
    operator: OperatorField


class KpjImportRequest(Strict):
    file_name: Annotated[str, Field(min_length=1, max_length=200)]
    content_base64: Annotated[str, Field(min_length=1, max_length=8_500_000)]
    operator: OperatorField


class DeathRequest(Strict):
    revision: Annotated[int, Field(ge=0)]
    died_on: date
    place: Annotated[str, Field(min_length=1, max_length=200)]
    certificate_no: Annotated[str, Field(min_length=1, max_length=100)]
    reported_by: Annotated[str, Field(min_length=1, max_length=200)]
    operator: OperatorField


class ClaimantRequest(Strict):
    heir_position: Annotated[int | None, Field(ge=0, le=9)] = None
    name: Text = ""
    relationship: Annotated[str, Field(max_length=40)] = ""
    reason: Annotated[str, Field(max_length=2000)] = ""
    operator: OperatorField


class DocumentsRequest(Strict):
    documents: Annotated[dict[Annotated[str, Field(max_length=40)], bool],
                         Field(max_length=30)]
    operator: OperatorField


class SubmitRequest(Strict):
    submitted_on: date
    reference: Annotated[str, Field(min_length=1, max_length=100)]
    operator: OperatorField


class PaidRequest(Strict):
    paid_on: date
    amount: Annotated[int | None, Field(ge=1, le=10**11)] = None
    operator: OperatorField


class HandedOverRequest(Strict):
    handed_over_on: date
    received_by: Text = ""
    operator: OperatorField


class WithdrawRequest(Strict):
    revision: Annotated[int, Field(ge=0)]
    received_on: date
    operator: OperatorField


class OperatorOnly(Strict):
    operator: OperatorField


def routes(router: APIRouter) -> None:
    _export_routes(router)
    _claim_routes(router)
    _pdp_routes(router)


def _export_routes(router: APIRouter) -> None:
    @router.post("/office/bpjs-export", responses={
        **ERROR_RESPONSES, 200: {"content": {bpjs_export.XLSX_TYPE: {}}}},
        response_class=Response, tags=["kantor program"])
    def export(body: ExportRequest, device: DeviceDep, request: Request) -> Response:
        """The collective registration file (XLSX): full, or the changes since the last one."""
        require_role(device, *OFFICE)
        data, info = bpjs_export.export(store_of(request), body.mode, device,
                                        body.operator.model_dump())
        name = f"bpjs-{info['mode']}-{info['at'][:10]}.xlsx"
        return Response(data, media_type=bpjs_export.XLSX_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Export-Id": info["export_id"], "X-Export-Rows": str(info["rows"]),
            "X-Export-Sha256": info["sha256"]})

    @router.get("/office/audit", responses=ERROR_RESPONSES, tags=["kantor program"])
    def office_audit(device: DeviceDep, request: Request,
                     action: Annotated[str, Query(max_length=40)] = "",
                     limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict:
        """The office audit, newest first: exports, KPJ imports, PDP copies, erasures."""
        require_role(device, *OFFICE)
        return {"entries": office.audit_entries(store_of(request), action or None, limit)}

    @router.post("/office/kpj-import", responses=ERROR_RESPONSES, tags=["kantor program"])
    def kpj_import(body: KpjImportRequest, device: DeviceDep, request: Request) -> dict:
        """BPJS's answer file (XLSX or CSV, base64): KPJ numbers by NIK or member number."""
        require_role(device, *OFFICE)
        try:
            raw = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(422, "request.invalid", "Isi berkas bukan base64 yang sah.") from exc
        return kpj.import_kpj(store_of(request), raw, body.file_name, device,
                              body.operator.model_dump())


def _claim_routes(router: APIRouter) -> None:
    kw = {"responses": ERROR_RESPONSES, "tags": ["klaim JKM"]}

    def answer(request: Request, record_id: str) -> dict:
        return {"claim": claims.get_claim(store_of(request), record_id)}

    @router.get("/claims", **kw)
    def claim_list(device: DeviceDep, request: Request,
                   stage: Annotated[str, Query(max_length=40)] = "") -> dict:
        require_role(device, *OFFICE)
        return {"claims": claims.list_claims(store_of(request), stage),
                "summary": claims.claims_summary(store_of(request).reader())}

    @router.get("/registrations/{record_id}/claim", **kw)
    def claim(record_id: RecordId, device: DeviceDep, request: Request) -> dict:
        require_role(device, *OFFICE)
        return answer(request, record_id)

    @router.post("/registrations/{record_id}/death", **kw)
    def death(record_id: RecordId, body: DeathRequest, device: DeviceDep, request: Request):
        require_role(device, *OFFICE)
        claims.record_death(store_of(request), device, record_id, body.revision, body.died_on,
                            body.place, body.certificate_no, body.reported_by,
                            body.operator.model_dump())
        return answer(request, record_id)

    @router.post("/registrations/{record_id}/claim/claimant", **kw)
    def claimant(record_id: RecordId, body: ClaimantRequest, device: DeviceDep,
                 request: Request):
        require_role(device, *OFFICE)
        claims.choose_claimant(store_of(request), device, record_id, body.heir_position,
                               body.name, body.relationship, body.reason,
                               body.operator.model_dump())
        return answer(request, record_id)

    @router.post("/registrations/{record_id}/claim/documents", **kw)
    def documents(record_id: RecordId, body: DocumentsRequest, device: DeviceDep,
                  request: Request):
        require_role(device, *OFFICE)
        claims.check_documents(store_of(request), device, record_id, body.documents,
                               body.operator.model_dump())
        return answer(request, record_id)

    @router.post("/registrations/{record_id}/claim/submitted", **kw)
    def submitted(record_id: RecordId, body: SubmitRequest, device: DeviceDep,
                  request: Request):
        require_role(device, *OFFICE)
        claims.submit(store_of(request), device, record_id, body.submitted_on, body.reference,
                      body.operator.model_dump())
        return answer(request, record_id)

    @router.post("/registrations/{record_id}/claim/paid", **kw)
    def paid(record_id: RecordId, body: PaidRequest, device: DeviceDep, request: Request):
        require_role(device, *OFFICE)
        claims.paid(store_of(request), device, record_id, body.paid_on, body.amount,
                    body.operator.model_dump())
        return answer(request, record_id)

    @router.post("/registrations/{record_id}/claim/handed-over", **kw)
    def handed_over(record_id: RecordId, body: HandedOverRequest, device: DeviceDep,
                    request: Request):
        require_role(device, *OFFICE)
        claims.handed_over(store_of(request), device, record_id, body.handed_over_on,
                           body.received_by, body.operator.model_dump())
        return answer(request, record_id)


def _pdp_routes(router: APIRouter) -> None:
    kw = {"responses": ERROR_RESPONSES, "tags": ["PDP"]}

    @router.post("/registrations/{record_id}/pdp/copy", response_class=Response, responses={
        **ERROR_RESPONSES, 200: {"content": {PDF_TYPE: {}}}}, tags=["PDP"])
    def copy(record_id: RecordId, body: OperatorOnly, device: DeviceDep, request: Request):
        """A copy of everything held about the person (PDF), for the person."""
        require_role(device, *OFFICE)
        data = pdp.copy_pdf(store_of(request), device, record_id, body.operator.model_dump())
        return Response(data, media_type=PDF_TYPE, headers={
            "Content-Disposition": 'attachment; filename="salinan-data-pribadi.pdf"'})

    @router.post("/registrations/{record_id}/pdp/withdraw", **kw)
    def withdraw(record_id: RecordId, body: WithdrawRequest, device: DeviceDep,
                 request: Request) -> dict:
        require_role(device, *OFFICE)
        pdp.withdraw(store_of(request), device, record_id, body.revision, body.received_on,
                     body.operator.model_dump())
        return {"withdrawn": True, "ends_on": pdp.end_of_month(body.received_on).isoformat()}

    @router.post("/registrations/{record_id}/pdp/erase", **kw)
    def erase(record_id: RecordId, body: OperatorOnly, device: DeviceDep,
              request: Request) -> dict:
        require_role(device, *OFFICE)
        return {"tombstone": pdp.erase(store_of(request), device, record_id,
                                       body.operator.model_dump())}
