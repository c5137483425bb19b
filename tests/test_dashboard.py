"""The dashboard's numbers: every number on the page equals a count made here with SQL over the
registrations table, for several filters and years; the XLSX holds the same tables; the PDF
report and the admin's commands."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from dashboard_util import USERS, Fixture, expected_numbers, log_in, page_numbers

import main
from server.rules import server_today


@pytest.fixture(scope="module")
def fx(tmp_path_factory, server_engine):
    fixture = Fixture(tmp_path_factory.mktemp("dashboard") / "server")
    yield fixture
    fixture.stop()


@pytest.fixture(scope="module")
def disnaker(fx):
    session, answer = log_in(fx.url, USERS["disnaker"])
    assert answer.status_code == 200 and answer.url.endswith("/dashboard")
    return session


def _filters(fx) -> list[dict]:
    db = fx.store.reader()
    kec, kel = db.execute("SELECT kecamatan_code, kelurahan_code FROM registrations "
                          "ORDER BY id LIMIT 1").fetchone()
    event = db.execute("SELECT event_id FROM registrations WHERE event_id IS NOT NULL "
                       "GROUP BY event_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    this_year = server_today().year
    return [
        {"year": this_year},
        {"year": 2025},
        {"year": this_year, "kecamatan": kec},
        {"year": 2025, "kecamatan": kec, "kelurahan": kel},
        {"year": this_year, "cohort": "petugas_keagamaan"},
        {"year": this_year, "occupation": "ojek_online", "cohort": "pekerja_rentan"},
        {"year": 2025, "kegiatan": event},
    ]


def test_the_fixture_has_every_status_several_years_places_and_kegiatan(fx):
    db = fx.store.reader()
    statuses = {r[0] for r in db.execute("SELECT DISTINCT status FROM registrations")}
    assert statuses >= {"received", "verified", "rejected", "funded", "card_printed",
                        "card_handed_over", "died", "inactive"}
    assert db.execute("SELECT COUNT(DISTINCT kecamatan_code) FROM registrations").fetchone()[0] > 5
    assert db.execute("SELECT COUNT(DISTINCT event_id) FROM registrations").fetchone()[0] > 5
    assert db.execute("SELECT COUNT(DISTINCT programme_year) FROM registrations").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(DISTINCT cohort) FROM registrations").fetchone()[0] == 2


def test_every_number_on_the_page_equals_an_independent_sql_count(fx, disnaker):
    for filters in _filters(fx):
        page = disnaker.get(f"{fx.url}/dashboard", params=filters, timeout=60)
        assert page.status_code == 200
        shown = page_numbers(page.text)
        expected = expected_numbers(fx.store, filters["year"], filters, server_today())
        assert shown.keys() == expected.keys(), (filters, shown.keys() ^ expected.keys())
        wrong = {k: (shown[k], expected[k]) for k in shown if shown[k] != expected[k]}
        assert wrong == {}, filters
        assert shown["funnel.recorded"] > 0, filters


def test_numbers_follow_a_change_made_through_the_api(fx, disnaker):
    """The dashboard's copy follows registrations.seq: a new push shows at once."""
    before = page_numbers(disnaker.get(f"{fx.url}/dashboard", timeout=60).text)
    fx._push_some()
    after = page_numbers(disnaker.get(f"{fx.url}/dashboard", timeout=60).text)
    assert after["funnel.recorded"] == before["funnel.recorded"] + 3
    expected = expected_numbers(fx.store, server_today().year, {}, server_today())
    assert after == expected


def test_unknown_filter_values_are_ignored_with_a_note(fx, disnaker):
    page = disnaker.get(f"{fx.url}/dashboard", timeout=60, params={
        "year": "20x5", "kecamatan": "99.99.99", "kelurahan": "<script>", "cohort": "nelayan",
        "occupation": "astronot", "kegiatan": "no-such-id"})
    assert page.status_code == 200
    notes = page.text.count('class="note filter-note"')
    assert notes == 6
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    plain = page_numbers(disnaker.get(f"{fx.url}/dashboard", timeout=60).text)
    assert page_numbers(page.text) == plain


def test_a_kelurahan_outside_the_chosen_kecamatan_is_ignored(fx, disnaker):
    db = fx.store.reader()
    kec, kel = db.execute("SELECT a.kecamatan_code, b.kelurahan_code FROM registrations a, "
                          "registrations b WHERE a.kecamatan_code != b.kecamatan_code "
                          "LIMIT 1").fetchone()
    page = disnaker.get(f"{fx.url}/dashboard", params={"kecamatan": kec, "kelurahan": kel},
                        timeout=60)
    assert "saringan kelurahan diabaikan" in page.text
    expected = expected_numbers(fx.store, server_today().year, {"kecamatan": kec},
                                server_today())
    assert page_numbers(page.text) == expected


def test_xlsx_holds_the_same_tables(fx, disnaker):
    filters = {"year": 2025}
    answer = disnaker.get(f"{fx.url}/dashboard/export.xlsx", params=filters, timeout=60)
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    expected = expected_numbers(fx.store, 2025, filters, server_today())
    summary = {row[0]: row[1] for row in book["Ringkasan"].iter_rows(values_only=True)}
    assert summary["Tercatat"] == expected["funnel.recorded"]
    assert summary["Didanai"] == expected["funnel.funded"]
    assert summary["Kartu diserahkan"] == expected["funnel.card_handed_over"]
    assert summary["Ditolak"] == expected["funnel.rejected"]
    rows = list(book["Kecamatan"].iter_rows(values_only=True))
    header = rows[0]
    for row in rows[1:-1]:
        item = dict(zip(header, row, strict=True))
        for column, key in (("Tercatat", "recorded"), ("Terverifikasi", "verified"),
                            ("Didanai", "funded"), ("Kartu diserahkan", "card_handed_over")):
            assert item[column] == expected[f"kec.{item['Kode']}.{key}"]
    budget = list(book["Anggaran"].iter_rows(values_only=True))
    assert budget[-1][1:3] == (expected["budget.total.members"],
                               expected["budget.total.commitment"])
    assert len(book.sheetnames) >= 12


def test_pdf_report_by_http_and_by_command(fx, disnaker, tmp_path, capsys):
    answer = disnaker.get(f"{fx.url}/dashboard/report.pdf", params={"month": "2026-11"},
                          timeout=120)
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    text = _pdf_text(answer.content, tmp_path)
    assert "Laporan Bulanan November 2026" in text
    expected = expected_numbers(fx.store, 2026, {}, min(server_today(), date(2026, 11, 30)))
    assert f"{expected['funnel.recorded']:,}".replace(",", ".") in text
    out = tmp_path / "laporan.pdf"
    code = main.main(["server", "report", "--data-dir", str(fx.store.data_dir),
                      "--month", "2026-11", "--out", str(out)])
    assert code == 0 and out.read_bytes().startswith(b"%PDF")
    assert "Laporan Bulanan November 2026" in _pdf_text(out.read_bytes(), tmp_path)
    assert main.main(["server", "report", "--data-dir", str(fx.store.data_dir),
                      "--month", "November", "--out", str(out)]) == 2


def _pdf_text(body: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is needed: make sysdeps")
    path = tmp_path / "r.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_dashboard_user_commands(tmp_path, capsys, monkeypatch):
    data = str(tmp_path / "server")
    monkeypatch.setattr("sys.stdin", io.StringIO("rahasia-sekali-1\n"))
    assert main.main(["server", "dashboard-user", "add", "--data-dir", data, "kadis",
                      "--name", "Kepala Dinas", "--role", "disnaker", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("pendek\n"))
    assert main.main(["server", "dashboard-user", "passwd", "--data-dir", data, "kadis",
                      "--password-stdin"]) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("rahasia-sekali-2\n"))
    assert main.main(["server", "dashboard-user", "passwd", "--data-dir", data, "kadis",
                      "--password-stdin"]) == 0
    assert main.main(["server", "dashboard-user", "list", "--data-dir", data]) == 0
    assert "kadis" in capsys.readouterr().out
    assert main.main(["server", "dashboard-user", "disable", "--data-dir", data, "kadis"]) == 0
    assert main.main(["server", "dashboard-user", "disable", "--data-dir", data, "kadis"]) == 1
    main.main(["server", "dashboard-user", "list", "--data-dir", data])
    assert "nonaktif" in capsys.readouterr().out


def test_the_copy_goes_in_chunks_and_drops_erased_registrations(tmp_path, monkeypatch):
    from bench.bench_dashboard import fill
    from server.dashboard import facts
    from server.store import Store

    store = Store(tmp_path / "server")
    try:
        fill(store, 350, seed=5)
        writes = []
        real_write = store.write
        monkeypatch.setattr(store, "write", lambda: writes.append(1) or real_write())
        monkeypatch.setattr(facts, "CHUNK", 100)
        mark = facts.refresh(store)
        db = store.reader()
        assert mark == db.execute("SELECT MAX(seq) FROM registrations").fetchone()[0]
        assert len(writes) >= 4  # the indexes, then 100 + 100 + 100 + 50 rows
        assert db.execute("SELECT COUNT(*) FROM dashboard_facts").fetchone()[0] == 350
        with real_write() as wdb:
            wdb.execute("DELETE FROM registrations WHERE id IN "
                        "(SELECT id FROM registrations LIMIT 3)")
        facts.refresh(store)
        assert db.execute("SELECT COUNT(*) FROM dashboard_facts").fetchone()[0] == 347
        today = server_today()
        from server.dashboard import queries
        from server.dashboard.filters import Filters

        data = queries.overview(store, Filters(year=today.year), today, use_cache=False)
        expected = expected_numbers(store, today.year, {}, today)
        assert data["funnel"]["stages"][0]["count"] == expected["funnel.recorded"]
    finally:
        store.close()


def test_the_server_copies_the_registrations_when_it_starts(tmp_path):
    import asyncio
    import threading

    from bench.bench_dashboard import fill
    from server.app import create_app

    app = create_app(tmp_path / "server")
    store = app.state.store
    try:
        fill(store, 120, seed=6)

        async def start_and_stop():
            async with app.router.lifespan_context(app):
                pass

        asyncio.run(start_and_stop())
        for thread in threading.enumerate():
            if thread.name == "dashboard-copy":
                thread.join(timeout=30)
        db = store.reader()
        assert db.execute("SELECT COUNT(*) FROM dashboard_facts").fetchone()[0] == 120
    finally:
        store.close()


# --- JKM claims and money paid (issue 14 item 5) ----------------------------------------------


def _add_claims(fx) -> None:
    """Claims at every stage, deaths this year and in 2025, written as server/claims.py keeps
    them (the amount only once paid)."""
    this_year = server_today().year
    stages = [("recorded", None), ("submitted", None), ("paid", 42_000_000),
              ("handed_over", 42_000_000), ("paid", 40_500_000), ("handed_over", 42_000_000)]
    with fx.store.write() as db:
        ids = [r[0] for r in db.execute(
            "SELECT id FROM registrations WHERE id NOT IN (SELECT record_id FROM claims) "
            "ORDER BY id LIMIT 9").fetchall()]
        for i, record_id in enumerate(ids):
            stage, amount = stages[i % len(stages)]
            year = this_year if i % 3 else 2025
            db.execute(
                "INSERT INTO claims (record_id, died_on, death_place, certificate_no, "
                "reported_by, recorded_at, claimant_name, stage, amount, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                [record_id, f"{year}-0{1 + i % 9}-1{i % 9}", "Kota Jambi", f"AKT-{i}",
                 "Ketua RT", f"{year}-10-01T00:00:00Z", f"Ahli Waris Uji {i}", stage, amount,
                 f"{year}-10-02T00:00:{i:02d}Z"])


def test_claims_and_rupiah_paid_equal_an_independent_sql_count(fx, disnaker, tmp_path):
    before = page_numbers(disnaker.get(f"{fx.url}/dashboard", timeout=60).text)
    _add_claims(fx)
    this_year = server_today().year
    for year in (this_year, 2025):
        shown = page_numbers(disnaker.get(f"{fx.url}/dashboard", params={"year": year},
                                          timeout=60).text)
        expected = expected_numbers(fx.store, year, {}, server_today())
        claims = {k: v for k, v in expected.items() if k.startswith("claims.")}
        assert {k: shown[k] for k in claims} == claims
        assert claims["claims.deaths"] > 0 and claims["claims.paid_rupiah"] > 0
    after = page_numbers(disnaker.get(f"{fx.url}/dashboard", timeout=60).text)
    assert after["claims.deaths"] > before["claims.deaths"]  # the cache saw the new claims
    expected = expected_numbers(fx.store, this_year, {}, server_today())
    answer = disnaker.get(f"{fx.url}/dashboard/export.xlsx", timeout=60)
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    sheet = dict(book[f"Klaim JKM {this_year}"].iter_rows(min_row=2, values_only=True))
    assert sheet["Kematian dicatat"] == expected["claims.deaths"]
    assert sheet["Klaim dibayar"] == expected["claims.paid"]
    assert sheet["Santunan dibayar (Rp)"] == expected["claims.paid_rupiah"]
    month = server_today().strftime("%Y-%m")
    text = _pdf_text(disnaker.get(f"{fx.url}/dashboard/report.pdf", params={"month": month},
                                  timeout=120).content, tmp_path)
    assert "Klaim JKM" in text
    rupiah = "Rp" + f"{expected['claims.paid_rupiah']:,}".replace(",", ".")
    assert rupiah in text


# --- what waits on silent devices (issue 15, data freshness) ----------------------------------


def test_the_waiting_count_of_silent_devices_comes_from_a_real_device_sync(fx, disnaker,
                                                                          tmp_path):
    from sync_util import enrolled_device

    from storage.demo import fill_demo_data
    from sync import state
    from sync.engine import PULL, run_sync
    from sync.enrol import client_for

    device = enrolled_device(tmp_path / "kampung.sqlite3", fx.url, fx.store.data_dir)
    fill_demo_data(device, 4, seed=21)
    made = []

    def meanwhile(done, total, phase):
        """The enumerator saves three more while the sync runs (after the push)."""
        if phase == PULL and not made:
            made.append(fill_demo_data(device, 3, seed=22))

    client = client_for(device)
    try:
        report = run_sync(device, client, progress=meanwhile)
    finally:
        client.close()
    assert report.accepted == 4 and device.outbox_count() == 3
    device_id = state.device_id(device)
    shown = page_numbers(disnaker.get(f"{fx.url}/dashboard", timeout=60).text)
    assert shown[f"dev.{device_id}.waiting"] == 3  # reported, but the device is not silent
    before = shown["fresh.silent_waiting"]

    # The device goes quiet: its last push, pull and report are eight days old.
    old = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    with fx.store.write() as db:
        db.execute("UPDATE batches SET received_at = ? WHERE device_id = ?", [old, device_id])
        db.execute("UPDATE pulls SET at = ? WHERE device_id = ?", [old, device_id])
        db.execute("UPDATE device_outbox SET at = ? WHERE device_id = ?", [old, device_id])
    page = disnaker.get(f"{fx.url}/dashboard", timeout=60).text
    shown = page_numbers(page)
    expected = expected_numbers(fx.store, server_today().year, {}, server_today())
    assert shown == expected
    assert shown["fresh.silent_waiting"] == before + 3
    independent = fx.store.reader().execute(
        "SELECT COALESCE(SUM(o.pending), 0) FROM device_outbox o "
        "JOIN devices d ON d.id = o.device_id "
        "WHERE d.revoked_at IS NULL AND o.device_id NOT IN (SELECT device_id FROM batches "
        "WHERE received_at > ? UNION SELECT device_id FROM pulls WHERE at > ?)",
        [*(2 * [(datetime.now(UTC) - timedelta(days=7)).isoformat()])]).fetchone()[0]
    assert shown["fresh.silent_waiting"] == independent
