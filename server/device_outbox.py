"""What each device last said was waiting in its outbox (sent as `pending` with a pull).

The server cannot see a device's outbox; the device tells it on every sync. The dashboard then
says how many registrations wait on devices that have been silent since (server/dashboard/
queries.py `freshness`). One row per device, the last report replacing the one before.
"""

from __future__ import annotations

from server.auth import Device
from server.store import Store
from storage.vocabulary import utc_now_iso

MAX_PENDING = 10_000_000  # far above any device's outbox; bounds what a client can claim


def remember(store: Store, device: Device, pending: int) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO device_outbox (device_id, pending, at) VALUES (?, ?, ?) "
            "ON CONFLICT(device_id) DO UPDATE SET pending = excluded.pending, at = excluded.at",
            [device.id, pending, utc_now_iso(precise=True)])


def reported(db) -> dict[str, tuple[int, str]]:
    """{device id: (pending, when reported)} from a reader."""
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT device_id, pending, at FROM device_outbox").fetchall()}
