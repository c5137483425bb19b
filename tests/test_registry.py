"""The local registry: saves, corrections and history, audit chain, outbox, duplicates, search,
paging, and what a full disk, a locked or a corrupt file give."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import uuid
from datetime import date

import pytest

from storage.db import StorageError
from storage.demo import generate_workers
from storage.models import Heir, Occupation, Registration, Status
from storage.registry import (
    KnownRegistration,
    RegistrationFilter,
    Registry,
    nik_hash,
)

AS_OF = date(2026, 11, 24)
NIK = "1571010101909901"
OTHER_NAMES = ("Andi Wijaya", "Budi Santoso", "Citra Lestari")
HASH_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # bytes 0x00..0x1f


def make_reg(**changes) -> Registration:
    reg = Registration(
        nik=NIK,
        full_name="Siti Nurhaliza",
        birth_place="Jambi",
        birth_date=date(1990, 1, 1),
        sex="L",
        street="Jl. Contoh No. 1",
        rt="001",
        rw="002",
        kecamatan_code="15.71.01",
        kelurahan_code="15.71.01.1001",
        phone="081234567890",
        occupation_code="ojek_pangkalan",
        cohort="pekerja_rentan",
        monthly_income=1_500_000,
        heirs=[Heir(name="Ahmad Saputra", relationship="suami")],
        consent_version="PDP-2026-01",
        consent_given=True,
        consent_at="2026-11-24T09:00:00+07:00",
    )
    return dataclasses.replace(reg, **changes)


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


def save(registry, reg, **kwargs):
    result = registry.save(reg, operator="Budi", as_of=AS_OF, **kwargs)
    assert result.saved, (result.validation.errors, result.validation.warnings)
    return result.registration


def save_confirming(registry, reg):
    """Save, confirming whatever warnings there are (e.g. similar names among demo workers)."""
    result = registry.save(reg, operator="Budi", as_of=AS_OF)
    if not result.saved:
        codes = [w.code for w in result.validation.warnings]
        return save(registry, reg, confirmed_warnings=codes)
    return result.registration


def counts(registry) -> dict:
    return {t: registry.db_for_tests[t].count for t in
            ("workers", "worker_versions", "heirs", "audit_log", "outbox")}


# --- save, correct, history -----------------------------------------------------------------


def test_first_save_writes_every_part_in_one_go(registry):
    stored = save(registry, make_reg())
    assert uuid.UUID(stored.id).version == 7
    assert stored.version == 1 and stored.operator == "Budi"
    assert stored.device_id == registry.device_id
    assert counts(registry) == {"workers": 1, "worker_versions": 1, "heirs": 1,
                                "audit_log": 1, "outbox": 1}
    again = registry.get(stored.id)
    assert again == stored
    assert registry.history(stored.id) == [stored]
    assert registry.audit_chain_ok()
    entry = registry.outbox_pending(10)[0]
    assert (entry.record_id, entry.version, entry.payload["nik"]) == (stored.id, 1, NIK)


def test_correction_is_a_new_version_and_history_is_kept(registry):
    first = save(registry, make_reg())
    corrected = save(registry, dataclasses.replace(first, street="Jl. Baru No. 2"))
    assert (corrected.id, corrected.version) == (first.id, 2)
    assert corrected.created_at == first.created_at
    history = registry.history(first.id)
    assert [h.version for h in history] == [1, 2]
    assert history[0].street == "Jl. Contoh No. 1" and history[1].street == "Jl. Baru No. 2"
    assert registry.get(first.id).street == "Jl. Baru No. 2"
    assert registry.count(RegistrationFilter()) == 1
    assert [(e.record_id, e.version) for e in registry.outbox_pending(10)] == [
        (first.id, 1), (first.id, 2)]
    assert registry.db_for_tests["audit_log"].count == 2 and registry.audit_chain_ok()


def test_stale_correction_is_refused(registry):
    first = save(registry, make_reg())
    save(registry, dataclasses.replace(first, street="Jl. Baru"))
    with pytest.raises(StorageError) as info:
        registry.save(dataclasses.replace(first, street="Jl. Lama"), operator="Budi", as_of=AS_OF)
    assert info.value.code == "stale"
    assert registry.get(first.id).street == "Jl. Baru"


def test_errors_block_the_save_and_nothing_is_written(registry):
    before = counts(registry)
    result = registry.save(make_reg(nik="1571010101900000"), operator="Budi", as_of=AS_OF)
    assert not result.saved and result.registration is None
    assert result.validation.errors
    assert counts(registry) == before


def test_warnings_must_be_confirmed(registry):
    # Vector 44: the NIK says female (day 45) but the operator entered male.
    reg = make_reg(nik="1571094512859902", birth_date=date(1985, 12, 5), sex="L",
                   full_name="Dewi Lestari")
    result = registry.save(reg, operator="Budi", as_of=AS_OF)
    assert not result.saved and result.validation.warnings and not result.validation.errors
    codes = [w.code for w in result.validation.warnings]
    assert registry.count(RegistrationFilter()) == 0
    assert save(registry, reg, confirmed_warnings=codes).version == 1


# --- duplicates ---------------------------------------------------------------------------------


def test_exact_nik_against_own_records_is_an_error(registry):
    first = save(registry, make_reg())
    result = registry.save(make_reg(full_name="Orang Lain"), operator="Budi", as_of=AS_OF)
    assert not result.saved
    assert any("dup" in e.code for e in result.validation.errors)
    hits = registry.exact_nik(NIK)
    assert [h.registration_id for h in hits] == [first.id]
    # A correction of the same record is not its own duplicate.
    assert registry.exact_nik(NIK, exclude_id=first.id) == []
    save(registry, dataclasses.replace(first, phone="081298765432"))


def test_exact_nik_against_registrations_from_the_server(registry):
    registry.set_setting("nik_hash_key", HASH_KEY)
    registry.remember_known([KnownRegistration(id="0193aaaa-0000-7000-8000-000000000009",
                                               nik_hash=nik_hash(HASH_KEY, NIK),
                                               status="received")])
    assert len(nik_hash(HASH_KEY, NIK)) == 32
    hits = registry.exact_nik(NIK)
    assert [(h.registration_id, h.where) for h in hits] == [
        ("0193aaaa-0000-7000-8000-000000000009", "server")]
    result = registry.save(make_reg(), operator="Budi", as_of=AS_OF)
    assert not result.saved and any("dup" in e.code for e in result.validation.errors)
    assert registry.exact_nik("1571010101909902") == []


def test_own_record_echoed_by_the_server_is_not_a_duplicate(registry):
    first = save(registry, make_reg())
    registry.set_setting("nik_hash_key", HASH_KEY)
    registry.remember_known([KnownRegistration(id=first.id, nik_hash=nik_hash(HASH_KEY, NIK))])
    assert registry.exact_nik(NIK, exclude_id=first.id) == []
    assert [h.where for h in registry.exact_nik(NIK)] == ["local"]


def test_similar_name_same_birth_date_is_a_warning(registry):
    first = save(registry, make_reg())
    other = make_reg(nik="1571010101909902", full_name="SITI NURHALIZAH")
    hits = registry.similar(other.full_name, other.birth_date)
    assert [h.registration_id for h in hits] == [first.id]
    assert registry.similar("Budi Santoso", other.birth_date) == []
    assert registry.similar(other.full_name, date(1990, 1, 2)) == []
    result = registry.save(other, operator="Budi", as_of=AS_OF)
    assert not result.saved and not result.validation.errors
    codes = [w.code for w in result.validation.warnings]
    assert any("dup" in c or "similar" in c for c in codes)
    save(registry, other, confirmed_warnings=codes)



def test_similar_names_scored_together_as_one_by_one():
    """similar() scores everyone born that day in one rapidfuzz call: the same names, in the
    same order, as _names_alike judging them one by one."""
    import random

    from storage.duplicates import _alike_positions, _names_alike
    from storage.normalize import name_key

    rng = random.Random(11)
    names = [name_key(w.full_name) for w in generate_workers(300, seed=4, as_of=AS_OF)]
    for _ in range(200):
        keys = rng.sample(names, 40) + ["", " "]
        wanted = rng.choice(names)
        variants = [wanted, wanted[:-1], wanted + "h", " ".join(reversed(wanted.split())), ""]
        keys += variants[:3]
        rng.shuffle(keys)
        for probe in variants:
            assert _alike_positions(probe, keys) == [
                i for i, key in enumerate(keys) if _names_alike(probe, key)]
    assert _alike_positions(names[0], [names[0], names[0]]) == [0, 1]


# --- audit log --------------------------------------------------------------------------------


def test_audit_log_refuses_update_and_delete(registry):
    save(registry, make_reg())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        registry.db_for_tests.execute("UPDATE audit_log SET operator = 'Orang lain'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        registry.db_for_tests.execute("DELETE FROM audit_log")
    assert registry.db_for_tests["audit_log"].count == 1 and registry.audit_chain_ok()


@pytest.mark.parametrize("tamper", [
    "UPDATE audit_log SET operator = 'Orang lain' WHERE seq = 2",
    "UPDATE audit_log SET detail = '{}' WHERE seq = 1",
    "DELETE FROM audit_log WHERE seq = 2",
    "UPDATE audit_log SET at = '2020-01-01' WHERE seq = 3",
])
def test_tampering_breaks_the_chain(tmp_path, registry, tamper):
    for i in range(3):
        save(registry, make_reg(nik=f"157101010190990{i + 1}", full_name=OTHER_NAMES[i]))
    assert registry.audit_chain_ok()
    copy_path = tmp_path / "copy.sqlite3"
    registry.db_for_tests.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(tmp_path / "r.sqlite3", copy_path)
    raw = sqlite3.connect(copy_path)
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute("DROP TRIGGER audit_log_no_delete")
    raw.execute(tamper)
    raw.commit()
    raw.close()
    tampered = Registry.open(copy_path)
    assert not tampered.audit_chain_ok()
    tampered.close()


# --- outbox, stats, drafts, settings, events, occupations --------------------------------------


def test_outbox_one_entry_per_version_until_acknowledged(registry):
    first = save(registry, make_reg())
    save(registry, dataclasses.replace(first, rt="009"))
    second = save(registry, make_reg(nik="1571010101909902", full_name="Budi Santoso"))
    pending = registry.outbox_pending(10)
    assert [(e.record_id, e.version) for e in pending] == [
        (first.id, 1), (first.id, 2), (second.id, 1)]
    registry.outbox_failed([pending[0].seq], "server 500")
    assert registry.outbox_pending(1)[0].attempts == 1
    assert registry.outbox_pending(1)[0].last_error == "server 500"
    registry.outbox_acknowledge([pending[0].seq, pending[1].seq])
    assert registry.outbox_count() == 1
    assert registry.stats(date.today()).waiting_for_sync == 1
    rows = {r.id: r.sync_state for r in registry.query(RegistrationFilter())}
    assert rows == {first.id: "synced", second.id: "pending"}


def test_stats_count_today_by_device_date(registry):
    save(registry, make_reg())
    stats = registry.stats(date.today())
    assert (stats.registered_today, stats.total, stats.waiting_for_sync) == (1, 1, 1)
    assert registry.stats(date(2000, 1, 1)).registered_today == 0


def test_drafts_round_trip(registry):
    assert registry.load_draft("form") is None
    registry.save_draft("form", {"nik": "1571", "full_name": "Siti"})
    registry.save_draft("form", {"nik": "157101", "full_name": "Siti N"})
    assert registry.load_draft("form") == {"nik": "157101", "full_name": "Siti N"}
    assert registry.draft_keys() == ["form"]
    registry.discard_draft("form")
    assert registry.load_draft("form") is None


def test_drafts_and_settings_are_committed_at_once(tmp_path):
    # A draft typed just before a crash must be on disk: another connection sees it at once,
    # and the writer holds no open transaction (which would also block other writers).
    path = tmp_path / "r.sqlite3"
    writer = Registry.open(path)
    writer.save_draft("form", {"full_name": "Siti"})
    writer.set_setting("operator_name", "Budi")
    assert not writer.db_for_tests.conn.in_transaction
    other = sqlite3.connect(path)
    assert other.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1
    assert other.execute("SELECT value FROM settings WHERE name = 'operator_name'").fetchone()[0] == '"Budi"'
    writer.discard_draft("form")
    assert other.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0
    other.close()
    writer.close()


def test_events_and_occupations(registry):
    event = registry.add_event("Kampung Bahagia Sijenjang", date(2026, 11, 20), "15.71.03.1001")
    assert registry.events() == [event]
    with pytest.raises(ValueError):
        registry.add_event("   ")
    codes = {o.code for o in registry.occupations()}
    assert "ojek_pangkalan" in codes
    registry.save_occupation(Occupation("ojek_pangkalan", "Ojek pangkalan", True, False))
    assert "ojek_pangkalan" not in {o.code for o in registry.occupations()}
    inactive = {o.code: o for o in registry.occupations(include_inactive=True)}
    assert inactive["ojek_pangkalan"].active is False
    assert registry.audit_chain_ok()


# --- search and paging ---------------------------------------------------------------------


@pytest.fixture
def filled(registry):
    event = registry.add_event("Kampung Bahagia (uji)", date(2026, 11, 20))
    regs = list(generate_workers(40, seed=7, as_of=AS_OF, event_ids=[event.id],
                                 consent_version="PDP-2026-01"))
    regs[5].full_name = "Siti Nurhaliza Hasibuan"
    regs[6].full_name = "Hélène Ma'ruf"
    stored = [save_confirming(registry, r) for r in regs]
    return registry, stored, event


def test_name_search_by_word_prefixes(filled):
    registry, stored, _ = filled
    found = registry.query(RegistrationFilter(text="siti nur"))
    assert stored[5].id in [r.id for r in found]
    assert all("siti" in r.full_name.lower() and "nur" in r.full_name.lower() for r in found)
    assert [r.id for r in registry.query(RegistrationFilter(text="helene ma'ruf"))] == [
        stored[6].id]
    assert registry.count(RegistrationFilter(text="zzzz")) == 0
    # Name words combined with a filter.
    kel = stored[5].kelurahan_code
    both = RegistrationFilter(text="siti nur", kelurahan_code=kel)
    assert stored[5].id in [r.id for r in registry.query(both)]
    assert all(registry.get(r.id).kelurahan_code == kel for r in registry.query(both))
    assert registry.count(both) == len(registry.query(both))
    assert registry.count(RegistrationFilter(text="siti nur", status="funded")) == 0
    assert registry.query(RegistrationFilter(text="\"*(")) is not None  # no FTS syntax error


def test_nik_prefix_search(filled):
    registry, stored, _ = filled
    target = stored[3]
    found = registry.query(RegistrationFilter(text=target.nik[:12]))
    assert target.id in [r.id for r in found]
    assert all(registry.get(r.id).nik.startswith(target.nik[:12]) for r in found)
    assert registry.count(RegistrationFilter(text="1571")) == 40
    # A short prefix walks newest first; a long one uses the NIK index: same order either way.
    newest_first = [s.id for s in reversed(stored)]
    assert [r.id for r in registry.query(RegistrationFilter(text="1571"), limit=50)] == \
        newest_first
    long_prefix = target.nik[:8]
    assert [r.id for r in registry.query(RegistrationFilter(text=long_prefix), limit=50)] == [
        i for i in newest_first if registry.get(i).nik.startswith(long_prefix)]
    assert registry.count(RegistrationFilter(text="1572")) == 0


def test_rows_never_carry_the_full_nik(filled):
    registry, stored, _ = filled
    niks = {r.nik for r in stored}
    for row in registry.query(RegistrationFilter(), limit=100):
        assert not niks & {str(v) for v in dataclasses.asdict(row).values()}
        assert "******" in row.nik_masked


def test_filters_and_paging_newest_first(filled):
    registry, stored, event = filled
    all_rows = registry.query(RegistrationFilter(), limit=100)
    assert [r.id for r in all_rows] == [s.id for s in reversed(stored)]
    pages = [registry.query(RegistrationFilter(), offset=o, limit=15) for o in (0, 15, 30)]
    assert [r.id for p in pages for r in p] == [r.id for r in all_rows]
    kel = stored[0].kelurahan_code
    by_kel = registry.query(RegistrationFilter(kelurahan_code=kel), limit=100)
    assert {r.id for r in by_kel} == {s.id for s in stored if s.kelurahan_code == kel}
    assert registry.count(RegistrationFilter(event_id=event.id)) == 40
    assert registry.count(RegistrationFilter(status=Status.FUNDED.value)) == 0
    assert all_rows[0].event_name == event.name and all_rows[0].kelurahan_name
    # A correction moves the record to the top, by save order (never by the device clock).
    save(registry, dataclasses.replace(stored[0], rt="020"))
    assert registry.query(RegistrationFilter(), limit=1)[0].id == stored[0].id


# --- what failures give ----------------------------------------------------------------------


def test_full_disk_gives_storage_error_and_loses_nothing(registry):
    first = save(registry, make_reg())
    pages = registry.db_for_tests.execute("PRAGMA page_count").fetchone()[0]
    registry.db_for_tests.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageError) as info:
        for reg in generate_workers(200, seed=3, as_of=AS_OF, consent_version="PDP-2026-01"):
            registry.save(reg, operator="Budi", as_of=AS_OF,
                          confirmed_warnings=["duplicate.similar"])
    assert info.value.code == "disk_full"
    assert "penuh" in str(info.value)
    saved_before = registry.count(RegistrationFilter())
    registry.db_for_tests.execute("PRAGMA max_page_count = 1073741823")
    assert registry.get(first.id) == first
    assert registry.count(RegistrationFilter()) == saved_before
    assert registry.outbox_count() == registry.db_for_tests["worker_versions"].count
    assert registry.audit_chain_ok()
    registry.check_integrity()


def test_garbage_file_is_refused(tmp_path):
    path = tmp_path / "r.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StorageError) as info:
        Registry.open(path)
    assert info.value.code == "corrupt" and "rusak" in str(info.value)
    assert path.read_bytes() == b"this is not a database at all" * 200


def test_damaged_pages_are_reported(tmp_path):
    path = tmp_path / "r.sqlite3"
    registry = Registry.open(path)
    for reg in generate_workers(300, seed=1, as_of=AS_OF, consent_version="PDP-2026-01"):
        registry.db_for_tests.execute("INSERT INTO drafts (key, data) VALUES (?, ?)",
                            [reg.nik, reg.full_name * 20])
    registry.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 3, len(data) - page, page * 2):
        data[offset + 100: offset + 400] = b"\xff" * 300
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError) as info:
        registry = Registry.open(path)
        try:
            registry.check_integrity()
            registry.db_for_tests.execute(
                "SELECT count(*), sum(length(data)) FROM drafts").fetchone()
        finally:
            registry.close()
    assert info.value.code == "corrupt"


def test_locked_database_gives_storage_error(tmp_path):
    path = tmp_path / "r.sqlite3"
    Registry.open(path).close()
    registry = Registry.open(path, busy_timeout_ms=100)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError) as info:
            registry.set_setting("operator_name", "Budi")
        assert info.value.code == "locked"
    finally:
        other.execute("ROLLBACK")
        other.close()
    registry.set_setting("operator_name", "Budi")
    assert registry.get_setting("operator_name") == "Budi"
    registry.close()


def test_readonly_registry_reads_but_never_writes(tmp_path, registry):
    stored = save(registry, make_reg())
    reader = Registry.open_readonly(tmp_path / "r.sqlite3")
    try:
        assert [r.id for r in reader.query(RegistrationFilter())] == [stored.id]
        assert reader.device_id == registry.device_id
        with pytest.raises(StorageError) as info:
            reader.save_draft("x", {})
        assert info.value.code == "read_only"
        # The writer goes on while the reader is open (WAL).
        save(registry, make_reg(nik="1571010101909902", full_name="Budi Santoso"))
        assert reader.count(RegistrationFilter()) == 2
    finally:
        reader.close()
    with pytest.raises(StorageError):
        Registry.open_readonly(tmp_path / "missing.sqlite3")


def test_fast_record_dict_matches_to_dict():
    from storage.registry import record_dict

    reg = make_reg(heirs=[Heir("Ahmad", "suami", "081234567890", "1571010101909902"),
                          Heir("Rina", "anak")], event_id="e1", monthly_income=None)
    assert record_dict(reg) == reg.to_dict()
    assert record_dict(make_reg(birth_date=None)) == make_reg(birth_date=None).to_dict()


def test_status_from_the_server_is_audited_but_not_a_new_version(registry):
    first = save(registry, make_reg())
    assert registry.update_status(first.id, Status.REJECTED.value, status_reason="KTP buram")
    assert not registry.update_status(first.id, Status.REJECTED.value, status_reason="KTP buram")
    assert not registry.update_status("no-such-id", Status.VERIFIED.value)
    current = registry.get(first.id)
    assert (current.status, current.status_reason, current.version) == ("rejected", "KTP buram", 1)
    assert registry.count(RegistrationFilter(status="rejected")) == 1
    assert registry.outbox_count() == 1 and len(registry.history(first.id)) == 1
    assert registry.audit_chain_ok()
    # A rejected registration, corrected on the device, goes back in line as a new version.
    corrected = save(registry, dataclasses.replace(current, street="Jl. Benar No. 1"))
    assert (corrected.version, corrected.status, corrected.status_reason) == (2, "registered", "")
    registry.update_status(first.id, Status.FUNDED.value, member_number="JMB-2026-000001")
    again = save(registry, dataclasses.replace(registry.get(first.id), rt="004"))
    assert (again.status, again.member_number) == ("funded", "JMB-2026-000001")


def test_checkpoint_empties_the_write_ahead_log(tmp_path, registry):
    save(registry, make_reg())
    wal = tmp_path / "r.sqlite3-wal"
    assert wal.stat().st_size > 0
    registry.checkpoint()
    busy, log_frames, copied = registry.db_for_tests.execute(
        "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log_frames == copied


def test_tidy_merges_the_name_index_segments_and_checkpoints(registry):
    """Saves leave the name index merging to idle moments (automerge is off): tidy merges the
    small segments each save added, and search still finds every worker."""
    workers = list(generate_workers(8, seed=5, as_of=AS_OF))
    for reg in workers:
        save_confirming(registry, reg)
    segments = "SELECT count(*) FROM workers_fts_data"
    before = registry.db_for_tests.execute(segments).fetchone()[0]
    registry.tidy()
    assert registry.db_for_tests.execute(segments).fetchone()[0] < before
    registry.db_for_tests.execute(
        "INSERT INTO workers_fts (workers_fts) VALUES ('integrity-check')")
    for reg in workers:
        found = registry.query(RegistrationFilter(text=reg.full_name))
        assert reg.full_name in [r.full_name for r in found]
    _, frames, copied = registry.db_for_tests.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert frames == copied
