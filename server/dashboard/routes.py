"""The dashboard's pages and downloads under /dashboard (server-rendered, no script).

Every page but the log-in needs a live session (cookie); without one a page redirects to the
log-in, which returns to the same address, filters included. Forms that change something (log-in,
log-out, the BPJS file) carry a CSRF token: the session's, or before log-in a double-submit
cookie. Filters and the other downloads are GET requests that change nothing; the BPJS file is a
POST because making it is recorded (server/bpjs_export.py).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from server.dashboard import accounts, charts, fmt, queries
from server.dashboard import filters as flt
from server.dashboard.accounts import AccountError, Session
from server.deps import store_of
from server.rules import server_today
from storage.config import load_program_config
from storage.models import COHORT_LABELS
from storage.regions import load_regions

HERE = Path(__file__).resolve().parent
COOKIE = "jj_dasbor"
LOGIN_CSRF_COOKIE = "jj_dasbor_masuk"
PREFIX = "/dashboard"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                  trim_blocks=True, lstrip_blocks=True)
env.filters.update(n=fmt.number, rp=fmt.rupiah, dec=fmt.decimal, day=fmt.day, moment=fmt.moment,
                   zip=lambda first, *rest: zip(first, *rest, strict=True))
env.globals.update(hbars=charts.hbars, columns=charts.columns, prefix=PREFIX)


def render(name: str, status: int = 200, **context) -> HTMLResponse:
    html = env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _secure(request: Request) -> bool:
    """Secure cookies whenever the request came over TLS (directly or via a trusted proxy,
    as uvicorn reports it)."""
    return request.url.scheme == "https"


def _session(request: Request) -> Session | None:
    return accounts.session_of(store_of(request), request.cookies.get(COOKIE))


def _safe_next(target: str | None) -> str:
    """Only addresses of this dashboard, never another site."""
    if target and target.startswith(PREFIX) and not target.startswith("//") \
            and "\\" not in target and "\n" not in target and "\r" not in target:
        return target
    return PREFIX


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/login?next={quote(here, safe='')}", status_code=303,
                            headers={"Cache-Control": "no-store"})


def _filters(request: Request):
    store = store_of(request)
    ids = {r[0] for r in store.reader().execute("SELECT id FROM kegiatan")}
    return flt.parse(request.query_params, server_today().year, ids)


def _choices(request: Request) -> dict:
    """The options of the filter form, each (value, text)."""
    db = store_of(request).reader()
    regions = load_regions()
    this_year = server_today().year
    years = {this_year, this_year + 1}
    years |= {r[0] for r in db.execute("SELECT DISTINCT year FROM dashboard_facts")}
    for version in load_program_config().versions:
        years |= {q.year for q in version.quotas}
    return {
        "years": sorted(years, reverse=True),
        "kecamatan": [(k.code, k.name) for k in regions.kecamatan_list()],
        "kelurahan": [(k.code, f"{k.name} ({regions.kecamatan(k.kecamatan_code).name})")
                      for kec in regions.kecamatan_list()
                      for k in regions.kelurahan_list(kec.code)],
        "cohort": [(str(k), v) for k, v in COHORT_LABELS.items()],
        "occupation": sorted(flt.occupation_names().items(), key=lambda i: i[1]),
        "kegiatan": [(r[0], f"{r[1]} ({r[2]})" if r[2] else r[1]) for r in db.execute(
            "SELECT id, name, held_on FROM kegiatan ORDER BY held_on DESC, name")],
    }


def _overview(request: Request) -> tuple[flt.Filters, dict]:
    """The filters of the request and the overview they select (the page and its workbook)."""
    f = _filters(request)
    return f, queries.overview(store_of(request), f, server_today())


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, max_num_fields=20).items()}


def routes(router: APIRouter) -> None:
    _login_routes(router)
    _page_routes(router)
    _download_routes(router)
    _bpjs_route(router)


def _login_routes(router: APIRouter) -> None:
    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = PREFIX) -> HTMLResponse:
        return _login_form(request, _safe_next(next))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        target = _safe_next(form.get("next"))
        if not accounts.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("csrf")):
            return _login_form(request, target, "Formulir kedaluwarsa. Silakan coba lagi.", 400)
        store = store_of(request)
        try:
            _, token = await run_in_threadpool(
                accounts.log_in, store, form.get("username", ""), form.get("password", ""))
        except AccountError as exc:
            return _login_form(request, target, str(exc), 401, form.get("username", ""))
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                          secure=_secure(request), path=PREFIX,
                          max_age=int(accounts.SESSION_MAX.total_seconds()))
        answer.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
        return answer

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await _form(request)
        session = _session(request)
        if session is None:
            return _to_login(request)
        if not accounts.csrf_ok(session.csrf_token, form.get("csrf")):
            return render("message.html", 400, title="Permintaan ditolak",
                          text="Token formulir tidak sah. Muat ulang halaman lalu coba lagi.",
                          session=session)
        accounts.log_out(store_of(request), request.cookies.get(COOKIE))
        answer = RedirectResponse(f"{PREFIX}/login", status_code=303)
        answer.delete_cookie(COOKIE, path=PREFIX)
        return answer


def _login_form(request: Request, target: str, error: str = "", status: int = 200,
                username: str = "") -> HTMLResponse:
    csrf = secrets.token_urlsafe(32)
    answer = render("login.html", status, next=target, csrf=csrf, error=error,
                    username=username,
                    expired=bool(request.cookies.get(COOKIE)) and not error)
    answer.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                      secure=_secure(request), path=PREFIX, max_age=3600)
    return answer


def _page_routes(router: APIRouter) -> None:
    @router.get("", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        session = _session(request)
        if session is None:
            return _to_login(request)
        f, data = _overview(request)
        return render("overview.html", session=session, f=f, d=data, choices=_choices(request),
                      month=server_today().strftime("%Y-%m"), program=load_program_config())

    @router.get("/people", response_class=HTMLResponse)
    def people(request: Request, page: int = 1) -> Response:
        session = _session(request)
        if session is None:
            return _to_login(request)
        if not session.user.sees_people:
            return render("message.html", 403, title="Akses ditolak", session=session,
                          text="Peran pimpinan hanya melihat angka agregat, bukan daftar orang.")
        f = _filters(request)
        data = queries.people(store_of(request), f, max(1, min(page, 100_000)))
        return render("people.html", session=session, f=f, d=data, choices=_choices(request))


def _download_routes(router: APIRouter) -> None:
    @router.get("/export.xlsx")
    def export(request: Request) -> Response:
        from server.dashboard import xlsx

        session = _session(request)
        if session is None:
            return _to_login(request)
        f, data = _overview(request)
        body = xlsx.workbook(data, f, device_names=session.user.sees_people)
        return _download(body, f"dasbor-{f.year}.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @router.get("/report.pdf")
    def report(request: Request, month: str = "") -> Response:
        from server.dashboard import report as pdf

        session = _session(request)
        if session is None:
            return _to_login(request)
        f = _filters(request)
        try:
            first = pdf.parse_month(month) if month else server_today().replace(day=1)
        except ValueError:
            f.notes.append(f"Bulan '{month[:10]}' tidak dikenal; laporan bulan ini dibuat.")
            first = server_today().replace(day=1)
        body = pdf.monthly_report(store_of(request), first, f, server_today())
        return _download(body, f"laporan-{first:%Y-%m}.pdf", "application/pdf")


def _bpjs_route(router: APIRouter) -> None:
    @router.post("/bpjs-export.xlsx")
    async def bpjs_file(request: Request) -> Response:
        """The collective registration file for BPJS (server/bpjs_export.py), for disnaker only.
        A POST with the session's CSRF token, because an export changes something: it marks
        what each member's file said (the next delta starts there) and is audited with the
        dashboard user as the operator."""
        from server import bpjs_export

        form = await _form(request)
        session = _session(request)
        if session is None:
            return RedirectResponse(f"{PREFIX}/login?next={quote(PREFIX, safe='')}",
                                    status_code=303, headers={"Cache-Control": "no-store"})
        if not session.user.sees_people:
            return render("message.html", 403, title="Akses ditolak", session=session,
                          text="Berkas pendaftaran BPJS hanya untuk akun Disnaker.")
        if not accounts.csrf_ok(session.csrf_token, form.get("csrf")):
            return render("message.html", 400, title="Permintaan ditolak", session=session,
                          text="Token formulir tidak sah. Muat ulang halaman lalu coba lagi.")
        mode = form.get("mode", "")
        if mode not in (bpjs_export.FULL, bpjs_export.DELTA):
            return render("message.html", 400, title="Permintaan ditolak", session=session,
                          text="Jenis berkas harus semua peserta aktif atau perubahan.")
        operator = {"username": f"dasbor:{session.user.username}",
                    "display_name": session.user.display_name}
        body, info = await run_in_threadpool(
            bpjs_export.export, store_of(request), mode, None, operator)
        return _download(body, f"bpjs-{mode}-{info['at'][:10]}.xlsx", bpjs_export.XLSX_TYPE)


def _download(body: bytes, name: str, media_type: str) -> Response:
    headers = dict(SECURITY_HEADERS)
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=media_type, headers=headers)
