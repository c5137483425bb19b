"""The key file and the encrypted database: what opens it, what does not, and what a changed,
damaged or mismatched file gets (storage/vault.py, storage/unlock.py)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.db import StorageError
from storage.registry import Registry
from storage.unlock import UnlockError, open_with_password, open_with_recovery, set_up
from storage.vault import CHAIN_LENGTH, Vault, VaultError

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ADMIN_PW = "sandi-admin-1"
BUDI_PW = "sandi-budi-1"


class Folder(type(Path())):
    recovery = ""


@pytest.fixture
def folder(tmp_path):
    opened = set_up(tmp_path, "admin", "Ibu Admin", ADMIN_PW, T0)
    opened.registry.operators.add("budi", "Budi Santoso", "petugas", BUDI_PW, now=T0, by="admin")
    opened.registry.set_setting("operator_name", "penanda")
    opened.registry.close()
    path = Folder(tmp_path)
    path.recovery = opened.recovery_key
    return path


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_the_database_is_not_sqlite_without_its_key(folder):
    raw = (folder / "registry.sqlite3").read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    with pytest.raises(StorageError) as caught:
        Registry.open(folder / "registry.sqlite3")  # no key: refused, nothing created
    assert caught.value.code == "encrypted"
    assert (folder / "registry.sqlite3").read_bytes() == raw


def test_every_active_operator_opens_it_and_a_wrong_password_opens_nothing(folder):
    for username, password in (("admin", ADMIN_PW), ("BUDI", BUDI_PW)):
        opened = open_with_password(folder, username, password, T0)
        assert opened.registry.get_setting("operator_name") == "penanda"
        opened.registry.close()
    key_before = (folder / "registry.key").read_bytes()
    db_before = (folder / "registry.sqlite3").read_bytes()
    for username, password in (("budi", ADMIN_PW), ("siapa", BUDI_PW), ("budi", "")):
        with pytest.raises(UnlockError) as caught:
            open_with_password(folder, username, password, T0)
        assert caught.value.code in ("bad_credentials", "empty")
        assert "salah" in str(caught.value) or "Isi" in str(caught.value)
    assert (folder / "registry.sqlite3").read_bytes() == db_before
    # Only the failure count of the known account moved, in the key file's lockout part.
    after = json.loads((folder / "registry.key").read_bytes())
    before = json.loads(key_before)
    assert after["body"] == before["body"] and after["mac"] == before["mac"]
    assert Vault(folder).lockout("budi", T0).failures == 1


def test_five_failures_lock_the_account_and_the_wait_ends_it(folder):
    vault = Vault(folder)
    results = [vault.unlock("budi", "salah-salah", T0).code for _ in range(5)]
    assert results == ["bad_credentials"] * 4 + ["locked"]
    assert vault.unlock("budi", BUDI_PW, T0 + timedelta(minutes=1)).code == "locked"
    later = vault.unlock("budi", BUDI_PW, T0 + timedelta(minutes=16))
    assert later.ok and later.failures_before == 5
    assert vault.lockout("budi", T0).failures == 0  # a good log-in starts a new chain


def test_the_chain_runs_out_and_only_an_admin_opens_the_account_again(folder):
    vault = Vault(folder)
    now = T0
    for _ in range(CHAIN_LENGTH):
        vault.unlock("budi", "salah-salah", now)
        now += timedelta(minutes=16)
    assert vault.unlock("budi", BUDI_PW, now).code == "exhausted"
    admin = open_with_password(folder, "admin", ADMIN_PW, now)
    admin.registry.operators.unlock("budi", now=now, by="admin")
    admin.registry.close()
    assert vault.unlock("budi", BUDI_PW, now).ok


def _edit(folder, change):
    path = folder / "registry.key"
    data = json.loads(path.read_bytes())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("change", [
    # the lockout reset by hand: a link off the chain, or a missing entry
    lambda d: d["lockout"]["budi"].update(link="00" * 32),
    lambda d: d["lockout"].pop("budi"),
    # a lock whose end was removed
    lambda d: d["lockout"]["budi"].update(locked_until=""),
])
def test_a_lockout_edited_by_hand_fails_closed(folder, change):
    vault = Vault(folder)
    for _ in range(5):
        vault.unlock("budi", "salah-salah", T0)
    _edit(folder, change)
    before = snapshot(folder)
    with pytest.raises(VaultError) as caught:
        vault.unlock("budi", BUDI_PW, T0 + timedelta(minutes=1))
    assert caught.value.code == "keyfile_damaged"
    assert "rusak atau telah diubah" in str(caught.value)
    assert snapshot(folder) == before


def test_a_fresh_chain_written_by_hand_unlocks_nothing_even_with_the_password(folder):
    """Someone replaces budi's anchor and link by a new chain of their own (no lockout any
    more): the body no longer matches its MAC, so even the right password opens nothing."""
    from storage import crypto

    vault = Vault(folder)
    for _ in range(5):
        vault.unlock("budi", "salah-salah", T0)
    first, anchor = crypto.chain_start(CHAIN_LENGTH)

    def fresh(data):
        data["body"]["wraps"]["budi"]["anchor"] = anchor
        data["lockout"]["budi"] = {"link": first, "locked_until": ""}

    _edit(folder, fresh)
    before = snapshot(folder)
    with pytest.raises(VaultError) as caught:
        vault.unlock("budi", BUDI_PW, T0 + timedelta(minutes=1))
    assert caught.value.code == "keyfile_damaged"
    assert snapshot(folder) == before


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(p.read_bytes()[:200]),  # truncated
    lambda p: p.write_bytes(b""),
    lambda p: p.write_bytes(b"\xff\xfe garbage"),
    lambda p: p.write_text(json.dumps({"format": "lain", "version": 1})),
])
def test_a_damaged_key_file_opens_nothing_and_is_left_as_it_is(folder, damage):
    damage(folder / "registry.key")
    before = snapshot(folder)
    with pytest.raises(VaultError) as caught:
        open_with_password(folder, "admin", ADMIN_PW, T0)
    assert caught.value.code == "keyfile_damaged"
    with pytest.raises(VaultError):
        open_with_recovery(folder, folder.recovery)
    assert snapshot(folder) == before


def test_a_wrap_moved_to_another_name_opens_nothing(folder):
    """The admin's sealed key put under budi's name (lockout left alone): the seal is bound to
    the username, so the admin's password does not open it as budi."""
    def swap(data):
        wraps = data["body"]["wraps"]
        for part in ("salt", "nonce", "ct"):
            wraps["budi"][part] = wraps["admin"][part]

    _edit(folder, swap)
    with pytest.raises(UnlockError) as caught:
        open_with_password(folder, "budi", ADMIN_PW, T0)
    assert caught.value.code == "bad_credentials"


def test_a_database_that_does_not_match_its_key_file_is_said_and_left(folder, tmp_path_factory):
    other = tmp_path_factory.mktemp("other")
    set_up(other, "admin", "Admin Lain", ADMIN_PW, T0).registry.close()
    shutil.copy(other / "registry.sqlite3", folder / "registry.sqlite3")
    before = snapshot(folder)
    with pytest.raises(StorageError) as caught:
        open_with_password(folder, "admin", ADMIN_PW, T0)
    assert caught.value.code == "key_mismatch"
    assert "tidak cocok dengan berkas kunci" in str(caught.value)
    assert snapshot(folder) == before


def test_a_missing_database_is_never_replaced_by_an_empty_one(folder):
    (folder / "registry.sqlite3").unlink()
    with pytest.raises(VaultError) as caught:
        open_with_password(folder, "admin", ADMIN_PW, T0)
    assert caught.value.code == "database_missing"
    assert not (folder / "registry.sqlite3").exists()


def test_a_missing_key_file_is_said_and_nothing_is_made(folder):
    (folder / "registry.key").unlink()
    before = snapshot(folder)
    with pytest.raises(VaultError) as caught:
        open_with_password(folder, "admin", ADMIN_PW, T0)
    assert caught.value.code == "keyfile_missing"
    assert snapshot(folder) == before


def test_the_recovery_key_opens_it_after_every_password_was_forgotten(folder):
    with pytest.raises(VaultError) as caught:
        open_with_recovery(folder, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF")
    assert caught.value.code == "bad_recovery"
    assert "Kunci pemulihan salah" in str(caught.value)
    # Groups typed in lower case with spaces still open it.
    recovered = open_with_recovery(folder, folder.recovery.lower().replace("-", " "))
    assert recovered.registry.get_setting("operator_name") == "penanda"
    recovered.registry.operators.change_password("admin", "sandi-baru-9", now=T0,
                                                 by="pemulihan")
    recovered.registry.close()
    opened = open_with_password(folder, "admin", "sandi-baru-9", T0)
    opened.registry.close()
    with pytest.raises(UnlockError):
        open_with_password(folder, "admin", ADMIN_PW, T0)


def test_a_password_change_rewraps_and_the_old_password_opens_nothing(folder):
    opened = open_with_password(folder, "budi", BUDI_PW, T0)
    opened.registry.operators.change_password("budi", "sandi-budi-2", now=T0, by="budi",
                                              old_password=BUDI_PW)
    opened.registry.close()
    with pytest.raises(UnlockError):
        open_with_password(folder, "budi", BUDI_PW, T0)
    open_with_password(folder, "budi", "sandi-budi-2", T0).registry.close()


def test_a_deactivated_operator_no_longer_has_a_wrap(folder):
    opened = open_with_password(folder, "admin", ADMIN_PW, T0)
    opened.registry.operators.deactivate("budi", now=T0, by="admin")
    opened.registry.close()
    assert "budi" not in json.loads((folder / "registry.key").read_bytes())["body"]["wraps"]
    with pytest.raises(UnlockError) as caught:
        open_with_password(folder, "budi", BUDI_PW, T0)
    assert caught.value.code == "bad_credentials"


def test_the_lock_screen_log_in_goes_through_the_key_file(folder):
    opened = open_with_password(folder, "admin", ADMIN_PW, T0)
    operators = opened.registry.operators
    assert operators.log_in("budi", "salah-salah", T0).code == "bad_credentials"
    assert Vault(folder).lockout("budi", T0).failures == 1
    result = operators.log_in("budi", BUDI_PW, T0)
    assert result.ok and result.operator.username == "budi"
    actions = [r[0] for r in opened.registry.db_for_tests.execute(
        "SELECT action FROM audit_log WHERE entity = 'operator' ORDER BY seq")]
    assert actions[-3:] == ["operator.login_failed", "operator.login_failed", "operator.login"]
    opened.registry.close()


def test_a_change_made_while_a_password_is_checked_is_kept(folder, monkeypatch):
    """The window counts budi's failed log-in while, at the same moment, an admin's command
    adds an account: the failure is counted on the key file as it is after the addition, and
    the new account's wrap is not written over with the older file."""
    from storage import crypto

    admin = open_with_password(folder, "admin", ADMIN_PW, T0)
    real_kek = crypto.password_kek
    done = []

    def slow_kek(password, salt, *args):
        if password == "salah-salah" and not done:
            done.append(True)
            admin.registry.operators.add("sari", "Sari", "petugas", "sandi-sari-1", now=T0,
                                         by="admin")
        return real_kek(password, salt, *args)

    monkeypatch.setattr(crypto, "password_kek", slow_kek)
    assert Vault(folder).unlock("budi", "salah-salah", T0).code == "bad_credentials"
    admin.registry.close()
    assert Vault(folder).lockout("budi", T0).failures == 1
    open_with_password(folder, "sari", "sandi-sari-1", T0).registry.close()


def test_the_lockout_settings_reach_the_key_file_at_the_next_log_in(folder):
    opened = open_with_password(folder, "admin", ADMIN_PW, T0)
    opened.registry.set_setting("login_max_failures", 3)
    opened.registry.set_setting("login_lockout_minutes", 30)
    opened.registry.close()
    open_with_password(folder, "admin", ADMIN_PW, T0).registry.close()  # applied here
    vault = Vault(folder)
    results = [vault.unlock("budi", "salah-salah", T0).code for _ in range(3)]
    assert results == ["bad_credentials", "bad_credentials", "locked"]
    assert vault.unlock("budi", BUDI_PW, T0 + timedelta(minutes=20)).code == "locked"
    assert vault.unlock("budi", BUDI_PW, T0 + timedelta(minutes=31)).ok
