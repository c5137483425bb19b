"""Every declared setting has labels, a default of its type, and round-trips through the DB."""

from __future__ import annotations

import pytest

from storage.registry import Registry
from storage.settings import SETTINGS, coerce, declared


def _sample(setting):
    if setting.choices:
        return setting.choices[-1]
    if setting.type is int:
        return (setting.minimum or 0) + 7
    if setting.type is bool:
        return not setting.default
    return "Nilai contoh ünïcode"


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_declared_once_with_labels_and_typed_default(setting):
    assert [s.name for s in SETTINGS].count(setting.name) == 1
    assert setting.label_id.strip() and setting.label_en.strip()
    assert isinstance(setting.default, setting.type)
    assert coerce(setting.name, setting.default) == setting.default


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_round_trip(registry, setting):
    if setting.name == "device_id":
        assert registry.get_setting("device_id") == registry.device_id
    else:
        assert registry.get_setting(setting.name) == setting.default
    value = _sample(setting)
    registry.set_setting(setting.name, value)
    assert registry.get_setting(setting.name) == value


def test_defaults_from_the_brief(registry):
    assert registry.get_setting("sync_batch_size") == 200
    assert declared("language").default == "id"


def test_undeclared_and_wrong_values_are_refused(registry):
    with pytest.raises(KeyError):
        registry.get_setting("no_such_setting")
    with pytest.raises(KeyError):
        registry.set_setting("no_such_setting", 1)
    with pytest.raises(ValueError, match="angka"):
        registry.set_setting("sync_batch_size", "banyak")
    with pytest.raises(ValueError, match="paling kecil"):
        registry.set_setting("sync_batch_size", 0)
    with pytest.raises(ValueError, match="pilih salah satu"):
        registry.set_setting("language", "fr")
    assert registry.get_setting("sync_batch_size") == 200
