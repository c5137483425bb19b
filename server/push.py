"""POST /sync/push: a batch of record versions answered one by one (docs/SYNC_API.md §4).

The record rules run before the write lock is taken (they need no database); the answers are
decided and written inside one transaction, so a batch is stored whole or not at all, and the
stored answer makes a repeated batch change nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from dataclasses import dataclass, field

from server import registrations as regs
from server import rules
from server.auth import Device
from server.decisions import add_event
from server.errors import ApiError
from server.office import ENDED_STATUSES
from server.schemas import KegiatanData, PushRecord, PushRequest
from server.store import Store
from storage.models import Issue, Registration
from storage.nik import strip_separators
from storage.vocabulary import utc_now_iso

SERVER_OWNED = ("status", "status_reason", "member_number")
NOT_OWNER = Issue(
    "", "record.not_owner",
    "Pendaftaran ini milik perangkat lain, sehingga perubahan dari perangkat ini tidak disimpan. "
    "Bila perangkat pemiliknya diganti, mintalah admin memindahkan pendaftarannya ke perangkat "
    "ini.",
)
ERASED = Issue(
    "", "record.erased",
    "Data pribadi orang ini sudah dihapus atas permintaannya (UU 27/2022); versi baru tidak "
    "disimpan. Bila orang itu mendaftar lagi, buat pendaftaran baru.",
)
# Batches are checked and stored one at a time: ten devices pushing at once then get their
# answers in turn instead of all of them late, and the threads do not fight over the GIL.
_SLOTS = threading.BoundedSemaphore(1)


def canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Prepared:
    """One pushed record after the checks that need no database."""

    rec: PushRecord
    data: dict
    text: str  # canonical JSON of `data`: hashed, and stored as it is
    content_hash: str
    reg: Registration | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def base_version(self) -> int:
        base = self.rec.base_version
        return self.rec.version - 1 if base is None else base


def _issue_dicts(issues: list[Issue]) -> list[dict]:
    return [{"field": i.field, "code": i.code, "message": i.message} for i in issues]


def prepare(rec: PushRecord) -> Prepared:
    data = rec.data.model_dump()
    for name in SERVER_OWNED:
        data.pop(name, None)
    text = canonical(data)
    prepared = Prepared(rec, data, text, sha256(text))
    if data["id"] != rec.record_id or data["version"] != rec.version:
        prepared.errors.append(Issue(
            "id", "record.id_mismatch",
            "Nomor atau versi rekaman tidak sama dengan isi datanya; kirim ulang dari aplikasi.",
        ))
        return prepared
    try:
        prepared.reg = Registration.from_dict(data)
    except (TypeError, ValueError):
        prepared.errors.append(Issue(
            "birth_date", "birth_date.invalid", "Tanggal lahir tidak sah (format TTTT-BB-HH)."
        ))
        return prepared
    result = rules.validate(prepared.reg)
    prepared.errors += result.errors
    prepared.warnings += result.warnings
    return prepared


def _result(p: Prepared, outcome: str, row: dict | None, duplicate_of=None,
            errors=()) -> dict:
    return {
        "record_id": p.rec.record_id, "version": p.rec.version, "outcome": outcome,
        "server_version": row["version"] if row else None,
        "status": row["status"] if row else None,
        "duplicate_of": duplicate_of,
        "errors": _issue_dicts(list(errors)), "warnings": _issue_dicts(p.warnings),
    }


class BatchWriter:
    """Applies the rules of §4 to each record, inside the caller's transaction."""

    def __init__(self, db, store: Store, device: Device, batch_id: str,
                 prepared: list[Prepared]):
        self.db, self.store, self.device, self.batch_id = db, store, device, batch_id
        self.now = utc_now_iso(precise=True)
        self._prefetch(prepared)

    def _prefetch(self, prepared: list[Prepared]) -> None:
        """Three queries for the whole batch instead of several per record: which records and
        versions the server has, and which of the batch's NIKs it already knows."""
        ids = sorted({p.rec.record_id for p in prepared})
        marks = ",".join("?" * len(ids))
        self.existing = {r[0] for r in self.db.execute(
            f"SELECT id FROM registrations WHERE id IN ({marks})", ids)}
        self.answered: dict[tuple[str, int], list[tuple]] = {}
        for rid, version, *answer in self.db.execute(
            "SELECT record_id, version, content_hash, outcome, duplicate_of FROM versions "
            f"WHERE record_id IN ({marks})", ids,
        ):
            self.answered.setdefault((rid, version), []).append(tuple(answer))
        niks = sorted({normalized_nik(p.reg.nik) for p in prepared if p.reg is not None})
        self.known_niks = {r[0] for r in self.db.execute(
            f"SELECT DISTINCT nik FROM registrations WHERE nik IN ({','.join('?' * len(niks))})",
            niks,
        )}

    def apply(self, p: Prepared) -> dict:
        rid, version = p.rec.record_id, p.rec.version
        stored = self.answered.get((rid, version), [])
        row = regs.fetch_row(self.db, rid) if rid in self.existing else None
        same = [s for s in stored if s[0] == p.content_hash]
        if same:  # rule 1: this very version was answered before
            return _result(p, same[0][1], row, same[0][2])
        if row is not None and row["device_id"] != self.device.id:  # rule 2: not its owner
            return _result(p, "refused", None, errors=[NOT_OWNER])
        if row is not None and '"erased":true' in row["data"]:  # erased (server/pdp.py)
            return _result(p, "refused", None, errors=[ERASED])
        if p.errors:  # rule 3
            return _result(p, "rejected", row, errors=p.errors)
        if row is None:  # rule 4
            nik = normalized_nik(p.reg.nik)
            row = regs.insert_new(self.db, self.store, p.reg, p.text, self.device.id,
                                  self.now, nik_taken=nik in self.known_niks)
            self.known_niks.add(nik)
            self.existing.add(rid)
            return self._stored(p, row)
        current = row["version"]
        if version <= current:  # rules 5 and 6
            outcome = "conflict" if stored or version == current else "stale"
            if outcome == "conflict":
                row = regs.flag_conflict(self.db, self.store, row, self.now)
            self._keep_version(p, outcome, None)
            return _result(p, outcome, row)
        if p.base_version < current:  # rule 7
            row = regs.flag_conflict(self.db, self.store, row, self.now)
            self._keep_version(p, "conflict", None)
            return _result(p, "conflict", row)
        # Rule 8: a correction waits for a verifier; so does one of a member who died or
        # withdrew (server/office.py): their heirs decide a JKM claim.
        if row["status"] in regs.DECIDED or row["status"] in ENDED_STATUSES:
            row = regs.hold_correction(self.db, row, p.text, version, self.device.id, self.now)
            add_event(self.db, rid, "correction_pending", self.device,
                      {"username": "", "display_name": p.reg.operator}, self.now,
                      reason=", ".join(regs.changed_fields(json.loads(row["data"]), p.data)),
                      version=version)
            self._keep_version(p, "correction_pending", None)
            return _result(p, "correction_pending", row)
        row = regs.update_version(self.db, self.store, row, p.reg, p.text, self.now)  # rule 9
        self.known_niks.add(normalized_nik(p.reg.nik))
        return self._stored(p, row)

    def _stored(self, p: Prepared, row: dict) -> dict:
        outcome = "duplicate" if row["duplicate_of"] else "accepted"
        self._keep_version(p, outcome, row["duplicate_of"])
        return _result(p, outcome, row, row["duplicate_of"])

    def _keep_version(self, p: Prepared, outcome: str, duplicate_of: str | None) -> None:
        self.db.execute(
            "INSERT INTO versions (record_id, version, content_hash, base_version, device_id, "
            "outcome, duplicate_of, data, batch_id, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [p.rec.record_id, p.rec.version, p.content_hash, p.base_version, self.device.id,
             outcome, duplicate_of, p.text, self.batch_id, self.now],
        )
        self.answered.setdefault((p.rec.record_id, p.rec.version), []).append(
            (p.content_hash, outcome, duplicate_of))
        self.db.execute(
            "INSERT INTO pushed (device_id, record_id, first_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [self.device.id, p.rec.record_id, self.now],
        )


def _check_device(device: Device, req: PushRequest) -> None:
    wrong = req.device_id != device.id or any(
        r.data.device_id != device.id for r in req.records
    )
    if wrong:
        raise ApiError(
            403, "auth.device_mismatch",
            "Perangkat hanya boleh mengirim data atas namanya sendiri (device_id tidak cocok "
            "dengan token).",
        )


def _cached(db, device: Device, batch_id: str, body_hash: str) -> dict | None:
    row = db.execute(
        "SELECT body_hash, response FROM batches WHERE device_id = ? AND batch_id = ?",
        [device.id, batch_id],
    ).fetchone()
    if row is None:
        return None
    if row[0] != body_hash:
        raise ApiError(
            409, "batch.id_reused",
            "Nomor kelompok kiriman (batch_id) ini sudah dipakai untuk isi yang lain.",
        )
    return {**json.loads(row[1]), "replayed": True}


def _batch_hash(req: PushRequest, prepared: list[Prepared]) -> str:
    """What makes two sends the same batch: its records' ids, versions and contents."""
    return sha256(canonical([req.batch_id, req.device_id, [
        [p.rec.record_id, p.rec.version, p.rec.base_version, p.content_hash] for p in prepared
    ]]))


def _locks(device: Device, prepared: list[Prepared]) -> list[str]:
    """What a batch waits for on PostgreSQL: its device's earlier batch (a replay must see it),
    another batch with one of its NIKs (one of two new same-NIK records is the duplicate), and
    a decision on one of its records."""
    niks = {normalized_nik(p.reg.nik) for p in prepared if p.reg is not None}
    return [f"device:{device.id}", *(f"nik:{n}" for n in niks),
            *(f"record:{p.rec.record_id}" for p in prepared)]


def push(store: Store, device: Device, req: PushRequest) -> dict:
    _check_device(device, req)
    # SQLite has one writer: batches take turns. PostgreSQL's writers run side by side.
    with contextlib.nullcontext() if store.is_postgresql else _SLOTS:
        prepared = [prepare(rec) for rec in req.records]
        body_hash = _batch_hash(req, prepared)
        with store.write() as db:
            Store.lock(db, _locks(device, prepared))
            cached = _cached(db, device, req.batch_id, body_hash)
            # Stored even when the batch is a repeat: it may be a batch first sent by an older
            # client without them (storing the same kegiatan again changes nothing).
            store_kegiatan(db, device, req.events)
            if cached is not None:
                return cached
            writer = BatchWriter(db, store, device, req.batch_id, prepared)
            results = [writer.apply(p) for p in prepared]
            response = {"batch_id": req.batch_id, "replayed": False,
                        "server_time": writer.now, "results": results}
            db.execute(
                "INSERT INTO batches (device_id, batch_id, body_hash, response, received_at) "
                "VALUES (?,?,?,?,?)",
                [device.id, req.batch_id, body_hash, canonical(response), writer.now],
            )
    return response


def store_kegiatan(db, device: Device, events: list[KegiatanData]) -> None:
    """Upsert the kegiatan a batch names, by their device-made ids (globally unique). Only the
    device that first sent a kegiatan may change it: another device that learnt it in pull and
    sends it back (without its date or kelurahan) leaves it as it is."""
    if not events:
        return
    now = utc_now_iso(precise=True)
    db.executemany(
        "INSERT INTO kegiatan (id, name, held_on, kelurahan_code, device_id, received_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "name = excluded.name, held_on = excluded.held_on, "
        "kelurahan_code = excluded.kelurahan_code, updated_at = excluded.updated_at "
        "WHERE kegiatan.device_id = excluded.device_id AND (kegiatan.name != excluded.name "
        "OR kegiatan.held_on IS DISTINCT FROM excluded.held_on "
        "OR kegiatan.kelurahan_code != excluded.kelurahan_code)",
        [(e.id, e.name, e.held_on, e.kelurahan_code, device.id, now, now) for e in events],
    )


def normalized_nik(nik: str) -> str:
    return strip_separators(nik or "")
