"""Kegiatan (registration drives) sent with a push: stored by the server, listed by
GET /events, named in the verifier's answers (docs/SYNC_API.md §4, §6)."""

from __future__ import annotations

import pytest
from server_util import record, workers

from storage.models import Registration

KEGIATAN = {"id": "0193a1b2-0000-7000-8000-00000000a001", "name": "Kampung Bahagia Sijenjang",
            "held_on": "2026-11-20", "kelurahan_code": "15.71.03.1001"}


def _at_kegiatan(count: int, seed: int, event_id: str) -> list[Registration]:
    regs = workers(count, seed=seed)
    for reg in regs:
        reg.event_id = event_id
    return regs


def _push(device, regs, events=None, batch_id=None):
    body = {"batch_id": batch_id or f"b-{regs[0].id}", "device_id": device.device_id,
            "records": [record(r, device.device_id) for r in regs]}
    if events is not None:
        body["events"] = events
    return device.post("/sync/push", body)


def test_pushed_kegiatan_is_listed_and_named_in_the_verifier_answers(live):
    field = live.enrol("enumerator")
    regs = _at_kegiatan(2, 60, KEGIATAN["id"])
    answer = _push(field, regs, [KEGIATAN])
    assert answer.status_code == 200, answer.text
    assert {r["outcome"] for r in answer.json()["results"]} == {"accepted"}

    verifier = live.enrol("verifier")
    listed = verifier.get("/events")
    assert listed.status_code == 200
    assert listed.json() == {"events": [KEGIATAN]}
    # Any enrolled role may read it; without a token, nobody.
    assert field.get("/events").json() == {"events": [KEGIATAN]}
    assert live.enrol("card_desk").get("/events").status_code == 200
    assert field.session.get(live.api + "/events", headers={"Authorization": ""}).status_code \
        == 401

    items = verifier.get("/registrations", params={"event": KEGIATAN["id"]}).json()["items"]
    assert {i["id"] for i in items} == {r.id for r in regs}
    assert {i["event_name"] for i in items} == {KEGIATAN["name"]}
    detail = verifier.get(f"/registrations/{regs[0].id}").json()["registration"]
    assert (detail["event_id"], detail["event_name"]) == (KEGIATAN["id"], KEGIATAN["name"])


def test_a_push_without_kegiatan_still_works_and_names_nothing(live):
    """An older client sends no `events`: its records are stored, the name stays unknown."""
    field = live.enrol("enumerator")
    [reg] = _at_kegiatan(1, 61, KEGIATAN["id"])
    answer = _push(field, [reg])
    assert answer.status_code == 200 and answer.json()["results"][0]["outcome"] == "accepted"
    verifier = live.enrol("verifier")
    assert verifier.get("/events").json() == {"events": []}
    assert verifier.registration(reg.id)["event_name"] == ""
    # The same batch again, now from an upgraded client with its kegiatan: a replay that also
    # brings the name.
    again = _push(field, [reg], [KEGIATAN], batch_id=f"b-{reg.id}")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert verifier.registration(reg.id)["event_name"] == KEGIATAN["name"]


def test_only_the_device_that_sent_a_kegiatan_changes_it(live):
    first, other = live.enrol("enumerator"), live.enrol("card_desk")
    assert _push(first, _at_kegiatan(1, 62, KEGIATAN["id"]), [KEGIATAN]).status_code == 200
    learnt = {"id": KEGIATAN["id"], "name": "Nama lain", "held_on": None}
    assert _push(other, _at_kegiatan(1, 63, KEGIATAN["id"]), [learnt]).status_code == 200
    assert first.get("/events").json()["events"] == [KEGIATAN]
    renamed = {**KEGIATAN, "name": "Kampung Bahagia Sijenjang (hari kedua)"}
    assert _push(first, _at_kegiatan(1, 64, KEGIATAN["id"]), [renamed]).status_code == 200
    assert first.get("/events").json()["events"] == [renamed]


@pytest.mark.parametrize("bad", [
    {"name": "x" * 201},
    {"name": ""},
    {"id": "not an id"},
    {"held_on": "20 November"},
    {"kelurahan_code": "1" * 41},
    {"unknown": 1},
])
def test_kegiatan_fields_are_checked_like_the_others(live, bad):
    field = live.enrol("enumerator")
    answer = _push(field, _at_kegiatan(1, 65, KEGIATAN["id"]), [{**KEGIATAN, **bad}])
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "request.invalid"
    assert any(d["loc"][:2] == ["body", "events"] for d in answer.json()["error"]["details"])
