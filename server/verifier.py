"""Routes of the verifier's window and the card desk (docs/SYNC_API.md §6–§7), and the reads
they need: the filtered list (masked NIK) and one registration with what it may duplicate."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request

from server import corrections, decisions, transfers
from server import registrations as regs
from server.auth import require_role
from server.deps import DeviceDep, store_of
from server.errors import ApiError
from server.holdings import remember_seen
from server.rules import server_today
from server.schemas import (
    ERROR_RESPONSES,
    ApproveCorrectionRequest,
    CardHandedOverRequest,
    CardPrintedRequest,
    DetailResponse,
    FundRequest,
    KegiatanList,
    QuotaResponse,
    QuotaSetting,
    Reasons,
    RegistrationList,
    RejectCorrectionRequest,
    RejectRequest,
    ReprintRequest,
    ResolveConflictRequest,
    ResolveDuplicateRequest,
    VerifyRequest,
)
from server.steps import RecordId, Step, step_route
from server.store import Store
from storage.models import mask_nik
from storage.vocabulary import REJECT_REASONS, REPRINT_REASONS

DECIDERS = ("verifier", "admin")
READERS = ("verifier", "admin", "card_desk")
CARD_DESK = ("card_desk", "admin")
_ERRORS = ERROR_RESPONSES
Text = Annotated[str, Query(max_length=100)]

FILTERS = {  # query parameter -> column
    "kecamatan": "kecamatan_code", "kelurahan": "kelurahan_code", "cohort": "cohort",
    "occupation": "occupation_code", "event": "event_id", "status": "status",
}


def event_names(db, event_ids) -> dict[str, str]:
    """{event id: name} of the kegiatan among `event_ids` that the server knows."""
    ids = sorted({i for i in event_ids if i})
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return dict(db.execute(f"SELECT id, name FROM kegiatan WHERE id IN ({marks})", ids))


def list_events(store: Store) -> dict:
    rows = store.reader().execute(
        "SELECT id, name, held_on, kelurahan_code FROM kegiatan "
        "ORDER BY held_on IS NULL, held_on DESC, name, id"
    ).fetchall()
    return {"events": [dict(zip(("id", "name", "held_on", "kelurahan_code"), r, strict=True))
                       for r in rows]}


def summary(row: dict, names: dict[str, str] | None = None) -> dict:
    keys = ("id", "full_name", "birth_date", "kecamatan_code", "kelurahan_code",
            "occupation_code", "cohort", "event_id", "status", "reason_code", "status_reason",
            "member_number", "duplicate_of", "version", "revision", "received_at")
    item = {k: row[k] for k in keys}
    item.update(nik_masked=mask_nik(row["nik"]), possible_duplicate=bool(row["possible_duplicate"]),
                conflict=bool(row["conflict"]),
                correction_pending=row["pending_version"] is not None,
                card_outdated=bool(row["card_outdated"]),
                event_name=(names or {}).get(row["event_id"] or "", ""))
    return item


def detail(db, row: dict, names: dict[str, str] | None = None) -> dict:
    card = decisions.current_card(db, row["id"])
    if names is None:
        names = event_names(db, [row["event_id"]])
    return {
        **summary(row, names), "data": json.loads(row["data"]), "device_id": row["device_id"],
        "programme_year": row["programme_year"], "programme_start": row["programme_start"],
        "programme_end": row["programme_end"], "card": card,
    }


COUNT_AHEAD = 10_000  # registrations counted past a list page before the total is "more than"


def list_registrations(store: Store, filters: dict, q: str, possible_duplicate: bool | None,
                       conflict: bool | None, offset: int, limit: int, *,
                       correction_pending: bool | None = None,
                       card_outdated: bool | None = None) -> dict:
    where, args = [], []
    for param, column in FILTERS.items():
        if filters.get(param):
            where.append(f"{column} = ?")
            args.append(filters[param])
    for column, value in (("possible_duplicate", possible_duplicate), ("conflict", conflict),
                          ("card_outdated", card_outdated)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(int(value))
    if correction_pending is not None:
        where.append(f"pending_version IS {'NOT ' if correction_pending else ''}NULL")
    if q.strip():
        escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("lower(full_name) LIKE lower(?) ESCAPE '\\'")
        args.append(f"%{escaped}%")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    db = store.reader()
    # Counted only so far past the page: counting 400,000 "received" of a province took longer
    # than the page itself. Beyond that the total is a lower bound (`total_exact` false).
    horizon = offset + limit + COUNT_AHEAD
    counted = db.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM registrations{clause} LIMIT ?) "
                         "AS ahead", [*args, horizon + 1]).fetchone()[0]
    # The page's arrival numbers first, from the filter's (column, arrival) index alone, then
    # those rows: a deep page no longer reads every row it skips from the table.
    rows = db.execute(
        f"SELECT {', '.join(regs.COLUMNS)} FROM registrations WHERE arrival IN "
        f"(SELECT arrival FROM registrations{clause} ORDER BY arrival LIMIT ? OFFSET ?) "
        "ORDER BY arrival", [*args, limit, offset],
    ).fetchall()
    found = [regs.as_row(r) for r in rows]
    names = event_names(db, [r["event_id"] for r in found])
    return {"total": min(counted, horizon), "total_exact": counted <= horizon,
            "offset": offset, "limit": limit, "items": [summary(r, names) for r in found]}


def registration_detail(store: Store, record_id: str) -> dict:
    db = store.reader()
    row = regs.fetch_row(db, record_id)
    if row is None:
        raise ApiError(404, "not_found", "Pendaftaran ini tidak ada di server.")
    others = db.execute(
        f"SELECT {', '.join(regs.COLUMNS)} FROM registrations WHERE nik = ? AND id != ? "
        "ORDER BY arrival", [row["nik"], record_id],
    ).fetchall() if row["nik"] else []
    conflicts = db.execute(
        "SELECT version, device_id, received_at, data FROM versions "
        "WHERE record_id = ? AND outcome = 'conflict' ORDER BY received_at", [record_id],
    ).fetchall()
    events = db.execute(
        "SELECT event, at, by, reason_code, reason, operator_username, operator, device_id, "
        "version FROM events WHERE record_id = ? ORDER BY seq", [record_id],
    ).fetchall()
    others = [regs.as_row(r) for r in others]
    names = event_names(db, [row["event_id"], *(r["event_id"] for r in others)])
    return {
        "registration": detail(db, row, names),
        "duplicates": [detail(db, r, names) for r in others],
        "conflicts": [{"version": v, "device_id": d, "received_at": at, "data": json.loads(data)}
                      for v, d, at, data in conflicts],
        "correction": corrections.pending(row),
        "events": [event_info(e) for e in events],
    }


def event_info(values) -> dict:
    event, at, by, reason_code, reason, username, name, device_id, version = values
    who = {"username": username, "display_name": name} if username else None
    return {"event": event, "at": at, "by": by, "reason_code": reason_code, "reason": reason,
            "operator": who, "device_id": device_id, "version": version}


def routes(router: APIRouter) -> None:
    def answer(request: Request, record_id: str, device) -> dict:
        body = registration_detail(store_of(request), record_id)
        shown = [record_id] + [d["id"] for d in body["duplicates"]]
        remember_seen(store_of(request), device.id, shown, "opened")
        return body

    @router.get("/reasons", response_model=Reasons, responses=_ERRORS, tags=["verifikasi"])
    def reasons(device: DeviceDep) -> dict:
        return {
            "reject": [{"code": c, "label": t} for c, t in REJECT_REASONS.items()],
            "reprint": [{"code": c, "label": t} for c, t in REPRINT_REASONS.items()],
        }

    @router.get("/events", response_model=KegiatanList, responses=_ERRORS, tags=["verifikasi"])
    def events(device: DeviceDep, request: Request) -> dict:
        """The kegiatan (registration drives) devices sent with their registrations."""
        return list_events(store_of(request))

    @router.get("/quota", response_model=QuotaResponse, responses=_ERRORS, tags=["verifikasi"])
    def quota(device: DeviceDep, request: Request,
              year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict:
        return decisions.quota_status(store_of(request), year or server_today().year)

    @router.put("/quota", response_model=QuotaResponse, responses=_ERRORS, tags=["verifikasi"])
    def set_quota(body: QuotaSetting, device: DeviceDep, request: Request) -> dict:
        require_role(device, "admin")
        decisions.set_quota(store_of(request), body.programme_year, body.cohort, body.places)
        return decisions.quota_status(store_of(request), body.programme_year)

    @router.get("/registrations", response_model=RegistrationList, responses=_ERRORS,
                tags=["verifikasi"])
    def registrations(
        device: DeviceDep, request: Request, kecamatan: Text = "", kelurahan: Text = "",
        cohort: Text = "", occupation: Text = "", event: Text = "", status: Text = "",
        possible_duplicate: bool | None = None, conflict: bool | None = None, q: Text = "",
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        correction_pending: bool | None = None, card_outdated: bool | None = None,
    ) -> dict:
        require_role(device, *READERS)
        filters = {"kecamatan": kecamatan, "kelurahan": kelurahan, "cohort": cohort,
                   "occupation": occupation, "event": event, "status": status}
        body = list_registrations(store_of(request), filters, q, possible_duplicate, conflict,
                                  offset, limit, correction_pending=correction_pending,
                                  card_outdated=card_outdated)
        remember_seen(store_of(request), device.id, [i["id"] for i in body["items"]], "listed")
        return body

    @router.get("/registrations/{record_id}", response_model=DetailResponse, responses=_ERRORS,
                tags=["verifikasi"])
    def registration(record_id: RecordId, device: DeviceDep, request: Request) -> dict:
        require_role(device, *READERS)
        return answer(request, record_id, device)

    _decision_routes(router, answer)
    _correction_routes(router, answer)
    _card_routes(router, answer)
    transfers.routes(router)


def _decision_routes(router: APIRouter, answer) -> None:
    kw = {"response_model": DetailResponse, "responses": _ERRORS, "tags": ["verifikasi"]}

    def decision(path: str):
        return step_route(router, f"/registrations/{{record_id}}/{path}", DECIDERS, answer, **kw)

    @decision("verify")
    def verify(step: Step, body: VerifyRequest):
        decisions.verify(*step.args, body.revision, step.operator, body.note)

    @decision("reject")
    def reject(step: Step, body: RejectRequest):
        decisions.reject(*step.args, body.revision, body.reason_code, body.reason_text,
                         step.operator)

    @decision("fund")
    def fund(step: Step, body: FundRequest):
        decisions.fund(step.store, step.request.app.state.signer, step.device, step.record_id,
                       body.revision, body.programme_year, step.operator)

    @decision("resolve-duplicate")
    def resolve_duplicate(step: Step, body: ResolveDuplicateRequest):
        decisions.resolve_duplicate(*step.args, body.revision, body.keep_id, step.operator,
                                    body.note)

    @decision("resolve-conflict")
    def resolve_conflict(step: Step, body: ResolveConflictRequest):
        decisions.resolve_conflict(*step.args, body.revision, body.keep_version,
                                   body.keep_device_id, step.operator)


def _correction_routes(router: APIRouter, answer) -> None:
    kw = {"response_model": DetailResponse, "responses": _ERRORS, "tags": ["verifikasi"]}

    def decision(path: str):
        return step_route(router, f"/registrations/{{record_id}}/correction/{path}", DECIDERS,
                          answer, **kw)

    @decision("approve")
    def approve(step: Step, body: ApproveCorrectionRequest):
        corrections.approve(*step.args, body.revision, body.version, step.operator, body.note)

    @decision("reject")
    def reject(step: Step, body: RejectCorrectionRequest):
        corrections.reject(*step.args, body.revision, body.version, body.reason_code,
                           body.reason_text, step.operator)


def _card_routes(router: APIRouter, answer) -> None:
    kw = {"response_model": DetailResponse, "responses": _ERRORS, "tags": ["kartu"]}

    def card_step(path: str):
        return step_route(router, f"/registrations/{{record_id}}/card/{path}", CARD_DESK, answer,
                          **kw)

    @card_step("printed")
    def printed(step: Step, body: CardPrintedRequest):
        decisions.card_printed(*step.args, body.card_version, step.operator)

    @card_step("handed-over")
    def handed_over(step: Step, body: CardHandedOverRequest):
        decisions.card_handed_over(*step.args, body.card_version, body.received_by, step.operator)

    @card_step("reprint")
    def reprint(step: Step, body: ReprintRequest):
        decisions.reprint(step.store, step.request.app.state.signer, step.device,
                          step.record_id, body.revision, body.reason_code, body.reason_text,
                          step.operator, card_version=body.card_version,
                          request_id=body.request_id)
