"""Push and pull against the real server on loopback (docs/SYNC_API.md §4, §5)."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from sync_util import enrol_code, enrolled_device, server_counts

from storage.demo import fill_demo_data
from storage.registry import Registry
from sync import state
from sync.client import NotAuthorised, Offline, ProtocolError, SyncClient
from sync.engine import run_sync
from sync.enrol import client_for, is_enrolled


def _device(tmp_path, server, name: str, count: int = 0, seed: int = 0) -> Registry:
    url, server_dir = server
    registry = enrolled_device(tmp_path / f"{name}.sqlite3", url, server_dir)
    if count:
        fill_demo_data(registry, count, seed=seed)
    return registry


def _sync(registry, **kwargs):
    client = client_for(registry)
    try:
        return run_sync(registry, client, **kwargs)
    finally:
        client.close()


def _statuses(registry) -> set[str]:
    return {r[0] for r in registry.db_for_tests.execute("SELECT DISTINCT status FROM workers")}


def test_push_then_pull_every_record_once_with_received_status(tmp_path, server):
    device = _device(tmp_path, server, "a", count=45)
    device.set_setting("sync_batch_size", 20)
    seen = []
    report = _sync(device, progress=lambda d, t, p: seen.append((d, t, p)))
    assert (report.pushed, report.accepted, report.batches, report.remaining) == (45, 45, 3, 0)
    assert device.outbox_count() == 0
    assert server_counts(server[1]) == (45, 45)
    assert _statuses(device) == {"received"}
    assert device.get_setting("last_sync_at") == report.finished_at != ""
    assert ("push" in {p for _, _, p in seen}) and seen[-1][2] == "pull"
    assert max(d for d, _, p in seen if p == "push") == 45
    again = _sync(device)  # nothing left to send; the feed is already read
    assert (again.pushed, again.pulled) == (0, 0)
    assert server_counts(server[1]) == (45, 45)


def test_a_correction_goes_up_as_a_new_version(tmp_path, server):
    device = _device(tmp_path, server, "a", count=3)
    _sync(device)
    reg_id = device.db_for_tests.execute("SELECT id FROM workers LIMIT 1").fetchone()[0]
    reg = device.get(reg_id)
    reg.notes = "Alamat diperbaiki"
    result = device.save(reg, operator="Petugas", confirmed_warnings=["*"])
    confirmed = [w.code for w in result.validation.warnings]
    if not result.saved:
        result = device.save(reg, operator="Petugas", confirmed_warnings=confirmed)
    assert result.saved, result.validation
    report = _sync(device)
    assert (report.pushed, report.accepted) == (1, 1)
    assert state.answer_for(device, reg_id).version == 2


def test_a_record_the_server_refuses_alone_never_blocks_the_others(tmp_path, server):
    device = _device(tmp_path, server, "a", count=9)
    seq, payload = device.db_for_tests.execute(
        "SELECT o.seq, v.data FROM outbox o JOIN worker_versions v ON v.seq = o.seq "
        "ORDER BY o.seq LIMIT 1 OFFSET 4").fetchone()
    data = json.loads(payload)
    real_name, data["full_name"] = data["full_name"], "A" * 500  # over the API's length limit: the server answers 422
    with device.db_for_tests.atomic():
        device.db_for_tests.execute("UPDATE worker_versions SET data = ? WHERE seq = ?",
                          [json.dumps(data), seq])
    report = _sync(device)
    assert (report.accepted, report.rejected, report.remaining) == (8, 1, 0)
    rows = state.attention_rows(device)
    assert [r.record_id for r in rows] == [data["id"]]
    assert rows[0].outcome == "rejected" and rows[0].reason.startswith("Server menolak")
    assert not rows[0].fixed
    # The enumerator corrects it: a new version, shown as waiting, then accepted.
    reg = device.get(data["id"])
    reg.full_name, reg.notes = real_name, "Nama diperiksa ulang"
    result = device.save(reg, operator="Petugas")
    if not result.saved:
        codes = [w.code for w in result.validation.warnings]
        result = device.save(reg, operator="Petugas", confirmed_warnings=codes)
    assert result.saved, result.validation
    assert state.attention_rows(device)[0].fixed
    assert _sync(device).accepted == 1
    assert state.attention_rows(device) == []


def test_cancel_between_batches_loses_nothing(tmp_path, server):
    device = _device(tmp_path, server, "a", count=40)
    device.set_setting("sync_batch_size", 10)
    cancel = threading.Event()

    def progress(done, total, phase):
        if phase == "push" and done >= 10:
            cancel.set()

    report = _sync(device, progress=progress, cancel=cancel)
    assert report.cancelled and report.pushed == 10 and report.remaining == 30
    assert device.get_setting("last_sync_at") == ""  # a cancelled run is not a good sync
    assert server_counts(server[1]) == (10, 10)
    report = _sync(device)
    assert (report.pushed, report.remaining) == (30, 0)
    assert server_counts(server[1]) == (40, 40)


def test_same_nik_on_two_devices_offline_one_accepted_both_flagged(tmp_path, server):
    a = _device(tmp_path, server, "a", count=2, seed=7)
    b = _device(tmp_path, server, "b", count=2, seed=7)  # same seed: the same two NIKs
    assert {r[0] for r in a.db_for_tests.execute("SELECT nik FROM workers")} == {
        r[0] for r in b.db_for_tests.execute("SELECT nik FROM workers")}
    assert _sync(a).accepted == 2
    report_b = _sync(b)
    assert (report_b.accepted, report_b.duplicates) == (0, 2)
    _sync(a)  # a learns through pull that its records now have a twin
    for device in (a, b):
        rows = state.attention_rows(device)
        assert len(rows) == 2 and {r.outcome for r in rows} == {"duplicate"}
        assert all("ganda" in r.label for r in rows)
    b_ids = {r[0] for r in b.db_for_tests.execute("SELECT id FROM workers")}
    assert {state.answer_for(b, i).duplicate_of for i in b_ids} == {
        r[0] for r in a.db_for_tests.execute("SELECT id FROM workers")}


def test_fresh_device_catches_a_nik_registered_elsewhere_offline(tmp_path, server):
    a = _device(tmp_path, server, "a", count=3, seed=3)
    _sync(a)
    nik = a.db_for_tests.execute("SELECT nik FROM workers LIMIT 1").fetchone()[0]
    c = _device(tmp_path, server, "c")
    report = _sync(c)
    assert report.pulled >= 3
    hits = c.exact_nik(nik)
    assert len(hits) == 1
    # Only the keyed hash travelled: the raw NIK is nowhere in c's database.
    dump = "\n".join(c.db_for_tests.conn.iterdump())
    assert nik not in dump


def test_offline_server_gives_indonesian_offline_error(tmp_path, server):
    device = _device(tmp_path, server, "a", count=2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    client = SyncClient(dead, state.token(device))
    client.retry.attempts, client.retry.base = 2, 0.01
    with pytest.raises(Offline) as caught:
        run_sync(device, client)
    assert "tidak dapat dihubungi" in caught.value.message
    assert device.outbox_count() == 2


def test_revoked_device_is_not_authorised(tmp_path, server):
    from server.auth import revoke_device
    from server.store import Store

    device = _device(tmp_path, server, "a", count=2)
    store = Store(server[1])
    try:
        assert revoke_device(store, state.device_id(device))
    finally:
        store.close()
    with pytest.raises(NotAuthorised) as caught:
        _sync(device)
    assert "dicabut" in caught.value.message or "tidak diizinkan" in caught.value.message
    assert device.outbox_count() == 2


def test_enrolment_with_a_used_code_is_refused_in_indonesian(tmp_path, server):
    from sync.client import ProtocolError
    from sync.enrol import enrol

    url, server_dir = server
    code = enrol_code(server_dir)
    first = Registry.open(tmp_path / "one.sqlite3")
    enrol(first, url, code, "satu")
    assert is_enrolled(first)
    second = Registry.open(tmp_path / "two.sqlite3")
    with pytest.raises(ProtocolError) as caught:
        enrol(second, url, code, "dua")
    assert caught.value.status == 404
    assert not is_enrolled(second)


def test_batch_size_setting_is_capped_at_the_api_limit(tmp_path, server):
    from sync.engine import MAX_BATCH, _configured_batch

    device = _device(tmp_path, server, "a", count=0)
    state.save_setting(device, "sync_batch_size", 5000)
    assert _configured_batch(device) == MAX_BATCH == 500


def test_a_replaced_nik_hash_key_means_rehash_and_pull_again(tmp_path, server):
    a = _device(tmp_path, server, "a", count=2, seed=12)
    _sync(a)
    nik = a.db_for_tests.execute("SELECT nik FROM workers LIMIT 1").fetchone()[0]
    c = _device(tmp_path, server, "c")
    _sync(c)
    key = c.get_setting("nik_hash_key")
    # As if the key changed since c last synced: c holds hashes under a key that is no more.
    with c.db_for_tests.atomic():
        c.set_setting("nik_hash_key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        state.set_meta(c, "nik_hash_key_id", "old")
        c.db_for_tests.execute("UPDATE known_registrations SET nik_hash = 'stale'")
    assert c.exact_nik(nik) == []
    report = _sync(c)
    assert c.get_setting("nik_hash_key") == key
    assert report.pulled >= 2  # read again from the start
    assert len(c.exact_nik(nik)) == 1


def test_a_version_that_differs_from_the_servers_is_flagged_as_conflict(tmp_path, server):
    device = _device(tmp_path, server, "a", count=1, seed=13)
    _sync(device)
    seq, reg_id, payload = device.db_for_tests.execute(
        "SELECT seq, record_id, data FROM worker_versions").fetchone()
    # As after restoring an old backup: version 1 again, but not the version 1 the server holds.
    data = json.loads(payload)
    data["notes"] = "Diisi ulang setelah pemulihan cadangan"
    with device.db_for_tests.atomic():
        device.db_for_tests.execute("UPDATE worker_versions SET data = ? WHERE seq = ?",
                          [json.dumps(data), seq])
        device.db_for_tests.execute("INSERT INTO outbox (seq) VALUES (?)", [seq])
    report = _sync(device)
    assert (report.pushed, report.conflicts, report.remaining) == (1, 1, 0)
    rows = state.attention_rows(device)
    assert [(r.record_id, r.outcome) for r in rows] == [(reg_id, "conflict")]
    assert rows[0].label.startswith("Konflik")


def _reported(server_dir, device_id: str):
    from server.store import Store

    store = Store(server_dir)
    try:
        return store.reader().execute("SELECT pending, at FROM device_outbox WHERE "
                                      "device_id = ?", [device_id]).fetchone()
    finally:
        store.close()


def test_a_sync_tells_the_server_how_many_registrations_still_wait(tmp_path, server):
    """The pull carries the outbox's count after the push (docs/SYNC_API.md §5 `pending`): what
    was saved while the sync ran waits for the next one, and the server keeps the last count."""
    from sync.engine import PULL

    device = _device(tmp_path, server, "a", count=5, seed=3)
    device_id = state.device_id(device)
    assert _reported(server[1], device_id) is None  # nothing said before the first sync
    made = []

    def meanwhile(done, total, phase):
        if phase == PULL and not made:
            made.append(fill_demo_data(device, 2, seed=4))

    report = _sync(device, progress=meanwhile)
    assert (report.accepted, report.remaining) == (5, 2)
    pending, first_at = _reported(server[1], device_id)
    assert pending == 2 == device.outbox_count()
    report = _sync(device)
    assert (report.accepted, report.remaining) == (2, 0)
    pending, at = _reported(server[1], device_id)
    assert pending == 0 and at > first_at


def test_an_older_client_that_sends_no_count_still_pulls_and_changes_nothing(tmp_path, server):
    device = _device(tmp_path, server, "a", count=1, seed=5)
    _sync(device)
    device_id = state.device_id(device)
    before = _reported(server[1], device_id)
    client = client_for(device)
    try:
        page = client.pull(0, 10)  # no `pending`, as a device from before the field sends
        assert isinstance(page["changes"], list)
        with pytest.raises(ProtocolError) as refused:  # a count below zero is refused
            client.pull(0, 10, pending=-1)
        assert refused.value.status == 422 and "pending" in json.dumps(refused.value.details)
    finally:
        client.close()
    assert _reported(server[1], device_id) == before
