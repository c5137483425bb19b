"""Kegiatan travel with sync, so that the verifier and a card desk on another computer show
their names (docs/SYNC_API.md §4–§6)."""

from __future__ import annotations

from datetime import date

from server_util import workers
from sync_util import (
    enrolled_device,
    server_in_thread,
    sync_once,
    verifier_client,
    verify_and_fund,
)

from cards import desk
from sync import engine
from sync import verifier as v
from sync.client import ProtocolError, SyncClient


def _register(registry, count: int, seed: int, event_id: str) -> list[str]:
    """Save `count` new registrations at a kegiatan, as the form would; returns their ids."""
    ids = []
    for reg in workers(count, seed=seed):
        reg.id, reg.version, reg.event_id = None, 0, event_id
        result = registry.save(reg, operator="Petugas")
        if not result.saved:
            result = registry.save(reg, operator="Petugas", confirmed_warnings=[
                w.code for w in result.validation.warnings])
        assert result.saved, result.validation
        ids.append(result.registration.id)
    return ids


def test_kegiatan_reach_the_verifier_and_a_card_desk_through_sync(tmp_path):
    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir, "enumerator")
        kegiatan = field.add_event("Kampung Bahagia Talang Banjar", date(2026, 11, 21),
                                   "15.71.02.1001")
        unused = field.add_event("Kegiatan tanpa pendaftar", date(2026, 11, 22))
        ids = _register(field, 3, 66, kegiatan.id)
        sync_once(field)

        verifier = verifier_client(url, server_dir)
        try:
            # Only the kegiatan the pushed records refer to went up.
            assert v.events(verifier) == {"events": [{
                "id": kegiatan.id, "name": kegiatan.name, "held_on": "2026-11-21",
                "kelurahan_code": "15.71.02.1001"}]}
            assert unused.id not in str(v.events(verifier))
            listed = v.list_registrations(verifier, v.RegistrationQuery(event=kegiatan.id))
            assert {i["event_name"] for i in listed["items"]} == {kegiatan.name}
            assert v.registration_detail(verifier, ids[0])["registration"]["event_name"] == \
                kegiatan.name
            for reg_id in ids[:2]:
                verify_and_fund(verifier, reg_id)
        finally:
            verifier.close()

        card_desk = enrolled_device(tmp_path / "desk.sqlite3", url, server_dir, "card_desk")
        assert card_desk.events() == []
        sync_once(card_desk)
        assert desk.card_events(card_desk) == [(kegiatan.id, kegiatan.name)]
        rows = desk.members_ready_to_print(card_desk)
        assert {r.registration_id for r in rows} == set(ids[:2])
        assert {r.event_name for r in rows} == {kegiatan.name}
        filtered = desk.members_ready_to_print(card_desk, desk.CardFilter(event_id=kegiatan.id))
        assert len(filtered) == 2
        [known] = card_desk.events()
        assert (known.id, known.name) == (kegiatan.id, kegiatan.name)
        sync_once(card_desk)  # pulling the same again keeps one row per kegiatan
        assert len(card_desk.events()) == 1

        # The device that made the kegiatan keeps its own row (date and kelurahan) as it is.
        sync_once(field)
        [own] = [e for e in field.events() if e.id == kegiatan.id]
        assert (own.held_on, own.kelurahan_code) == (date(2026, 11, 21), "15.71.02.1001")
        card_desk.close()
        field.close()


def test_a_server_that_does_not_take_kegiatan_still_gets_the_records(tmp_path, monkeypatch):
    """A server from before kegiatan travelled refuses the unknown `events` field (422 on
    body.events): the device sends the batch again without it instead of refusing records."""
    server_dir = tmp_path / "server"
    sent: list[bool] = []
    real_push = SyncClient.push

    def older_server(self, batch_id, device_id, records, events=None):
        sent.append(bool(events))
        if events:
            raise ProtocolError(
                "Isi permintaan tidak sesuai format yang diharapkan.", status=422,
                code="request.invalid",
                details=[{"loc": ["body", "events"], "msg": "Extra inputs are not permitted"}])
        return real_push(self, batch_id, device_id, records)

    monkeypatch.setattr(SyncClient, "push", older_server)
    with server_in_thread(server_dir) as url:
        field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir, "enumerator")
        kegiatan = field.add_event("Kampung Bahagia Legok", date(2026, 11, 23))
        _register(field, 2, 67, kegiatan.id)
        report = sync_once(field)
        assert (report.accepted, report.rejected, report.remaining) == (2, 0, 0)
        assert sent == [True, False]
        field.close()


def test_kegiatan_for_clips_what_the_api_would_refuse(tmp_path):
    from storage.registry import Registry

    registry = Registry.open(tmp_path / "r.sqlite3")
    long_one = registry.add_event("Kampung " + "sangat " * 40 + "panjang", date(2026, 11, 24))
    plain = registry.add_event("Kampung Bahagia", None, "15.71.01.1001")
    records = [{"data": {"event_id": long_one.id}}, {"data": {"event_id": plain.id}},
               {"data": {"event_id": None}}, {"data": {"event_id": "unknown"}}]
    events = {e["id"]: e for e in engine.kegiatan_for(registry, records)}
    assert set(events) == {long_one.id, plain.id}
    assert len(events[long_one.id]["name"]) <= engine.KEGIATAN_NAME_MAX
    assert events[long_one.id]["held_on"] == "2026-11-24"
    assert events[plain.id] == {"id": plain.id, "name": "Kampung Bahagia", "held_on": None,
                                "kelurahan_code": "15.71.01.1001"}
    registry.close()
