"""Enrolment: the device trades an admin's one-time code for its id, token and NIK hash key
(docs/SYNC_API.md §3). Run once per device, from the settings window or the command line."""

from __future__ import annotations

import hashlib
import platform
import secrets
from dataclasses import dataclass

from sync import state
from sync.client import Offline, ProtocolError, ServerError, SyncClient, SyncError

ATTEMPTS = 2  # a lost answer is asked again at once with the same request id


@dataclass
class Enrolment:
    device_id: str
    device_name: str
    role: str


def default_device_name() -> str:
    return f"Perangkat {platform.node() or 'tanpa nama'}"[:100]


def enrol(registry, server_url: str, code: str, device_name: str = "", *,
          client: SyncClient | None = None) -> Enrolment:
    """Enrol this device and store what the server gave, in one transaction.

    The token stays in the local database and is never shown or logged."""
    server_url = server_url.strip()
    if not server_url.lower().startswith(("http://", "https://")):
        raise SyncError("Alamat server harus diawali http:// atau https://, misalnya "
                        "http://192.168.1.10:8765.", detail="server url without scheme")
    own_client = client is None
    client = client or SyncClient(server_url)
    request_id = request_id_for(registry, code)
    try:
        for attempt in range(ATTEMPTS):
            try:
                answer = client.enrol(code.strip(), device_name.strip() or default_device_name(),
                                      request_id)
                break
            except (Offline, ServerError):
                if attempt == ATTEMPTS - 1:
                    raise
    finally:
        if own_client:
            client.close()
    try:
        result = Enrolment(str(answer["device_id"]), str(answer.get("device_name", "")),
                           str(answer.get("role", "")))
        token, key = str(answer["token"]), str(answer["nik_hash_key"])
    except KeyError as exc:
        raise ProtocolError(detail="enrolment answer without device_id/token/key") from exc
    db = registry.db
    with db.atomic():
        registry.set_setting("server_url", server_url.rstrip("/"))
        registry.set_setting("nik_hash_key", key)
        state.set_meta(db, "device_id", result.device_id)
        state.set_meta(db, "device_token", token)
        state.set_meta(db, "device_role", result.role)
        state.set_meta(db, "nik_hash_key_id", str(answer.get("nik_hash_key_id", "")))
        state.save_cursor(db, 0)  # a new enrolment starts the server feed from the beginning
    return result


def request_id_for(registry, code: str) -> str:
    """This device's request id for this code: made once and kept (in the encrypted database),
    so the retry after a lost answer, even from a new attempt later, sends the same one and
    the server answers it with the same device and token (docs/SYNC_API.md §3)."""
    code_key = hashlib.sha256("".join(c for c in code.upper() if c.isalnum()).encode()).hexdigest()
    kept = state.get_meta(registry.db, "enrol_request", "")
    if kept.startswith(code_key + ":"):
        return kept.split(":", 1)[1]
    request_id = secrets.token_urlsafe(24)
    with registry.db.atomic():
        state.set_meta(registry.db, "enrol_request", f"{code_key}:{request_id}")
    return request_id


def client_for(registry, **kwargs) -> SyncClient:
    """A client for the enrolled server, with this device's token (NotAuthorised on use if the
    device was never enrolled)."""
    return SyncClient(registry.get_setting("server_url") or "", state.token(registry.db), **kwargs)


def is_enrolled(registry) -> bool:
    return bool(state.token(registry.db) and registry.get_setting("server_url"))
