"""The dashboard's doors: log-in, sessions, CSRF, lockout, roles, and that the pimpinan role never
receives a name or a NIK (every response body searched for every fixture name and NIK)."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
import requests
from dashboard_util import PASSWORD, USERS, Fixture, log_in

from server.dashboard import accounts
from server.dashboard.routes import COOKIE, LOGIN_CSRF_COOKIE


@pytest.fixture(scope="module")
def fx(tmp_path_factory, server_engine):
    fixture = Fixture(tmp_path_factory.mktemp("dashboard-sec") / "server", count=300)
    yield fixture
    fixture.stop()


def _user(fx, role: str, name: str) -> str:
    accounts.add_user(fx.store, name, f"Uji {name}", role, PASSWORD)
    return name


def test_without_a_session_every_page_goes_to_the_log_in_and_back_with_the_filters(fx):
    for path in ("/dashboard?year=2025&kecamatan=15.71.01", "/dashboard/people?cohort=x",
                 "/dashboard/export.xlsx?year=2025", "/dashboard/report.pdf?month=2026-11"):
        answer = requests.get(fx.url + path, allow_redirects=False, timeout=30)
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("/dashboard/login?next=")
        assert unquote(location.split("next=", 1)[1]) == path
    session, answer = log_in(fx.url, USERS["disnaker"], target="/dashboard?year=2025&kecamatan=15.71.01")
    assert answer.url.endswith("/dashboard?year=2025&kecamatan=15.71.01")
    assert '<option value="15.71.01" selected>' in answer.text


def test_the_session_cookie_is_httponly_strict_and_secure_under_tls(fx):
    _, answer = log_in(fx.url, USERS["disnaker"])
    cookie = answer.history[0].headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/dashboard" in cookie and "Secure" not in cookie
    # Behind a TLS proxy on this host (uvicorn trusts X-Forwarded-Proto from 127.0.0.1).
    tls = requests.Session()
    tls.headers["X-Forwarded-Proto"] = "https"
    page = tls.get(f"{fx.url}/dashboard/login", timeout=30)
    assert "Secure" in page.headers["set-cookie"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    # requests keeps a Secure cookie off plain http: hand it over as the proxy would.
    answer = tls.post(f"{fx.url}/dashboard/login", allow_redirects=False, timeout=30,
                      cookies={LOGIN_CSRF_COOKIE: csrf}, data={
                          "csrf": csrf, "username": USERS["disnaker"], "password": PASSWORD})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_pages_carry_security_headers(fx):
    session, answer = log_in(fx.url, USERS["pimpinan"])
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"


def test_log_in_without_or_with_a_wrong_csrf_token_is_refused(fx):
    session = requests.Session()
    session.get(f"{fx.url}/dashboard/login", timeout=30)
    for token in (None, "salah"):
        data = {"username": USERS["disnaker"], "password": PASSWORD}
        if token:
            data["csrf"] = token
        answer = session.post(f"{fx.url}/dashboard/login", data=data, allow_redirects=False,
                              timeout=30)
        assert answer.status_code == 400
        assert f"{COOKIE}=" not in answer.headers.get("set-cookie", "")


def test_log_out_needs_the_session_csrf_token_and_ends_the_session(fx):
    session, answer = log_in(fx.url, USERS["disnaker"])
    csrf = re.search(r'name="csrf" value="([^"]+)"', answer.text).group(1)
    refused = session.post(f"{fx.url}/dashboard/logout", data={"csrf": "x" + csrf},
                           allow_redirects=False, timeout=30)
    assert refused.status_code == 400
    assert session.get(f"{fx.url}/dashboard", allow_redirects=False, timeout=30).status_code \
        == 200
    token = session.cookies.get(COOKIE)
    done = session.post(f"{fx.url}/dashboard/logout", data={"csrf": csrf},
                        allow_redirects=False, timeout=30)
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/login"
    stolen = requests.get(f"{fx.url}/dashboard", cookies={COOKIE: token},
                          allow_redirects=False, timeout=30)
    assert stolen.status_code == 303


def test_an_expired_session_returns_to_the_log_in_and_keeps_the_filters(fx):
    session, _ = log_in(fx.url, USERS["disnaker"])
    old = (datetime.now(UTC) - accounts.SESSION_IDLE - timedelta(minutes=1)).isoformat()
    with fx.store.write() as db:
        db.execute("UPDATE dashboard_sessions SET last_seen_at = ?", [old])
    answer = session.get(f"{fx.url}/dashboard", params={"year": "2025", "cohort":
                                                        "pekerja_rentan"}, timeout=30)
    assert "/dashboard/login" in answer.url
    assert "Sesi Anda sudah berakhir" in answer.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', answer.text).group(1)
    target = re.search(r'name="next" value="([^"]+)"', answer.text).group(1)
    back = session.post(f"{fx.url}/dashboard/login", timeout=30, data={
        "csrf": csrf, "username": USERS["disnaker"], "password": PASSWORD,
        "next": target.replace("&amp;", "&")})
    assert back.url.endswith("/dashboard?year=2025&cohort=pekerja_rentan")


def test_five_wrong_passwords_lock_the_account_until_a_new_password(fx):
    name = _user(fx, "disnaker", "coba.kunci")
    for attempt in range(5):
        _, answer = log_in(fx.url, name, "bukan-kata-sandinya")
        assert answer.status_code == 401
        assert ("dikunci" in answer.text) == (attempt == 4)
    _, answer = log_in(fx.url, name, PASSWORD)  # the right password, too late
    assert answer.status_code == 401 and "dikunci" in answer.text
    accounts.set_password(fx.store, name, "kata-sandi-baru-1")
    _, answer = log_in(fx.url, name, "kata-sandi-baru-1")
    assert answer.status_code == 200 and answer.url.endswith("/dashboard")


def test_unknown_and_disabled_accounts_get_the_same_refusal(fx):
    name = _user(fx, "pimpinan", "akan.nonaktif")
    session, answer = log_in(fx.url, name)
    assert answer.status_code == 200
    accounts.disable_user(fx.store, name)
    assert session.get(f"{fx.url}/dashboard", allow_redirects=False, timeout=30).status_code \
        == 303
    _, disabled = log_in(fx.url, name)
    _, unknown = log_in(fx.url, "tidak.ada")
    assert disabled.status_code == unknown.status_code == 401
    message = accounts.MESSAGES["bad_credentials"]
    assert message in disabled.text and message in unknown.text


def test_next_never_leaves_the_dashboard(fx):
    for target in ("https://contoh.invalid/", "//contoh.invalid/", "/api/v1/health"):
        _, answer = log_in(fx.url, USERS["disnaker"], target=target)
        assert answer.url == f"{fx.url}/dashboard"


def test_pimpinan_gets_403_on_lists_of_people(fx):
    session, _ = log_in(fx.url, USERS["pimpinan"])
    answer = session.get(f"{fx.url}/dashboard/people", timeout=30)
    assert answer.status_code == 403 and "Akses ditolak" in answer.text
    assert "Daftar orang" not in session.get(f"{fx.url}/dashboard", timeout=30).text


def test_disnaker_sees_people_with_masked_niks_only(fx):
    session, _ = log_in(fx.url, USERS["disnaker"])
    bodies = []
    for page in (1, 2):
        answer = session.get(f"{fx.url}/dashboard/people", params={"page": page}, timeout=30)
        assert answer.status_code == 200
        bodies.append(answer.text)
    assert any(name in bodies[0] for name in fx.names)
    assert re.search(r"\d{6}\*{6}\d{4}", bodies[0])
    for body in bodies:
        assert not any(nik in body for nik in fx.niks)
    total = int(re.search(r'data-n="people.total">([\d.]+)<', bodies[0]).group(1)
                .replace(".", ""))
    year = datetime.now(UTC).year
    expected = fx.store.reader().execute(
        "SELECT COUNT(*) FROM registrations WHERE COALESCE(programme_year, "
        "CAST(substr(received_at, 1, 4) AS INTEGER)) = ?", [year]).fetchone()[0]
    assert total == expected


def test_pimpinan_never_receives_a_name_or_a_nik(fx, tmp_path):
    session, answer = log_in(fx.url, USERS["pimpinan"])
    db = fx.store.reader()
    kec, kel, event = db.execute("SELECT kecamatan_code, kelurahan_code, event_id FROM "
                                 "registrations WHERE event_id IS NOT NULL LIMIT 1").fetchone()
    bodies = {"log-in": answer.text}
    for params in ({}, {"year": 2025}, {"kecamatan": kec}, {"kelurahan": kel},
                   {"kegiatan": event}, {"cohort": "petugas_keagamaan"},
                   {"kecamatan": fx.niks[0]}):  # a NIK typed as a filter is not echoed back
        bodies[f"page {params}"] = session.get(f"{fx.url}/dashboard", params=params,
                                               timeout=60).text
        bodies[f"people {params}"] = session.get(f"{fx.url}/dashboard/people", params=params,
                                                 timeout=60).text
    xlsx = session.get(f"{fx.url}/dashboard/export.xlsx", timeout=60).content
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        bodies["xlsx"] = " ".join(book.read(n).decode("utf-8") for n in book.namelist())
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(session.get(f"{fx.url}/dashboard/report.pdf", params={"month": "2026-11"},
                                timeout=120).content)
    bodies["pdf"] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                   text=True, check=True).stdout
    bodies["404"] = session.get(f"{fx.url}/dashboard/tidak-ada", timeout=30).text
    devices = [r[0] for r in db.execute("SELECT name FROM devices")]  # may name their users
    sensitive = fx.sensitive() + devices
    leaks = {where: [s for s in sensitive if s in body] for where, body in bodies.items()}
    assert {k: v for k, v in leaks.items() if v} == {}
    assert all(len(body) > 0 for body in bodies.values())


# --- the BPJS file (disnaker only, a POST with the session's CSRF token) ----------------------


def _csrf_of(session: requests.Session, fx) -> str:
    page = session.get(f"{fx.url}/dashboard", timeout=60).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _exports(fx) -> list[tuple]:
    return fx.store.reader().execute(
        "SELECT operator_username, operator, device_id, detail FROM office_audit "
        "WHERE action = 'bpjs_export' ORDER BY id").fetchall()


def test_only_disnaker_downloads_the_bpjs_file_with_the_csrf_token_and_it_is_audited(fx):
    from openpyxl import load_workbook

    url = f"{fx.url}/dashboard/bpjs-export.xlsx"
    before = len(_exports(fx))
    pimpinan, _ = log_in(fx.url, USERS["pimpinan"])
    page = pimpinan.get(f"{fx.url}/dashboard", timeout=60).text
    assert "bpjs-export" not in page  # no form for pimpinan ...
    answer = pimpinan.post(url, data={"csrf": _csrf_of(pimpinan, fx), "mode": "full"},
                           timeout=60)
    assert answer.status_code == 403 and "Akses ditolak" in answer.text  # ... nor the file
    assert not answer.content.startswith(b"PK")
    disnaker, _ = log_in(fx.url, USERS["disnaker"])
    csrf = _csrf_of(disnaker, fx)
    for data in ({"mode": "full"}, {"mode": "full", "csrf": "salah"},
                 {"mode": "full", "csrf": csrf + "x"}):
        answer = disnaker.post(url, data=data, timeout=60)
        assert answer.status_code == 400 and not answer.content.startswith(b"PK")
    assert disnaker.post(url, data={"mode": "semua", "csrf": csrf}, timeout=60).status_code == 400
    stranger = requests.post(url, data={"mode": "full", "csrf": csrf}, timeout=30,
                             allow_redirects=False)
    assert stranger.status_code == 303 and "/dashboard/login" in stranger.headers["location"]
    assert len(_exports(fx)) == before  # nothing refused was exported or audited

    answer = disnaker.post(url, data={"mode": "full", "csrf": csrf}, timeout=120)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-disposition"].startswith('attachment; filename="bpjs-full-')
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    active = fx.store.reader().execute(
        "SELECT COUNT(*) FROM registrations WHERE member_number != '' AND status NOT IN "
        "('died', 'inactive')").fetchone()[0]
    assert active > 0 and sum(1 for r in rows if any(v in fx.niks for v in r)) == active
    audit = _exports(fx)
    assert len(audit) == before + 1
    username, name, device, detail = audit[-1]
    assert (username, name, device) == (f"dasbor:{USERS['disnaker']}", "Akun disnaker", "")
    assert f'"rows": {active}' in detail and '"mode": "full"' in detail
    again = disnaker.post(url, data={"mode": "delta", "csrf": csrf}, timeout=120)
    assert again.status_code == 200 and len(_exports(fx)) == before + 2
    assert '"rows": 0' in _exports(fx)[-1][3]  # nothing changed since the full file


def test_pimpinan_sees_no_name_in_the_claims_and_the_devices_waiting(fx, tmp_path):
    """The new parts (JKM claims, what waits on devices) are aggregates: the dead members'
    names, the heirs' names and the devices' names never reach pimpinan."""
    device = fx.server.enrol("enumerator", "Tablet Pak Rahmat Kelurahan Uji")
    heirs = [f"Ahli Waris Rahasia {i}" for i in range(4)]
    with fx.store.write() as db:
        dead = db.execute("SELECT id FROM registrations ORDER BY id DESC LIMIT 4").fetchall()
        for i, (record_id,) in enumerate(dead):
            db.execute(
                "INSERT INTO claims (record_id, died_on, death_place, "
                "certificate_no, reported_by, recorded_at, claimant_name, stage, amount, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [record_id, f"{datetime.now(UTC).year}-01-0{i + 1}", "Jambi", f"AKT-{i}",
                 "RT", "2026-01-10T00:00:00Z", heirs[i], ("paid", "handed_over")[i % 2],
                 42_000_000, f"2026-01-1{i}T00:00:00Z"])
    answer = device.get("/sync/pull", params={"cursor": 0, "limit": 1, "pending": 5})
    assert answer.status_code == 200
    session, _ = log_in(fx.url, USERS["pimpinan"])
    page = session.get(f"{fx.url}/dashboard", timeout=60).text
    assert 'data-n="claims.paid_rupiah"' in page and "Menunggu di perangkat" in page
    assert f'data-n="dev.{device.device_id}.waiting">5<' in page
    xlsx = session.get(f"{fx.url}/dashboard/export.xlsx", timeout=60).content
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        sheets = " ".join(book.read(n).decode("utf-8") for n in book.namelist())
    assert "Klaim JKM" in sheets
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(session.get(f"{fx.url}/dashboard/report.pdf", timeout=120).content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Klaim JKM" in text
    refused = session.post(f"{fx.url}/dashboard/bpjs-export.xlsx", timeout=60,
                           data={"csrf": _csrf_of(session, fx), "mode": "full"}).text
    devices = [r[0] for r in fx.store.reader().execute("SELECT name FROM devices")]
    sensitive = fx.sensitive() + heirs + devices
    for where, body in {"page": page, "xlsx": sheets, "pdf": text, "403": refused}.items():
        assert [s for s in sensitive if s in body] == [], where
