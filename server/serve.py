"""Starting the central server: plain HTTP on this computer, HTTPS with the city's certificate
(`--tls-cert`, `--tls-key`), or behind an HTTPS reverse proxy (`--behind-proxy`); in one process,
or on PostgreSQL in several (`--workers N`, server/workers.py).

A server reachable from the network without TLS sends device tokens, operators' names and NIKs
in clear; it still starts (a closed network may be a choice), but says so loudly on stderr.
"""

from __future__ import annotations

import ipaddress
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_NAMES = {"localhost", "localhost."}


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    tls_cert: str | None = None
    tls_key: str | None = None
    behind_proxy: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    workers: int = 1

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert and self.tls_key)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


def binds_loopback_only(host: str) -> bool:
    """True when `host` is a loopback address (127.0.0.0/8, ::1) or localhost; 0.0.0.0, ::,
    a LAN address or any other name can be reached from the network."""
    host = (host or "").strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_warning(options: ServeOptions) -> str | None:
    """The warning for a server reachable from the network without TLS, or None: with TLS, on
    loopback, or behind a reverse proxy that terminates TLS (`--behind-proxy`)."""
    if options.tls or options.behind_proxy or binds_loopback_only(options.host):
        return None
    bar = "!" * 78
    return "\n".join((
        bar,
        f"PERINGATAN: server mendengarkan di {options.host}:{options.port} TANPA TLS. Token "
        "perangkat, nama petugas dan NIK lewat jaringan tanpa enkripsi. Jalankan dengan "
        "--tls-cert dan --tls-key, atau di belakang reverse proxy HTTPS (--behind-proxy).",
        f"WARNING: the server listens on {options.host}:{options.port} WITHOUT TLS. Device "
        "tokens, operators' names and NIKs cross the network unencrypted. Run it with "
        "--tls-cert and --tls-key, or behind an HTTPS reverse proxy (--behind-proxy).",
        bar,
    ))


def tls_problem(options: ServeOptions) -> str | None:
    """Why the TLS files cannot be used (one Indonesian line), or None. Loaded here as uvicorn
    will load them, so a wrong path or a key of another certificate stops the start clearly."""
    if bool(options.tls_cert) != bool(options.tls_key):
        return "--tls-cert dan --tls-key harus diberikan bersama."
    if not options.tls:
        return None
    for label, path in (("sertifikat", options.tls_cert), ("kunci", options.tls_key)):
        try:
            Path(path).read_bytes()
        except OSError as exc:
            return f"Berkas {label} TLS {path} tidak dapat dibaca: {exc.strerror or exc}."
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # No password prompt: a key protected by a passphrase is refused, not asked for.
        context.load_cert_chain(options.tls_cert, options.tls_key, password=lambda: b"")
    except (ssl.SSLError, ValueError) as exc:
        return (f"Sertifikat TLS {options.tls_cert} dan kunci {options.tls_key} tidak dapat "
                f"dipakai (bukan PEM, tidak cocok, atau kunci berkata sandi): {exc}.")
    return None


def workers_problem(workers: int, database_url: str | None) -> str | None:
    """Why the server cannot run `workers` processes on this database (one Indonesian line),
    or None. SQLite has one writer: a second process would only wait for the first."""
    if workers < 1:
        return "--workers paling sedikit 1."
    if workers == 1:
        return None
    from server.database import SQLITE, DatabaseUrlError, engine_name

    try:
        engine = engine_name(database_url) if database_url else SQLITE
    except DatabaseUrlError as exc:
        return str(exc)
    if engine == SQLITE:
        return (f"--workers {workers} memerlukan PostgreSQL (--database postgresql://…); "
                "SQLite hanya punya satu penulis, jalankan dengan satu proses.")
    return None


def serve(make_app: Callable[[], object], options: ServeOptions, data_dir: Path,
          database_url: str | None = None) -> int:
    """Run uvicorn until stopped; 2 (before any worker starts) when the TLS files, the database
    or the number of workers cannot be used."""
    import uvicorn

    problem = tls_problem(options) or workers_problem(options.workers, database_url)
    if problem:
        print(f"Gagal: {problem}", file=sys.stderr)
        return 2
    from server.database import DatabaseUrlError

    try:
        # Made here even when workers make their own: the database is reached and migrated,
        # and the signing keys made, once, before N processes would race to do it.
        app = make_app()
    except DatabaseUrlError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    if options.workers > 1:
        app = _for_workers(app, data_dir, database_url)
    warning = plain_http_warning(options)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    processes = f", {options.workers} proses" if options.workers > 1 else ""
    print(f"Server pusat berjalan di {options.url}/api/v1 (data: {data_dir}{processes})",
          flush=True)
    uvicorn.run(
        app, host=options.host, port=options.port, log_level="warning",
        workers=options.workers, factory=options.workers > 1,
        ssl_certfile=options.tls_cert if options.tls else None,
        ssl_keyfile=options.tls_key if options.tls else None,
        # X-Forwarded-Proto/-For are believed only from these addresses (the proxy), so the
        # dashboard's cookies are Secure when the proxy speaks https to the browser.
        proxy_headers=True, forwarded_allow_ips=options.forwarded_allow_ips,
    )
    return 0


def _for_workers(app, data_dir: Path, database_url: str | None) -> str:
    """The import string each worker makes its application from (server/workers.py), with the
    environment it reads; the parent's own application is closed (it served only the checks)."""
    import os

    from server import workers

    app.state.store.close()
    os.environ.update(workers.environment_for(Path(data_dir).resolve(), database_url))
    return workers.IMPORT_STRING
