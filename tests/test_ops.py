"""The operations both doors run (ops/): an import's dry run keeps nothing, the import keeps
its mapping for the next list, a kegiatan is found by name before one is made, and a reprint on
a device without a server is signed with its own demo key."""

from __future__ import annotations

from datetime import date

import pytest
from test_csv_import import HEADER, as_row, write_csv

from cards import desk
from cards.demo import fund_demo_members
from ops import cards as card_ops
from ops.imports import event_named, import_list, open_list
from storage.demo import fill_demo_data, generate_workers
from storage.registry import RegistrationFilter, Registry

AS_OF = date(2026, 11, 24)


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


def _list_with_own_headings(tmp_path, registry, count: int):
    """A list whose first column is not a documented name: the mapping step applies."""
    headers = ["Kolom 1", *HEADER[1:]]
    rows = [dict(as_row(reg, registry), **{"Kolom 1": reg.nik})
            for reg in generate_workers(count, seed=51, as_of=AS_OF)]
    path = tmp_path / "daftar.csv"
    write_csv(path, rows, header=headers)
    return path


def test_a_dry_run_keeps_nothing_and_the_import_keeps_its_mapping(tmp_path, registry):
    path = _list_with_own_headings(tmp_path, registry, 3)
    table, mapping, kept = open_list(registry, path)
    assert not kept and mapping[0] == ""  # not guessed: the operator (or --map) chooses
    mapping = ["nik", *mapping[1:]]

    checked = import_list(registry, table, mapping, operator="Budi", dry_run=True, as_of=AS_OF)
    assert checked.dry_run and checked.imported == 3
    assert registry.count(RegistrationFilter()) == 0
    assert open_list(registry, path)[2] is False  # the dry run remembered no mapping

    done = import_list(registry, table, mapping, operator="Budi", as_of=AS_OF)
    assert done.imported == 3 and registry.count(RegistrationFilter()) == 3
    _table, again, kept = open_list(registry, path)
    assert kept and again == mapping


def test_a_kegiatan_is_found_by_its_name_before_one_is_made(registry):
    made = event_named(registry, "Pasar  Angso Duo", "Budi")
    assert event_named(registry, " Pasar Angso Duo ", "Budi") == made
    assert event_named(registry, "Kampung Manggis", "Budi") != made
    assert [e.name for e in registry.events()].count("Pasar Angso Duo") == 1


def test_a_device_without_a_server_reprints_with_its_demo_key(tmp_path, registry):
    fill_demo_data(registry, 6, seed=52, as_of=AS_OF)
    fund_demo_members(registry, tmp_path, share=1.0, seed=52, today=AS_OF)
    reg_id = desk.members_ready_to_print(registry)[0].registration_id
    plan = card_ops.plan_reprint(registry, reg_id)
    assert not plan.on_server and plan.client is None
    serial, version = card_ops.reprint(registry, reg_id, "lost", operator="Petugas cetak",
                                       data_dir=tmp_path)
    assert version == 2 and desk.current_card_version(registry, reg_id) == 2
    assert (tmp_path / "keys" / "private").is_dir()
