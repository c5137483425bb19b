"""TLS between devices and the central server (docs/SYNC_API.md §1 Transport security, §9).

A throwaway CA and a certificate for 127.0.0.1/localhost are made here with `cryptography`; the
real server (`main.py server --tls-cert --tls-key`) serves HTTPS on a loopback port. Addresses
other than loopback appear only as strings that must be refused before any traffic."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from server_util import database_args
from sync_util import enrol_code, free_port, server_counts
from unlock_util import cli_args, encrypted_registry

import main
from server.serve import ServeOptions, binds_loopback_only, plain_http_warning, serve
from storage.demo import fill_demo_data
from storage.registry import Registry
from sync import state
from sync import verifier as api
from sync.client import CertificateError, InsecureAddress, SyncClient
from sync.enrol import client_for, enrol, is_enrolled, trust_of
from sync.trust import is_loopback_host, plain_http_refused
from sync.watcher import ReachabilityWatcher

ROOT = Path(__file__).resolve().parent.parent
UNTRUSTED = "Sertifikat server tidak dipercaya"
PLAIN_HTTP = "http:// tanpa enkripsi hanya boleh untuk komputer ini"
ELSEWHERE = "http://192.0.2.1:8765"  # TEST-NET-1: a string to refuse, never contacted


# --- certificates ---------------------------------------------------------------------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _builder(subject: str, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def make_ca(common: str):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder(common, _name(common), key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key=None, ca_cert=None):
    """A certificate for 127.0.0.1 and localhost, issued by the CA (self-signed without one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = ca_key or key
    issuer = ca_cert.subject if ca_cert else _name("127.0.0.1")
    builder = (_builder("127.0.0.1", issuer, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_usage(ca=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False)
               .add_extension(x509.SubjectAlternativeName([
                   x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
               ]), critical=False))
    if ca_key is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False)
    return key, builder.sign(issuer_key, hashes.SHA256())


def pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def write_key(key, path: Path) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


@dataclass
class Pki:
    folder: Path
    ca_pem: str
    ca_file: Path
    other_ca_file: Path
    cert_file: Path
    key_file: Path
    self_signed_cert: Path
    self_signed_key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca = make_ca("CA Kota Jambi (uji)")
    _, other_ca = make_ca("CA lain (uji)")
    key, cert = make_server_cert(ca_key, ca)
    own_key, own_cert = make_server_cert()
    (folder / "ca.pem").write_text(pem(ca))
    (folder / "other-ca.pem").write_text(pem(other_ca))
    (folder / "server.pem").write_text(pem(cert) + pem(ca))  # the chain, as a proxy would serve
    (folder / "self-signed.pem").write_text(pem(own_cert))
    return Pki(folder, pem(ca), folder / "ca.pem", folder / "other-ca.pem",
               folder / "server.pem", write_key(key, folder / "server.key"),
               folder / "self-signed.pem", write_key(own_key, folder / "self-signed.key"))


# --- the real server over TLS, as a subprocess ----------------------------------------------


class TlsServer:
    def __init__(self, data_dir: Path, *extra: str, scheme: str = "https"):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"{data_dir.name}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "main.py", "server", "--data-dir", str(data_dir),
                 "--host", "127.0.0.1", "--port", str(self.port), *extra,
                 *database_args(data_dir)],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def wait(self, verify) -> TlsServer:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1, verify=verify).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise TimeoutError(self.log.read_text())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def tls_server(pki, tmp_path_factory, server_engine):
    server = TlsServer(tmp_path_factory.mktemp("srv") / "server", "--tls-cert",
                       str(pki.cert_file), "--tls-key", str(pki.key_file))
    try:
        yield server.wait(str(pki.ca_file))
    finally:
        server.stop()


def _enrol_cli(monkeypatch, folder: Path, url: str, code: str, *extra: str) -> int:
    return main.main(["--data-dir", str(folder), "enrol", "--server", url, "--code", code,
                      *extra, *cli_args(monkeypatch, folder)])


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# --- a device and an https server -----------------------------------------------------------


def test_the_server_says_it_serves_https_and_warns_of_nothing(tls_server):
    log = tls_server.log.read_text()
    assert f"{tls_server.url}/api/v1" in log
    assert "PERINGATAN" not in log and "WARNING" not in log


def test_enrol_with_the_city_ca_then_sync_over_https(tls_server, pki, tmp_path, capsys,
                                                     monkeypatch):
    device = tmp_path / "device"
    code = enrol_code(tls_server.data_dir)
    assert _enrol_cli(monkeypatch, device, tls_server.url, code, "--ca-file",
                      str(pki.ca_file)) == 0
    assert "Perangkat terdaftar" in capsys.readouterr().out
    registry = encrypted_registry(device)
    try:
        assert trust_of(registry) == {"ca_pem": pki.ca_pem, "allow_insecure_http": False}
        before = server_counts(tls_server.data_dir)[0]
        fill_demo_data(registry, 6, seed=41)
    finally:
        registry.close()
    assert main.main(["--data-dir", str(device), "sync", "--quiet",
                      *cli_args(monkeypatch, device, "petugas")]) == 0
    assert "Terkirim 6 data: 6 diterima" in capsys.readouterr().out
    assert server_counts(tls_server.data_dir)[0] == before + 6
    # The CA is kept inside the encrypted database, not as a file beside it.
    for path in device.rglob("*"):
        if path.is_file():
            assert b"BEGIN CERTIFICATE" not in path.read_bytes(), path


@pytest.mark.parametrize("ca", [None, "other"], ids=["no CA", "another CA"])
def test_an_untrusted_certificate_is_one_clear_line(tls_server, pki, tmp_path, capsys,
                                                    monkeypatch, ca):
    device = tmp_path / "device"
    code = enrol_code(tls_server.data_dir)
    extra = ["--ca-file", str(pki.other_ca_file)] if ca else []
    assert _enrol_cli(monkeypatch, device, tls_server.url, code, *extra) == 2
    assert UNTRUSTED in _one_line(capsys.readouterr().err)
    registry = encrypted_registry(device)
    try:
        assert not is_enrolled(registry)
        # Nothing reached the server's code: the same code works once the CA is given.
        enrol(registry, tls_server.url, code, ca_pem=pki.ca_pem)
        assert is_enrolled(registry)
    finally:
        registry.close()


def test_a_self_signed_server_certificate_is_not_trusted(pki, tmp_path, capsys, monkeypatch):
    server = TlsServer(tmp_path / "server", "--tls-cert", str(pki.self_signed_cert),
                       "--tls-key", str(pki.self_signed_key))
    try:
        server.wait(str(pki.self_signed_cert))
        with pytest.raises(CertificateError) as refused:
            SyncClient(server.url).health()
        assert UNTRUSTED in refused.value.message
        assert _enrol_cli(monkeypatch, tmp_path / "device", server.url,
                          enrol_code(server.data_dir)) == 2
        assert UNTRUSTED in _one_line(capsys.readouterr().err)
    finally:
        server.stop()


def test_https_to_a_plain_http_server_is_a_clear_tls_failure(tmp_path):
    server = TlsServer(tmp_path / "server", scheme="http")
    try:
        server.wait(True)
        with pytest.raises(CertificateError) as failed:
            SyncClient(server.url.replace("http://", "https://")).health()
        assert "Koneksi aman (TLS) ke server gagal" in failed.value.message
    finally:
        server.stop()


def test_a_stored_ca_serves_every_later_request(tls_server, pki, tmp_path, monkeypatch):
    # An environment's CA bundle must not replace the device's own CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.other_ca_file))
    registry = Registry.open(tmp_path / "verifier.sqlite3")
    try:
        enrol(registry, tls_server.url, enrol_code(tls_server.data_dir, "verifier"),
              "Meja verifikasi", ca_pem=pki.ca_pem)
        client = client_for(registry)
        try:
            assert client.verify is not True
            assert os.stat(client.verify).st_mode & 0o777 == 0o600
            assert api.list_registrations(client)["total"] >= 0  # a verifier's call
            assert client.me()["role"] == "verifier"
        finally:
            client.close()
        state_after = state.get_meta(registry, "server_ca_pem")
        assert state_after == pki.ca_pem
        # The watcher's checks use the stored CA; a client without it is not trusted.
        watcher = ReachabilityWatcher(lambda: client_for(registry), lambda: None)
        assert watcher.probe() is True
        assert ReachabilityWatcher(lambda: SyncClient(tls_server.url), lambda: None).probe() \
            is False
    finally:
        registry.close()


def test_the_dashboard_sets_secure_cookies_over_https(tls_server, pki):
    page = requests.get(tls_server.url + "/dashboard/login", verify=str(pki.ca_file), timeout=10)
    assert page.ok
    assert "secure" in page.headers["set-cookie"].lower()


def test_behind_a_proxy_the_forwarded_scheme_makes_cookies_secure(tmp_path):
    server = TlsServer(tmp_path / "server", "--behind-proxy", scheme="http")
    try:
        server.wait(True)
        plain = requests.get(server.url + "/dashboard/login", timeout=10)
        proxied = requests.get(server.url + "/dashboard/login", timeout=10,
                               headers={"X-Forwarded-Proto": "https"})
        assert "secure" not in plain.headers["set-cookie"].lower()
        assert "secure" in proxied.headers["set-cookie"].lower()
        assert "PERINGATAN" not in server.log.read_text()
    finally:
        server.stop()


# --- plain http: loopback only, unless allowed ----------------------------------------------


@pytest.fixture
def no_traffic(monkeypatch):
    """Fails the test if anything is sent: every request of requests goes through this."""
    sent = []

    def send(self, request, **kwargs):
        sent.append(request.url)
        raise AssertionError(f"a request was sent to {request.url}")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return sent


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://127.3.2.1", "http://[::1]:80",
                                 "http://localhost:8765", "HTTP://LOCALHOST",
                                 "https://192.0.2.1", "https://jamsos.example.org"])
def test_loopback_and_https_addresses_are_allowed(url):
    assert not plain_http_refused(url)


@pytest.mark.parametrize("url", [ELSEWHERE, "http://10.0.0.5:8765", "http://jamsos.example.org",
                                 "http://127.0.0.1.example.org", "http://[2001:db8::1]:8765",
                                 "http://[::ffff:192.0.2.1]", "http://0.0.0.0:8765"])
def test_plain_http_elsewhere_is_refused_unless_allowed(url):
    assert plain_http_refused(url)
    assert not plain_http_refused(url, allow_insecure_http=True)


def test_loopback_hosts():
    assert is_loopback_host("::ffff:127.0.0.1") and is_loopback_host("[::1]")
    assert not is_loopback_host("") and not is_loopback_host("localhost.example.org")


def test_plain_http_to_another_computer_is_refused_before_any_connection(
        no_traffic, tmp_path, capsys, monkeypatch):
    client = SyncClient(ELSEWHERE, "token")
    for call in (client.health, lambda: client.pull(0), client.public_keys):
        with pytest.raises(InsecureAddress) as refused:
            call()
        assert PLAIN_HTTP in refused.value.message
    registry = Registry.open(tmp_path / "device.sqlite3")
    with pytest.raises(InsecureAddress):
        enrol(registry, ELSEWHERE, "ABCD-EFGH-JKLM")
    assert not is_enrolled(registry)
    registry.close()
    device = tmp_path / "device"
    assert _enrol_cli(monkeypatch, device, ELSEWHERE, "ABCD-EFGH-JKLM") == 2
    assert PLAIN_HTTP in _one_line(capsys.readouterr().err)
    assert no_traffic == []


def test_plain_http_allowed_explicitly_is_kept_and_used(no_traffic, tmp_path, capsys,
                                                         monkeypatch):
    reached = []

    def at_the_network(self, method, path, body, headers, params, timeout):
        # Past every check: this is where the request would leave the computer.
        reached.append(self.base_url + path)
        return {"device_id": "perangkat-1", "device_name": "Laptop", "role": "enumerator",
                "token": "rahasia", "nik_hash_key": "ab" * 32}

    monkeypatch.setattr(SyncClient, "_once", at_the_network)
    device = tmp_path / "device"
    assert _enrol_cli(monkeypatch, device, ELSEWHERE, "ABCD-EFGH-JKLM",
                      "--allow-insecure-http") == 0
    assert "Perangkat terdaftar" in capsys.readouterr().out
    registry = encrypted_registry(device)
    try:
        assert trust_of(registry) == {"ca_pem": "", "allow_insecure_http": True}
        client = client_for(registry)
        assert not client.refused and client.verify is True
        client.health()
        # A new enrolment without the permission takes it away again.
        with pytest.raises(InsecureAddress):
            enrol(registry, ELSEWHERE, "ABCD-EFGH-JKLM")
        enrol(registry, "http://127.0.0.1:9", "ABCD-EFGH-JKLM")
        assert trust_of(registry)["allow_insecure_http"] is False
    finally:
        registry.close()
    assert reached == [ELSEWHERE + "/devices/enrol", ELSEWHERE + "/health",
                       "http://127.0.0.1:9/devices/enrol"]
    assert no_traffic == []


# --- bad input at the command line ------------------------------------------------------------


def test_a_missing_or_wrong_ca_file_is_refused_clearly(tmp_path, capsys, monkeypatch, no_traffic):
    device = tmp_path / "device"
    assert _enrol_cli(monkeypatch, device, "https://127.0.0.1:9", "ABCD-EFGH-JKLM",
                      "--ca-file", str(tmp_path / "tidak-ada.pem")) == 2
    assert "tidak dapat dibaca" in _one_line(capsys.readouterr().err)
    junk = tmp_path / "bukan.pem"
    junk.write_text("ini bukan sertifikat\n")
    assert _enrol_cli(monkeypatch, device, "https://127.0.0.1:9", "ABCD-EFGH-JKLM",
                      "--ca-file", str(junk)) == 2
    assert "bukan sertifikat CA dalam format PEM" in _one_line(capsys.readouterr().err)
    assert no_traffic == []


def _no_uvicorn(monkeypatch) -> list[dict]:
    import uvicorn

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append(kw))
    return runs


@pytest.mark.parametrize("files, message", [
    (("tidak-ada.pem", "server.key"), "tidak dapat dibaca"),
    (("server.pem", "tidak-ada.key"), "tidak dapat dibaca"),
    (("server.pem", "self-signed.key"), "tidak dapat dipakai"),
    (("server.pem", None), "harus diberikan bersama"),
])
def test_unusable_tls_files_stop_the_server_clearly(pki, tmp_path, capsys, monkeypatch, files,
                                                    message):
    runs = _no_uvicorn(monkeypatch)
    cert, key = files
    extra = ["--tls-cert", str(pki.folder / cert)]
    if key:
        extra += ["--tls-key", str(pki.folder / key)]
    assert main.main(["server", "--data-dir", str(tmp_path / "server"), *extra]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert runs == []
    assert not (tmp_path / "server").exists()  # refused before the app made anything


# --- the server's warning ---------------------------------------------------------------------


def test_which_listening_addresses_warn():
    for host in ("127.0.0.1", "127.0.1.1", "::1", "localhost"):
        assert binds_loopback_only(host) and plain_http_warning(ServeOptions(host)) is None
    for host in ("0.0.0.0", "::", "192.168.1.10", "jamsos.example.org"):
        assert not binds_loopback_only(host)
        text = plain_http_warning(ServeOptions(host, 8765))
        assert f"PERINGATAN: server mendengarkan di {host}:8765 TANPA TLS" in text
        assert f"WARNING: the server listens on {host}:8765 WITHOUT TLS" in text
        assert plain_http_warning(ServeOptions(host, tls_cert="c", tls_key="k")) is None
        assert plain_http_warning(ServeOptions(host, behind_proxy=True)) is None


def test_the_warning_is_printed_at_start(pki, tmp_path, capsys, monkeypatch):
    runs = _no_uvicorn(monkeypatch)  # nothing binds: the decision and what uvicorn is given
    assert serve(lambda: "app", ServeOptions("0.0.0.0", 8765), tmp_path) == 0
    out = capsys.readouterr()
    assert "PERINGATAN" in out.err and "WARNING" in out.err
    assert "http://0.0.0.0:8765/api/v1" in out.out
    assert runs[-1]["ssl_certfile"] is None and runs[-1]["proxy_headers"] is True
    options = ServeOptions("0.0.0.0", 8443, str(pki.cert_file), str(pki.key_file))
    assert serve(lambda: "app", options, tmp_path) == 0
    out = capsys.readouterr()
    assert out.err == "" and "https://0.0.0.0:8443/api/v1" in out.out
    assert runs[-1]["ssl_certfile"] == str(pki.cert_file)
    assert runs[-1]["ssl_keyfile"] == str(pki.key_file)
    proxied = ServeOptions("0.0.0.0", 8765, behind_proxy=True, forwarded_allow_ips="10.1.2.3")
    assert serve(lambda: "app", proxied, tmp_path) == 0
    assert capsys.readouterr().err == ""
    assert runs[-1]["forwarded_allow_ips"] == "10.1.2.3"


# --- the window's enrolment box -----------------------------------------------------------------


def test_the_window_enrols_with_the_city_ca_and_its_watcher_keeps_it(tls_server, pki, worker,
                                                                     qtbot):
    from ui.sync_panel import SyncPanel

    panel = SyncPanel(worker)
    qtbot.addWidget(panel)
    try:
        qtbot.waitUntil(lambda: "path" in panel._info, timeout=5000)
        panel.server_edit.setText(tls_server.url)
        panel.code_edit.setText(enrol_code(tls_server.data_dir))
        panel.enrol_button.click()  # without the CA: refused, in one line
        qtbot.waitUntil(lambda: UNTRUSTED in panel.status_label.text(), timeout=15000)
        panel.ca_edit.setText(str(pki.ca_file))
        panel.enrol_button.click()
        qtbot.waitUntil(lambda: panel._info.get("enrolled") is True, timeout=15000)
        assert "berhasil didaftarkan" in panel.status_label.text()
        client = panel._watch_client()  # what the reachability watcher checks with
        try:
            assert client.verify is not True
            assert client.health()["status"]
        finally:
            client.close()
    finally:
        panel.shutdown()
