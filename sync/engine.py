"""One sync run: push the outbox, then pull what the server decided (DESIGN.md §5).

Push sends the outbox in batches; each batch has an id that is reused while the same batch is
retried, so a retry after a lost answer changes nothing on the server. The server answers per
record and each batch's answers are applied in one local transaction; an outbox entry leaves only
when the server has answered for it. Pull pages through the server's change feed from the saved
cursor; each page and its cursor are saved in one transaction, so a cut run resumes where it was.

`run_sync` runs on whatever thread calls it (the window uses a worker thread) and owns the
registry connection while it runs.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from storage.models import Status
from storage.vocabulary import utc_now_iso
from sync import apply, card_steps, state
from sync.client import (
    Cancelled,
    NotAuthorised,
    Offline,
    ProtocolError,
    ServerError,
    SyncClient,
    SyncError,
)
from sync.keys import trust_server_keys_of

if TYPE_CHECKING:
    from storage.registry import Registry

Progress = Callable[[int, int, str], None]
log = logging.getLogger(__name__)

PUSH = "push"
PULL = "pull"
DEFAULT_BATCH = 200
MAX_BATCH = 500  # the API's limit per push (docs/SYNC_API.md §4)
PULL_PAGE = 5000
# Whole-batch failures (after the client's own retries) tolerated in one run before giving up.
MAX_BATCH_FAILURES = 8
# The client already retried each with backoff: two unreachable batches in a row mean the
# network is gone, and smaller batches will not help.
MAX_OFFLINE_IN_A_ROW = 2
# The API's limits on a kegiatan sent with a batch (server/schemas.py KegiatanData).
KEGIATAN_NAME_MAX = 200
KEGIATAN_CODE_MAX = 40
_API_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")

# The sentences of a run's summary (SyncReport.summary), filled from the report's fields.
SUMMARY_TEXTS = {
    "pushed": "Terkirim {pushed} data: {accepted} diterima, {duplicates} NIK ganda, "
              "{rejected} ditolak, {conflicts} konflik.",
    "pulled": "Diterima dari server: {pulled} perubahan.",
    "refused": "{refused} data ditolak karena milik perangkat lain.",
    "corrections": "{corrections} koreksi menunggu verifikasi.",
    "card_steps": "Langkah kartu terkirim: {card_steps}.",
    "remaining": "Masih menunggu dikirim: {remaining} data.",
    "cancelled": "Sinkronisasi dibatalkan; tidak ada data yang hilang.",
}


@dataclass
class SyncReport:
    pushed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    conflicts: int = 0
    refused: int = 0
    corrections: int = 0
    pulled: int = 0
    card_steps: int = 0
    batches: int = 0
    failures: int = 0
    remaining: int = 0
    cancelled: bool = False
    finished_at: str = ""
    errors: list[str] = field(default_factory=list)

    def summary(self, texts: dict[str, str] = SUMMARY_TEXTS) -> str:
        """One paragraph for the command line and the window: Indonesian, or in the window's
        language when it passes its own `texts` (the same keys, ui/texts/terms.py)."""
        say = {key: text.format(**vars(self)) for key, text in texts.items()}
        parts = [say["pushed"], say["pulled"]]
        if self.refused:
            parts.insert(1, say["refused"])
        if self.corrections:
            parts.insert(1, say["corrections"])
        if self.card_steps:
            parts.append(say["card_steps"])
        if self.remaining:
            parts.append(say["remaining"])
        if self.cancelled:
            parts.append(say["cancelled"])
        return " ".join(parts)


def run_sync(
    registry: Registry,
    client: SyncClient,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> SyncReport:
    """Push then pull. Raises a SyncError when the server cannot be used (after retries);
    a cancelled run returns normally with `report.cancelled` set. Nothing is lost either way."""
    report = SyncReport()
    notify = progress or (lambda done, total, phase: None)
    try:
        _push(registry, client, report, notify, cancel)
        trust_server_keys_of(registry, client)
        report.card_steps = card_steps.push_card_steps(registry, client, cancel)
        _pull(registry, client, report, notify, cancel)
    except Cancelled:
        report.cancelled = True
    report.remaining = registry.outbox_count()
    if not report.cancelled:
        report.finished_at = utc_now_iso()
        state.save_setting(registry, "last_sync_at", report.finished_at)
    return report


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


# --- push ------------------------------------------------------------------------------------


def _configured_batch(registry: Registry) -> int:
    try:
        return min(MAX_BATCH, max(1, int(registry.get_setting("sync_batch_size") or DEFAULT_BATCH)))
    except (KeyError, TypeError, ValueError):
        return DEFAULT_BATCH


def _push(registry: Registry, client, report: SyncReport, notify: Progress, cancel) -> None:
    device = state.device_id(registry)
    if not device:
        raise NotAuthorised("Perangkat ini belum didaftarkan ke server. Masukkan alamat server "
                            "dan kode pendaftaran perangkat terlebih dahulu.")
    ceiling = _configured_batch(registry)
    size = ceiling
    total = registry.outbox_count()
    done = 0
    offline_in_a_row = 0
    send_kegiatan = True  # an older server refuses the field; the records then go without it
    notify(0, total, PUSH)
    while True:
        _check(cancel)
        entries = registry.outbox_pending(size)
        if not entries:
            state.forget_batch(registry)
            return
        batch_id = _batch_id(registry, [e.seq for e in entries])
        records = [_record(e, device) for e in entries]
        events = kegiatan_for(registry, records) if send_kegiatan else []
        try:
            answer = client.push(batch_id, device, records, events)
            answered = _apply_push_answer(registry, entries, answer, report)
        except ProtocolError as exc:
            if exc.retryable:
                _failed(registry, entries, exc)
                size = _after_failure(report, exc, size)
            elif events and _refuses_kegiatan(exc):
                log.warning("the server does not take kegiatan with a push; sent without them")
                send_kegiatan = False
            elif exc.code == "batch.id_reused":
                state.forget_batch(registry)  # the server knows this id with other content
            elif exc.status not in (413, 422):
                raise  # a refusal no record of ours explains: stop, keep everything
            elif len(entries) > 1:
                size = max(1, len(entries) // 2)  # find the one record the server refuses
            else:
                _refused_alone(registry, entries[0], exc, report)
                done += 1
            continue
        except ServerError as exc:
            _failed(registry, entries, exc)
            size = _after_failure(report, exc, size)
            continue
        except Offline as exc:
            _failed(registry, entries, exc)
            offline_in_a_row += 1
            if offline_in_a_row >= MAX_OFFLINE_IN_A_ROW:
                raise
            size = _after_failure(report, exc, size)
            continue
        offline_in_a_row = 0
        report.batches += 1
        done += answered
        notify(min(done, total), max(total, done), PUSH)
        if answered == 0:
            # The server answered for none of them: stop instead of looping on the same batch.
            raise ProtocolError(detail="push answer covered no record of the batch")
        size = min(ceiling, size * 2)


def _failed(registry: Registry, entries, exc: SyncError) -> None:
    """The batch did not get through (after the client's retries): each entry keeps the
    attempt and the reason in the outbox, where an admin can see why records wait."""
    registry.outbox_failed([e.seq for e in entries], exc.message)


def _after_failure(report: SyncReport, exc: SyncError, size: int) -> int:
    """Count a whole-batch failure (after the client's retries); give up after too many."""
    report.failures += 1
    if report.failures >= MAX_BATCH_FAILURES:
        raise exc
    return max(1, size // 2)  # smaller batches get through a poor link


def _refused_alone(registry: Registry, entry, exc: ProtocolError, report: SyncReport) -> None:
    """The server refused a batch of this one record (e.g. a field over the API's length limit):
    that refusal is its answer. It is kept for the enumerator to fix, and a corrected version goes
    up again, so one bad record never blocks the rest of the outbox."""
    answer = state.Answer(
        entry.record_id, int(entry.version), state.REJECTED,
        [{"field": "", "code": exc.code or "request.invalid", "message": exc.message}],
    )
    with registry.atomic():
        state.record_answer(registry, answer)
        state.forget_batch(registry)
        registry.outbox_acknowledge([entry.seq])
    report.rejected += 1
    report.pushed += 1


def _batch_id(registry: Registry, seqs: list[int]) -> str:
    """The id of the batch in flight when these are the same entries, else a new one."""
    pending = state.pending_batch(registry)
    if pending and pending[1] == seqs:
        return pending[0]
    batch_id = str(uuid.uuid4())
    state.remember_batch(registry, batch_id, seqs)
    return batch_id


def _record(entry, device: str) -> dict:
    """One outbox entry as the API wants it. Every outbox entry was made on this device, so it
    goes up under the id the server gave this device (records saved before enrolment too)."""
    data = json.loads(entry.payload) if isinstance(entry.payload, str) else dict(entry.payload)
    data["device_id"] = device
    return {"record_id": entry.record_id, "version": int(entry.version), "data": data}


def kegiatan_for(registry: Registry, records: list[dict]) -> list[dict]:
    """The kegiatan (this device's `events` rows) the batch's records refer to, as the push
    body carries them (docs/SYNC_API.md §4). One that would break the API's limits is clipped
    or left out, so that it never holds its records back."""
    ids = sorted({str(r["data"].get("event_id") or "") for r in records} - {""})
    if not ids:
        return []
    events = []
    for event_id, name, held_on, kelurahan_code in registry.sync.events_by_id(ids):
        name = " ".join(str(name or "").split())[:KEGIATAN_NAME_MAX].strip()
        kelurahan_code = str(kelurahan_code or "")
        if not name or not _API_ID.match(event_id) or len(kelurahan_code) > KEGIATAN_CODE_MAX:
            continue
        events.append({"id": event_id, "name": name, "held_on": _iso_date(held_on),
                       "kelurahan_code": kelurahan_code})
    return events


def _iso_date(value) -> str | None:
    try:
        return date.fromisoformat(str(value)).isoformat() if value else None
    except ValueError:
        return None


def _refuses_kegiatan(exc: ProtocolError) -> bool:
    """A 422 about the body's `events` field: a server from before kegiatan travelled."""
    details = exc.details if isinstance(exc.details, list) else []
    return exc.status == 422 and any(
        isinstance(d, dict) and list(d.get("loc") or [])[:2] == ["body", "events"]
        for d in details
    )


def _apply_push_answer(registry: Registry, entries, answer: dict, report: SyncReport) -> int:
    """Apply the per-record answers in one transaction; returns how many entries were answered."""
    results = answer.get("results")
    if not isinstance(results, list):
        raise ProtocolError(detail="push answer without results", retryable=False)
    by_key = {(e.record_id, int(e.version)): e for e in entries}
    answered: list[int] = []
    kept: list[state.Answer] = []
    statuses: list[tuple[str, int, str, str, str]] = []
    for item in results:
        result = _parse_result(item)
        entry = by_key.pop((result.record_id, result.version), None)
        if entry is None:
            continue  # an answer for something not in this batch: ignore, never guess
        kept.append(result)
        _count(report, result.outcome)
        if item.get("status") == Status.RECEIVED.value:
            # The receipt only: any other status (a funded record keeps "funded") comes with its
            # member number and reason in the pull that follows.
            statuses.append((result.record_id, result.version, Status.RECEIVED.value, "", ""))
        answered.append(entry.seq)
    with registry.atomic():
        state.record_answers(registry, kept)
        registry.sync.set_server_statuses(statuses)
        state.forget_batch(registry)
        # In the same transaction as the answers: an entry leaves only with its answer kept.
        if answered:
            registry.outbox_acknowledge(answered)
    report.pushed += len(answered)
    return len(answered)


def _parse_result(item) -> state.Answer:
    try:
        outcome = str(item["outcome"])
        if outcome not in state.PUSH_OUTCOMES:
            raise ValueError(outcome)
        return state.Answer(
            record_id=str(item["record_id"]),
            version=int(item["version"]),
            outcome=outcome,
            errors=list(item.get("errors") or []),
            duplicate_of=str(item.get("duplicate_of") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(detail="malformed per-record answer", retryable=False) from exc


def _count(report: SyncReport, outcome: str) -> None:
    if outcome == state.ACCEPTED:
        report.accepted += 1
    elif outcome == state.DUPLICATE:
        report.duplicates += 1
    elif outcome == state.REJECTED:
        report.rejected += 1
    elif outcome == state.REFUSED:
        report.refused += 1
    elif outcome == state.CORRECTION_PENDING:
        report.corrections += 1
    else:
        report.conflicts += 1


# --- pull ------------------------------------------------------------------------------------


def _check_key(registry: Registry, client) -> None:
    """If the server replaced its NIK hash key, the hashes held here are useless: take the new
    key, forget them, and read the feed again from the start (docs/SYNC_API.md §3)."""
    me = client.me()
    key_id, key = str(me.get("nik_hash_key_id") or ""), str(me.get("nik_hash_key") or "")
    if not key or key_id == state.get_meta(registry, "nik_hash_key_id"):
        return
    with registry.atomic():
        registry.set_setting("nik_hash_key", key)
        state.set_meta(registry, "nik_hash_key_id", key_id)
        state.set_meta(registry, "device_role", str(me.get("role") or ""))
        registry.sync.forget_known()
        state.save_cursor(registry, 0)


def _pull(registry: Registry, client, report: SyncReport, notify: Progress, cancel) -> None:
    notify(0, 0, PULL)
    _check_key(registry, client)
    # What the push left in the outbox (refused, or made meanwhile), told with every page so the
    # server knows what waits here if this device then goes silent.
    pending = registry.outbox_count()
    while True:
        _check(cancel)
        page = client.pull(state.cursor(registry), PULL_PAGE, pending=pending)
        items, next_cursor, more = _parse_page(page)
        with registry.atomic():  # the page and its cursor together, or neither
            apply.apply_page(registry, items)
            state.save_cursor(registry, next_cursor)
        report.pulled += len(items)
        notify(report.pulled, report.pulled + (PULL_PAGE if more else 0), PULL)
        if not more:
            return


def _parse_page(page: dict) -> tuple[list[dict], int, bool]:
    items = page.get("changes")
    next_cursor = page.get("next_cursor")
    if (
        not isinstance(items, list)
        or not isinstance(next_cursor, int)
        or not all(isinstance(i, dict) for i in items)
    ):
        raise ProtocolError(detail="malformed pull page", retryable=False)
    return items, next_cursor, bool(page.get("has_more"))


__all__ = ["SyncError", "SyncReport", "run_sync", "PUSH", "PULL"]
