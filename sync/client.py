"""The HTTP client of the sync API: one requests.Session, timeouts, retries with exponential
backoff and jitter, and one error family with Indonesian messages.

Every failure of the network, the server or the payload comes out of this module as a SyncError
subclass, so the engine and the window handle four cases, never a zoo of library exceptions.
"""

from __future__ import annotations

import gzip
import json
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from sync.trust import ca_bundle_path, plain_http_refused

API_PREFIX = "/api/v1"


class SyncError(Exception):
    """Base of every sync failure. `message` is Indonesian, for the operator."""

    message = "Sinkronisasi gagal."

    def __init__(self, message: str | None = None, *, detail: str = ""):
        self.message = message or self.message
        self.detail = detail  # English, for logs; never holds personal data
        super().__init__(self.message)


class Offline(SyncError):
    message = (
        "Server tidak dapat dihubungi. Periksa koneksi internet; data tetap aman di perangkat "
        "dan akan dikirim nanti."
    )


class NotAuthorised(SyncError):
    message = (
        "Perangkat ini tidak diizinkan oleh server (token tidak sah atau sudah dicabut). "
        "Mintalah kode pendaftaran perangkat yang baru kepada admin."
    )


class ServerError(SyncError):
    message = "Server sedang bermasalah. Data tetap aman di perangkat; coba lagi beberapa saat lagi."
    retry_after = 0.0  # seconds the server asked us to wait (Retry-After), if any


class ProtocolError(SyncError):
    message = (
        "Jawaban server tidak dapat dipahami. Data tetap aman di perangkat; "
        "hubungi admin jika terus terjadi."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        detail: str = "",
        retryable: bool = False,
        code: str = "",
        status: int = 0,
        details: Any = None,
    ):
        super().__init__(message, detail=detail)
        # A truncated answer is worth another try; a 4xx refusal is not.
        self.retryable = retryable
        self.code = code  # the server's stable error code, e.g. "batch.id_reused"
        self.status = status  # the HTTP status of a refusal (4xx), 0 otherwise
        self.details = details  # the refusal's `details` (for 422: [{"loc", "msg"}]), or None


class CertificateError(SyncError):
    """The server's TLS certificate is not trusted (or TLS failed): never retried, since the
    same certificate will fail again, and never bypassed."""

    message = (
        "Sertifikat server tidak dipercaya: koneksi dihentikan. Periksa alamat server, atau "
        "daftarkan perangkat dengan sertifikat CA kota (--ca-file); hubungi admin."
    )


class InsecureAddress(SyncError):
    """Plain http to another computer, refused before any connection is made."""

    message = (
        "Alamat http:// tanpa enkripsi hanya boleh untuk komputer ini (127.0.0.1, localhost). "
        "Gunakan alamat https:// server, atau daftarkan perangkat dengan izin http tanpa "
        "enkripsi (--allow-insecure-http) jika jaringan itu memang tertutup."
    )


class Cancelled(SyncError):
    message = "Sinkronisasi dibatalkan. Tidak ada data yang hilang."


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter: wait random(0, min(cap, base * 2**attempt))."""

    attempts: int = 5
    base: float = 0.2
    cap: float = 5.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap, self.base * (2**attempt)))


@dataclass
class WireStats:
    """Bytes on the wire, counted for the benchmark: request bodies as sent (after gzip) and
    response bodies as received (after transport compression)."""

    requests: int = 0
    sent: int = 0
    received: int = 0


# Statuses worth a retry: the server or a proxy in front of it is having a moment.
_RETRY_STATUS = {500, 502, 503, 504, 429}


class SyncClient:
    """Talks to one sync server as one device. Thread-safe enough for one caller at a time.

    `ca_pem`: the city's own CA certificate(s) to verify an https server with (otherwise the
    system's); `allow_insecure_http`: plain http to another computer was explicitly allowed at
    enrolment. Certificates are always verified; there is no way to turn that off."""

    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        timeout: tuple[float, float] = (3.0, 30.0),
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ca_pem: str = "",
        allow_insecure_http: bool = False,
    ):
        self.base_url = base_url.rstrip("/")
        self.refused = plain_http_refused(self.base_url, allow_insecure_http)
        # Given on every request: a session-wide value would lose to REQUESTS_CA_BUNDLE.
        self.verify: bool | str = ca_bundle_path(ca_pem) if ca_pem else True
        self.token = token
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.stats = WireStats()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "jamsos-jambi-device/1"
        self.session.headers["Accept-Encoding"] = "gzip"
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    # --- the API ---------------------------------------------------------------------------

    def health(self) -> dict:
        """One quick check, no retries: the watcher does its own backoff."""
        return self._request("GET", "/health", auth=False, attempts=1, timeout=(2.0, 5.0))

    def enrol(self, code: str, device_name: str, request_id: str | None = None) -> dict:
        """Exchange a one-time code for this device's id, token and NIK hash key. With the
        device's `request_id`, a retry after a lost answer gets the same answer (§3)."""
        body = {"code": code, "device_name": device_name}
        if request_id:
            body["request_id"] = request_id
        return self._request("POST", "/devices/enrol", json_body=body, auth=False)

    def me(self) -> dict:
        """This device as the server knows it: role and the current NIK hash key."""
        return self._request("GET", "/devices/me")

    def push(self, batch_id: str, device_id: str, records: list[dict],
             events: list[dict] | None = None) -> dict:
        """One batch; `events` are the kegiatan its records refer to (left out when none)."""
        body: dict[str, Any] = {"batch_id": batch_id, "device_id": device_id, "records": records}
        if events:
            body["events"] = events
        return self._request("POST", "/sync/push", json_body=body)

    def public_keys(self) -> list[dict]:
        """The server's card-signing public keys, `[{"key_id", "public_key_pem"}]` (no token)."""
        return list(self._request("GET", "/keys", auth=False).get("keys", []))

    def pull(self, cursor: int, limit: int = 5000, pending: int | None = None) -> dict:
        """One page from `cursor`. `pending`: how many registrations still wait in this
        device's outbox, told to the server (the dashboard's freshness) when given."""
        params = {"cursor": cursor, "limit": limit}
        if pending is not None:
            params["pending"] = pending
        return self._request("GET", "/sync/pull", params=params)

    def call(self, method: str, path: str, body: dict | None = None,
             params: dict | None = None) -> dict:
        """Any other authenticated request of the API (decisions, card steps)."""
        return self._request(method, path, json_body=body, params=params)

    # --- plumbing --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict | None = None,
        auth: bool = True,
        attempts: int | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> dict:
        """Send with retries. Only transient failures (network, 5xx, cut or garbled answers) are
        retried; a refusal (401/403), a client error (4xx) or an untrusted certificate is final."""
        if self.refused:  # before anything touches the network
            raise InsecureAddress(detail="plain http to a non-loopback address")
        body, headers = self._encode(json_body)
        if auth:
            if not self.token:
                raise NotAuthorised(detail="no token: device not enrolled")
            headers["Authorization"] = f"Bearer {self.token}"
        total = attempts or self.retry.attempts
        last: SyncError = Offline()
        for attempt in range(total):
            if attempt:
                # The server's Retry-After (a busy database) wins over a shorter backoff.
                wait = max(self.retry.delay(attempt - 1), getattr(last, "retry_after", 0.0))
                self.sleep(min(wait, self.retry.cap * 2))
            try:
                return self._once(method, path, body, headers, params, timeout or self.timeout)
            except (Offline, ServerError, ProtocolError) as exc:
                if isinstance(exc, ProtocolError) and not exc.retryable:
                    raise
                last = exc
        raise last

    def _encode(self, json_body: Any) -> tuple[bytes | None, dict]:
        if json_body is None:
            return None, {}
        raw = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
        # mtime=0: the same batch compresses to the same bytes on every retry.
        body = gzip.compress(raw, compresslevel=6, mtime=0)
        return body, {"Content-Type": "application/json", "Content-Encoding": "gzip"}

    def _once(self, method, path, body, headers, params, timeout) -> dict:
        url = self.base_url + API_PREFIX + path
        try:
            with self._lock:
                response = self.session.request(
                    method, url, data=body, headers=headers, params=params, timeout=timeout,
                    stream=True, verify=self.verify,
                )
                raw = response.raw.read(decode_content=False)
                response.close()
        except requests.exceptions.SSLError as exc:
            raise _tls_error(exc, path) from exc
        except requests.exceptions.RequestException as exc:
            raise Offline(detail=f"{type(exc).__name__} on {path}") from exc
        except Exception as exc:  # urllib3 errors while reading the body (cut short)
            raise Offline(detail=f"{type(exc).__name__} reading {path}") from exc
        self.stats.requests += 1
        self.stats.sent += len(body or b"")
        self.stats.received += len(raw)
        return self._decode(response, raw, path)

    def _decode(self, response: requests.Response, raw: bytes, path: str) -> dict:
        status = response.status_code
        if status in (401, 403):
            raise NotAuthorised(detail=f"{status} on {path}")
        if status in _RETRY_STATUS:
            error = ServerError(detail=f"{status} on {path}")
            error.retry_after = _seconds(response.headers.get("Retry-After"))
            raise error
        try:
            if response.headers.get("Content-Encoding", "").lower() == "gzip":
                raw = gzip.decompress(raw)
            data = json.loads(raw) if raw else {}
        except (OSError, EOFError, ValueError) as exc:
            # A truncated or garbled answer is usually a cut connection: worth another try.
            raise ProtocolError(detail=f"undecodable answer on {path}", retryable=True) from exc
        if status >= 400:
            code, message = _server_error(data)
            error = data.get("error") if isinstance(data, dict) else None
            details = error.get("details") if isinstance(error, dict) else None
            raise ProtocolError(
                message, detail=f"{status} {code} on {path}", code=code, status=status,
                details=details,
            )
        if not isinstance(data, dict):
            raise ProtocolError(detail=f"answer on {path} is not an object", retryable=False)
        return data


def _tls_error(exc: BaseException, path: str) -> CertificateError:
    """An untrusted certificate (unknown CA, self-signed, expired, wrong name) or another TLS
    failure (e.g. https to a server that speaks plain http), as one Indonesian line."""
    if _verification_failed(exc):
        return CertificateError(detail=f"certificate not trusted on {path}")
    return CertificateError(
        "Koneksi aman (TLS) ke server gagal. Periksa alamat server (https:// atau http://) "
        "dan portnya; hubungi admin jika terus terjadi.", detail=f"TLS failure on {path}")


def _verification_failed(error: BaseException) -> bool:
    """Whether the chain of causes (requests -> urllib3 -> ssl) holds a failed verification."""
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo:
        exc = todo.pop()
        if not isinstance(exc, BaseException) or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLCertVerificationError):
            return True
        todo += [getattr(exc, "reason", None), exc.__cause__, exc.__context__, *exc.args]
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def _seconds(value: str | None) -> float:
    """Retry-After in seconds (the HTTP-date form is not used by this API)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _server_error(data: Any) -> tuple[str, str | None]:
    """The stable code and the server's own Indonesian message of a 4xx (docs/SYNC_API.md §1)."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", None
    code = str(error.get("code") or "")
    message = error.get("message")
    text = f"Server menolak permintaan: {message}" if isinstance(message, str) and message else None
    return code, text
