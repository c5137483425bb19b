"""Operator accounts (storage/operators.py): hashing, lockout with a moving clock, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from storage.operators import (
    MESSAGES,
    OperatorError,
    check_password,
    hash_password,
    verify_password,
)
from storage.registry import Registry

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PASSWORD = "rahasia-jambi"


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


@pytest.fixture
def ops(registry):
    operators = registry.operators
    operators.add("Admin", "Ibu Admin", "admin", PASSWORD, now=T0)
    operators.add("budi", "Budi Santoso", "petugas", PASSWORD, now=T0, by="admin")
    return operators


def _audit(registry, action=None):
    rows = registry.db_for_tests.execute(
        "SELECT operator, action, entity, entity_id, detail FROM audit_log ORDER BY seq"
    ).fetchall()
    return [r for r in rows if action is None or r[1] == action]


def test_hash_is_salted_scrypt_and_never_the_password(ops, registry):
    a, b = hash_password(PASSWORD), hash_password(PASSWORD)
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert verify_password(PASSWORD, a) and verify_password(PASSWORD, b)
    assert not verify_password(PASSWORD + "x", a)
    assert not verify_password(PASSWORD, "garbage")
    stored = [r[0] for r in registry.db_for_tests.execute("SELECT password_hash FROM operators")]
    assert len(set(stored)) == 2  # same password, different salts
    salts = {h.split("$")[4] for h in stored}
    assert len(salts) == 2
    dump = "\n".join(registry.db_for_tests.conn.iterdump())
    assert PASSWORD not in dump


def test_usernames_are_case_insensitive_and_unique(ops):
    assert ops.get("ADMIN").display_name == "Ibu Admin"
    assert ops.log_in("BuDi", PASSWORD, T0).ok
    with pytest.raises(OperatorError) as err:
        ops.add("BUDI", "Budi Lain", "petugas", PASSWORD, now=T0, by="admin")
    assert err.value.code == "username_taken"


def test_rules_for_new_accounts(registry):
    operators = registry.operators
    with pytest.raises(OperatorError, match="pertama harus admin"):
        operators.add("budi", "Budi", "petugas", PASSWORD, now=T0)
    with pytest.raises(OperatorError, match="paling sedikit 8"):
        operators.add("admin", "Admin", "admin", "pendek", now=T0)
    with pytest.raises(OperatorError) as err:
        operators.add("a b", "Admin", "admin", PASSWORD, now=T0)
    assert err.value.code == "username_invalid"
    with pytest.raises(OperatorError):
        operators.add("admin", "Admin", "superuser", PASSWORD, now=T0)
    with pytest.raises(OperatorError):
        check_password(PASSWORD, PASSWORD + "!")
    assert operators.count() == 0


def test_wrong_username_and_wrong_password_look_the_same(ops):
    unknown = ops.log_in("siapa", PASSWORD, T0)
    wrong = ops.log_in("budi", "salah-sekali", T0)
    assert not unknown.ok and not wrong.ok
    assert (unknown.code, unknown.message) == (wrong.code, wrong.message)
    assert unknown.message == MESSAGES["bad_credentials"]


def test_five_failures_lock_for_fifteen_minutes_then_a_success_resets(ops, registry):
    clock = T0
    for attempt in range(1, 5):
        result = ops.log_in("budi", f"salah-{attempt}", clock)
        assert result.code == "bad_credentials"
        assert ops.get("budi").failed_attempts == attempt
        clock += timedelta(seconds=30)
    fifth = ops.log_in("budi", "salah-5", clock)
    assert fifth.code == "locked" and fifth.locked_until == clock + timedelta(minutes=15)
    assert "dikunci" in fifth.message
    # Locked: even the right password is refused until the time has passed.
    assert ops.log_in("budi", PASSWORD, clock + timedelta(minutes=14, seconds=59)).code == "locked"
    later = clock + timedelta(minutes=15)
    result = ops.log_in("budi", PASSWORD, later)
    assert result.ok and result.operator.display_name == "Budi Santoso"
    assert ops.get("budi").failed_attempts == 0 and not ops.get("budi").locked_at(later)
    assert [r[1] for r in _audit(registry, "operator.locked")] == ["operator.locked"]
    assert registry.audit_chain_ok()


def test_a_success_resets_the_count_of_failures(ops):
    for _ in range(4):
        ops.log_in("budi", "salah-lagi", T0)
    assert ops.log_in("budi", PASSWORD, T0).ok
    for _ in range(4):
        assert ops.log_in("budi", "salah-lagi", T0).code == "bad_credentials"
    assert ops.get("budi").failed_attempts == 4


def test_the_limits_are_declared_settings(ops, registry):
    registry.set_setting("login_max_failures", 2)
    registry.set_setting("login_lockout_minutes", 1)
    ops.log_in("budi", "salah-1", T0)
    assert ops.log_in("budi", "salah-2", T0).code == "locked"
    assert ops.log_in("budi", PASSWORD, T0 + timedelta(minutes=1)).ok


def test_admin_unlock_reset_and_deactivate(ops, registry):
    for _ in range(5):
        ops.log_in("budi", "salah-lagi", T0)
    assert ops.get("budi").locked_at(T0)
    ops.unlock("budi", now=T0, by="admin")
    assert ops.log_in("budi", PASSWORD, T0).ok

    ops.change_password("budi", "sandi-baru-1", now=T0, by="admin")
    assert not ops.log_in("budi", PASSWORD, T0).ok
    assert ops.log_in("budi", "sandi-baru-1", T0).ok
    with pytest.raises(OperatorError, match="lama salah"):
        ops.change_password("budi", "sandi-baru-2", now=T0, old_password="keliru-keliru")
    ops.change_password("budi", "sandi-baru-2", now=T0, old_password="sandi-baru-1")
    assert ops.log_in("budi", "sandi-baru-2", T0).ok

    ops.deactivate("budi", now=T0, by="admin")
    refused = ops.log_in("budi", "sandi-baru-2", T0)
    assert refused.code == "bad_credentials"  # an inactive account is not told apart
    assert [o.username for o in ops.list(include_inactive=False)] == ["admin"]
    with pytest.raises(OperatorError, match="Admin aktif terakhir"):
        ops.deactivate("admin", now=T0, by="admin")


def test_every_login_and_change_is_audited_without_passwords(ops, registry):
    ops.log_in("budi", PASSWORD, T0)
    ops.log_in("budi", "bukan-ini-sandinya", T0)
    ops.log_in("1571010101909901", PASSWORD, T0)  # something typed in the wrong field
    ops.unlock("budi", now=T0, by="admin")
    ops.change_password("budi", "sandi-baru-1", now=T0, by="admin")
    ops.deactivate("budi", now=T0, by="admin")
    rows = _audit(registry)
    actions = [r[1] for r in rows]
    assert actions == ["operator.create", "operator.create", "operator.login",
                       "operator.login_failed", "operator.login_failed", "operator.unlock",
                       "operator.password_reset", "operator.deactivate"]
    assert rows[1][0] == "admin" and rows[1][3] == "budi"
    assert json.loads(rows[4][4]) == {"known": False}
    text = json.dumps(rows)
    for secret in (PASSWORD, "bukan-ini-sandinya", "sandi-baru-1", "1571010101909901"):
        assert secret not in text
    assert registry.audit_chain_ok()


def test_time_must_be_given_with_its_zone(ops):
    with pytest.raises(ValueError):
        ops.log_in("budi", PASSWORD, datetime(2026, 1, 1))


def test_an_older_database_gains_the_table_and_keeps_its_data(tmp_path):
    from storage.db import open_database

    path = tmp_path / "r.sqlite3"
    open_database(path, stop_before="0009_operators").close()
    registry = Registry.open(path)
    try:
        assert registry.operators.count() == 0
        assert "operators" in registry.db_for_tests.table_names()
    finally:
        registry.close()
