"""Moving a replaced laptop's registrations to its successor (docs/SYNC_API.md §3 "Transfer").

A registration belongs to the device that first sent it; only that device may send new versions
(push rule 2). When a laptop is replaced, an admin moves every registration it owns to the new
device in one transaction: each one gets a new owner, a `transferred` event (the audit, every
device pulls it) and a `transfer` item for the two devices, so the new one receives the full
current data and can correct it, and the old one knows the records are no longer its own.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from server import registrations as regs
from server.auth import Device, require_role
from server.decisions import add_event
from server.deps import DeviceDep, store_of
from server.errors import ApiError
from server.schemas import ERROR_RESPONSES, TransferRequest, TransferResponse
from server.store import Store
from storage.ids import new_id
from storage.vocabulary import utc_now_iso


def _device(db, device_id: str) -> dict | None:
    row = db.execute(
        "SELECT id, name, role, revoked_at FROM devices WHERE id = ?", [device_id]
    ).fetchone()
    return dict(zip(("id", "name", "role", "revoked_at"), row, strict=True)) if row else None


def _check(source: dict | None, target: dict | None, from_id: str, to_id: str) -> None:
    if source is None:
        raise ApiError(404, "device.not_found",
                       f"Perangkat asal {from_id} tidak dikenal server. Periksa nomornya "
                       "(python main.py server devices).")
    if target is None:
        raise ApiError(404, "device.not_found",
                       f"Perangkat tujuan {to_id} tidak dikenal server. Daftarkan dulu perangkat "
                       "baru itu, lalu pindahkan datanya.")
    if target["revoked_at"] is not None:
        raise ApiError(409, "device.revoked",
                       "Perangkat tujuan sudah dicabut aksesnya; data tidak dapat dipindahkan ke "
                       "sana.")
    if source["id"] == target["id"]:
        raise ApiError(409, "transfer.same_device",
                       "Perangkat asal dan tujuan sama; tidak ada yang dipindahkan.")


def transfer_records(store: Store, from_id: str, to_id: str, operator: dict,
                     by: Device | None = None) -> dict:
    """Move every registration `from_id` owns to `to_id` (an active device). The source may be
    revoked (a lost laptop is revoked first); an unknown device, a revoked target or the same
    device twice is refused and nothing changes. `by` is the admin device (None: the server's
    command line)."""
    with store.write() as db:
        # Neither device's batch may be half-way through meanwhile (server/push.py).
        Store.lock(db, [f"device:{from_id}", f"device:{to_id}"])
        source, target = _device(db, from_id), _device(db, to_id)
        _check(source, target, from_id, to_id)
        ids = [r[0] for r in db.execute(
            "SELECT id FROM registrations WHERE device_id = ? ORDER BY arrival", [from_id])]
        transfer_id, now = new_id(), utc_now_iso(precise=True)
        reason = f"Dipindahkan dari perangkat {source['name']} ke {target['name']}"
        for record_id in ids:
            regs.touch(db, record_id, now, device_id=to_id)
            add_event(db, record_id, "transferred", by, operator, now, reason=reason)
            (seq,) = Store.next_seqs(db, "transfer", [record_id])
            db.execute(
                "INSERT INTO transferred (seq, transfer_id, record_id, from_device_id, "
                "to_device_id, at) VALUES (?,?,?,?,?,?)",
                [seq, transfer_id, record_id, from_id, to_id, now],
            )
        db.execute(
            "INSERT INTO transfers (id, from_device_id, to_device_id, records, at, device_id, "
            "operator_username, operator) VALUES (?,?,?,?,?,?,?,?)",
            [transfer_id, from_id, to_id, len(ids), now, by.id if by else "",
             operator["username"], operator["display_name"]],
        )
    return {"transfer_id": transfer_id, "from_device_id": from_id, "to_device_id": to_id,
            "records": len(ids), "at": now}


def routes(router: APIRouter) -> None:
    """POST /devices/transfer-records (role `admin`)."""

    @router.post("/devices/transfer-records", response_model=TransferResponse,
                 responses=ERROR_RESPONSES, tags=["perangkat"])
    def transfer(body: TransferRequest, device: DeviceDep, request: Request) -> dict:
        require_role(device, "admin")
        return transfer_records(store_of(request), body.from_device_id, body.to_device_id,
                                body.operator.model_dump(), device)
