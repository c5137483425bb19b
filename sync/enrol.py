"""Enrolment: the device trades an admin's one-time code for its id, token and NIK hash key
(docs/SYNC_API.md §3). Run once per device, from the settings window or the command line."""

from __future__ import annotations

import hashlib
import platform
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync import state
from sync.client import InsecureAddress, Offline, ProtocolError, ServerError, SyncClient, SyncError
from sync.trust import parse_ca_pem, plain_http_refused

if TYPE_CHECKING:
    from storage.registry import Registry

ATTEMPTS = 2  # a lost answer is asked again at once with the same request id
CA_META = "server_ca_pem"  # the city's CA certificate (PEM), kept in the encrypted database
INSECURE_META = "allow_insecure_http"  # "1": plain http to another computer was allowed


@dataclass
class Enrolment:
    device_id: str
    device_name: str
    role: str


def default_device_name() -> str:
    return f"Perangkat {platform.node() or 'tanpa nama'}"[:100]


@dataclass
class EnrolRequest:
    """What an enrolment sends, made on the database's thread (`plan_enrolment`) so that the
    request itself (`ask_server`) can wait on the network anywhere else."""

    server_url: str
    code: str
    device_name: str
    request_id: str
    ca_pem: str = ""
    allow_insecure_http: bool = False


def enrol(registry: Registry, server_url: str, code: str, device_name: str = "", *,
          client: SyncClient | None = None, ca_pem: str = "",
          allow_insecure_http: bool = False) -> Enrolment:
    """Enrol this device and store what the server gave, in one transaction.

    `ca_pem` (see `read_ca_file`) and `allow_insecure_http` are kept with the enrolment and
    used by every later request. The token stays in the local database, never shown or logged.
    The three steps on one thread; the window runs them on different ones."""
    request = plan_enrolment(registry, server_url, code, device_name, ca_pem=ca_pem,
                             allow_insecure_http=allow_insecure_http)
    return keep_enrolment(registry, request, ask_server(request, client=client))


def plan_enrolment(registry: Registry, server_url: str, code: str, device_name: str = "", *,
                   ca_pem: str = "", allow_insecure_http: bool = False) -> EnrolRequest:
    """Check the address and make (or find) this code's request id: no network."""
    server_url = server_url.strip()
    if not server_url.lower().startswith(("http://", "https://")):
        raise SyncError("Alamat server harus diawali http:// atau https://, misalnya "
                        "https://jamsos.jambikota.go.id.", detail="server url without scheme")
    if plain_http_refused(server_url, allow_insecure_http):
        raise InsecureAddress(detail="enrolment over plain http to a non-loopback address")
    return EnrolRequest(server_url, code.strip(), device_name.strip() or default_device_name(),
                        request_id_for(registry, code), ca_pem, allow_insecure_http)


def ask_server(request: EnrolRequest, *, client: SyncClient | None = None) -> dict:
    """The server's answer, asked again once at once when it was lost (same request id).
    Touches no database; a `client` given is used and left open."""
    own_client = client is None
    client = client or SyncClient(request.server_url, ca_pem=request.ca_pem,
                                  allow_insecure_http=request.allow_insecure_http)
    ask = lambda: client.enrol(request.code, request.device_name, request.request_id)  # noqa: E731
    try:
        for _ in range(ATTEMPTS - 1):
            try:
                return ask()
            except (Offline, ServerError):
                pass  # the answer may have been lost: the same request id again
        return ask()
    finally:
        if own_client:
            client.close()


def keep_enrolment(registry: Registry, request: EnrolRequest, answer: dict) -> Enrolment:
    """Keep what the server gave, in one transaction."""
    try:
        result = Enrolment(str(answer["device_id"]), str(answer.get("device_name", "")),
                           str(answer.get("role", "")))
        token, key = str(answer["token"]), str(answer["nik_hash_key"])
    except KeyError as exc:
        raise ProtocolError(detail="enrolment answer without device_id/token/key") from exc
    with registry.atomic():
        registry.set_setting("server_url", request.server_url.rstrip("/"))
        registry.set_setting("nik_hash_key", key)
        state.set_meta(registry, "device_id", result.device_id)
        state.set_meta(registry, "device_token", token)
        state.set_meta(registry, "device_role", result.role)
        state.set_meta(registry, "nik_hash_key_id", str(answer.get("nik_hash_key_id", "")))
        # A new enrolment replaces the old trust: no CA given means the system's CAs.
        state.set_meta(registry, CA_META, request.ca_pem)
        state.set_meta(registry, INSECURE_META, "1" if request.allow_insecure_http else "")
        state.save_cursor(registry, 0)  # a new enrolment starts the server feed from the beginning
    return result


def request_id_for(registry: Registry, code: str) -> str:
    """This device's request id for this code: made once and kept (in the encrypted database),
    so the retry after a lost answer, even from a new attempt later, sends the same one and
    the server answers it with the same device and token (docs/SYNC_API.md §3)."""
    code_key = hashlib.sha256("".join(c for c in code.upper() if c.isalnum()).encode()).hexdigest()
    kept = state.get_meta(registry, "enrol_request", "")
    if kept.startswith(code_key + ":"):
        return kept.split(":", 1)[1]
    request_id = secrets.token_urlsafe(24)
    with registry.atomic():
        state.set_meta(registry, "enrol_request", f"{code_key}:{request_id}")
    return request_id


def read_ca_file(path: str | Path) -> str:
    """The city's CA certificate(s) from a PEM file, checked; SyncError (Indonesian) when the
    file is missing, unreadable or holds no certificate."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SyncError(f"Berkas sertifikat CA {path} tidak dapat dibaca: "
                        f"{exc.strerror or exc}.", detail="CA file unreadable") from exc
    try:
        return parse_ca_pem(data)
    except ValueError as exc:
        raise SyncError(f"Berkas {path} bukan sertifikat CA dalam format PEM "
                        "(-----BEGIN CERTIFICATE-----).", detail="CA file not PEM") from exc


def trust_of(registry: Registry) -> dict:
    """How this device trusts its server, as `SyncClient` keyword arguments."""
    return {"ca_pem": state.get_meta(registry, CA_META, ""),
            "allow_insecure_http": state.get_meta(registry, INSECURE_META, "") == "1"}


def client_for(registry: Registry, **kwargs) -> SyncClient:
    """A client for the enrolled server, with this device's token and its trust (NotAuthorised
    on use if the device was never enrolled)."""
    return SyncClient(registry.get_setting("server_url") or "", state.token(registry),
                      **{**trust_of(registry), **kwargs})


def is_enrolled(registry: Registry) -> bool:
    return bool(state.token(registry) and registry.get_setting("server_url"))
