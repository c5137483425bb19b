"""Routes of the programme office (docs/SYNC_API.md §10–§13), for `verifier` and `admin`
devices: the collective registration file for BPJS, the KPJ answer file, the JKM death claim and
a person's PDP requests. The work is in server/bpjs_export.py, kpj.py, claims.py and pdp.py."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from server import bpjs_export, claims, kpj, office, pdp
from server.auth import require_role
from server.deps import DeviceDep, store_of
from server.errors import ApiError
from server.schemas import ERROR_RESPONSES, FilledText, OperatorField, Strict
from server.steps import RecordId, Step, step_route

OFFICE = ("verifier", "admin")
Text = Annotated[str, Field(max_length=200)]
PDF_TYPE = "application/pdf"


class ExportRequest(Strict):
    mode: Literal["full", "delta"] = "full"
    operator: OperatorField


class KpjImportRequest(Strict):
    file_name: FilledText
    content_base64: Annotated[str, Field(min_length=1, max_length=8_500_000)]
    operator: OperatorField


class DeathRequest(Strict):
    revision: Annotated[int, Field(ge=0)]
    died_on: date
    place: FilledText
    certificate_no: Annotated[str, Field(min_length=1, max_length=100)]
    reported_by: FilledText
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

    def answer(request: Request, record_id: str, device=None) -> dict:
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

    def claim_step(path: str):
        return step_route(router, f"/registrations/{{record_id}}/{path}", OFFICE, answer, **kw)

    @claim_step("death")
    def death(step: Step, body: DeathRequest):
        claims.record_death(*step.args, body.revision, body.died_on, body.place,
                            body.certificate_no, body.reported_by, step.operator)

    @claim_step("claim/claimant")
    def claimant(step: Step, body: ClaimantRequest):
        claims.choose_claimant(*step.args, body.heir_position, body.name, body.relationship,
                               body.reason, step.operator)

    @claim_step("claim/documents")
    def documents(step: Step, body: DocumentsRequest):
        claims.check_documents(*step.args, body.documents, step.operator)

    @claim_step("claim/submitted")
    def submitted(step: Step, body: SubmitRequest):
        claims.submit(*step.args, body.submitted_on, body.reference, step.operator)

    @claim_step("claim/paid")
    def paid(step: Step, body: PaidRequest):
        claims.paid(*step.args, body.paid_on, body.amount, step.operator)

    @claim_step("claim/handed-over")
    def handed_over(step: Step, body: HandedOverRequest):
        claims.handed_over(*step.args, body.handed_over_on, body.received_by, step.operator)


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

    def pdp_step(path: str):
        return step_route(router, f"/registrations/{{record_id}}/pdp/{path}", OFFICE, **kw)

    @pdp_step("withdraw")
    def withdraw(step: Step, body: WithdrawRequest) -> dict:
        pdp.withdraw(*step.args, body.revision, body.received_on, step.operator)
        return {"withdrawn": True, "ends_on": pdp.end_of_month(body.received_on).isoformat()}

    @pdp_step("erase")
    def erase(step: Step, body: OperatorOnly) -> dict:
        return {"tombstone": pdp.erase(*step.args, step.operator)}
