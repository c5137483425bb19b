"""A lost laptop: every byte under the data folder is searched for the people registered on it
(NIKs, names, phone numbers, heirs; UTF-8 and UTF-16, as digits and as text) and for the
device's secrets. Nothing may be found. Also the file modes of what the app creates."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from storage.demo import generate_workers
from storage.unlock import open_with_password, set_up
from sync import state

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PASSWORD = "sandi-admin-1"
TOKEN = "tok-SANGAT-rahasia-0123456789abcdef"
NIK_KEY = "q83vEjhkRnpZQkVVR2t0dXl6a2ZtbkJ6V2V0TnZqZlE="


def _people(count: int = 12):
    workers = list(generate_workers(count, seed=42))
    for reg in workers:
        assert reg.heirs and reg.phone, "the sample must carry heirs and phone numbers"
    return workers


def _needles(workers) -> dict[str, bytes]:
    """Every way the values could sit in a file: UTF-8, UTF-16 (both byte orders), the name in
    upper and lower case, the NIK as digits and as a 64-bit integer."""
    texts = set()
    for reg in workers:
        texts.update({reg.nik, reg.full_name, reg.full_name.upper(), reg.full_name.casefold(),
                      reg.phone, reg.street})
        for heir in reg.heirs:
            texts.update({heir.name, heir.name.casefold()})
            texts.update(v for v in (heir.phone, heir.nik) if v)
    texts.update({TOKEN, NIK_KEY})
    needles = {}
    for text in texts:
        if len(text) < 6:
            continue
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            needles[f"{text!r} {encoding}"] = text.encode(encoding)
    for reg in workers:
        needles[f"{reg.nik} int64"] = int(reg.nik).to_bytes(8, "big")
        needles[f"{reg.nik} int64le"] = int(reg.nik).to_bytes(8, "little")
    return needles


def _scan(folder) -> list[str]:
    found = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            data = open(os.path.join(root, name), "rb").read()  # noqa: SIM115
            found += [f"{label} in {name}" for label, needle in _NEEDLES.items()
                      if needle in data]
    return found


_NEEDLES: dict[str, bytes] = {}


def _fill(folder, workers) -> None:
    """The app's path: first admin (database created encrypted), registrations with heirs,
    a draft, the server token and NIK hash key of an enrolment."""
    opened = set_up(folder, "admin", "Ibu Admin", PASSWORD, T0)
    registry = opened.registry
    try:
        for reg in workers[:-1]:
            assert registry.save(reg, operator="Budi", confirmed_warnings=["duplicate.similar"]
                                 ).saved
        last = workers[-1]
        registry.save_draft("registration", {"full_name": last.full_name, "nik": last.nik,
                                             "phone": last.phone,
                                             "heirs": [{"name": h.name} for h in last.heirs]})
        with registry.db_for_tests.atomic():
            state.set_meta(registry, "device_token", TOKEN)
            registry.set_setting("nik_hash_key", NIK_KEY)
    except BaseException:
        registry.close()
        raise
    return registry


def test_nothing_readable_in_the_data_folder_while_open_and_after_closing(tmp_path):
    workers = _people()
    _NEEDLES.clear()
    _NEEDLES.update(_needles(workers))
    registry = _fill(tmp_path, workers)
    try:
        # The app still running (or killed): database, WAL, shared memory, key file.
        assert (tmp_path / "registry.sqlite3-wal").exists()
        assert _scan(tmp_path) == []
    finally:
        registry.close()
    assert _scan(tmp_path) == []
    # The search is not blind: a plain export of the same database (opened with a password)
    # holds every person's NIK, name, phone and heirs.
    opened = open_with_password(tmp_path, "admin", PASSWORD, T0)
    clear = tmp_path.parent / f"{tmp_path.name}-clear"
    clear.mkdir()
    try:
        opened.registry.db_for_tests.execute("ATTACH DATABASE ? AS clear KEY ''",
                                   [str(clear / "export.sqlite3")])
        opened.registry.db_for_tests.execute("SELECT sqlcipher_export('clear')").fetchall()
        opened.registry.db_for_tests.execute("DETACH DATABASE clear")
    finally:
        opened.registry.close()
    found = " ".join(_scan(clear))
    for reg in workers[:-1]:
        assert repr(reg.nik) in found and repr(reg.heirs[0].name) in found
        assert repr(reg.phone) in found


def test_the_backups_before_migrations_are_encrypted(tmp_path):
    """A plain database one schema version behind is upgraded: its encrypted copy is migrated
    after an (encrypted) backup, and the plain file and the plain backups are gone."""
    from test_migrations import _seed_at_first_version

    from storage.db import open_database
    from storage.migrations import migration_names

    names = migration_names()
    plain = tmp_path / "registry.sqlite3"
    db = open_database(plain, stop_before=names[-1])
    _seed_at_first_version(db)
    db.close()
    older = tmp_path / "registry.backup-v0004-20261101T000000000000Z.sqlite3"
    db = open_database(older, stop_before=names[4])
    _seed_at_first_version(db)
    db.close()
    _NEEDLES.clear()
    _NEEDLES.update({f"{text} {enc}": text.encode(enc)
                     for text in ("1571010101909901", "Siti Nurhaliza", "siti nurhaliza")
                     for enc in ("utf-8", "utf-16-le", "utf-16-be")})
    assert _scan(tmp_path) != []  # the plain files hold the person
    opened = set_up(tmp_path, "admin", "Ibu Admin", PASSWORD, T0)
    assert opened.registry.get("0192f0c1-0000-7000-8000-000000000001").full_name == \
        "Siti Nurhaliza"
    opened.registry.close()
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert not [n for n in leftovers if n.endswith(("-wal", "-shm", ".encrypting", ".new"))]
    backups = [n for n in leftovers if ".backup-" in n]
    assert len(backups) == 1 and older.name not in backups, leftovers
    for name in leftovers:
        assert not (tmp_path / name).read_bytes().startswith(b"SQLite format 3"), name
    assert _scan(tmp_path) == []


def test_file_modes_of_the_data_folder(tmp_path):
    folder = tmp_path / "data"
    registry = _fill(folder, _people(3))
    registry.close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    opened = open_with_password(folder, "admin", PASSWORD, T0)
    try:
        names = {p.name for p in folder.iterdir()}
        assert "registry.sqlite3-wal" in names and "registry.sqlite3-shm" in names
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        opened.registry.close()


def test_a_card_pdf_is_the_owners_alone(tmp_path):
    from datetime import date

    from cards.credential import CardData, issue_credential
    from cards.keys import generate_private_key, key_id
    from cards.pdf import PrintCard, render_pdf

    key = generate_private_key()
    data = CardData("JMB-2026-PR-000001", "SITI AMINAH", "pekerja_rentan", date(2026, 1, 5),
                    date(2026, 12, 31), 1000, 1)
    card = PrintCard("SITI AMINAH", data.member_number, "Pekerja rentan", data.valid_from,
                     data.valid_until, data.serial, 1,
                     issue_credential(key, key_id(key.public_key()), data))
    pdf = tmp_path / "kartu.pdf"
    render_pdf([card], pdf, "cr80", workers=0)
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
