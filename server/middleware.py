"""Request bodies: a size limit before anything is parsed, gzip request decoding, and JSON as
the only media type.

Pure ASGI so that an oversized or broken body is refused before FastAPI reads it. The limit
applies to the bytes on the wire and again to the decompressed bytes, so a small gzip bomb is
refused as surely as a large body.
"""

from __future__ import annotations

import logging
import time
import zlib

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.errors import error_response

MAX_BODY_BYTES = 8 * 1024 * 1024
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FORM_PATHS = ("/dashboard/",)  # paths whose bodies are HTML forms, not JSON
log = logging.getLogger(__name__)


class HttpMiddleware:
    """Pure ASGI middleware that acts on HTTP requests only; other scopes (lifespan) pass
    through untouched. Subclasses implement `handle`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestBodyMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        encoding = headers.get("content-encoding", "").strip().lower()
        refusal = self._check_headers(headers, encoding)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        body, refusal = await self._read(receive)
        # The API speaks JSON only; the dashboard's HTML forms (server/dashboard/) post forms.
        if refusal is None and body and scope.get("method") in BODY_METHODS \
                and not scope.get("path", "").startswith(FORM_PATHS):
            refusal = _media_type_refusal(headers)
        if refusal is None and encoding == "gzip" and body:
            body, refusal = self._gunzip(body)
        if refusal is None:
            refusal = _nul_refusal(scope, headers, body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope = dict(scope)
        raw = [(k, v) for k, v in scope["headers"] if k not in (b"content-encoding",
                                                                  b"content-length")]
        raw.append((b"content-length", str(len(body)).encode("ascii")))
        scope["headers"] = raw
        await self.app(scope, _replay(body, receive), send)

    def _check_headers(self, headers: Headers, encoding: str):
        if encoding not in ("", "identity", "gzip"):
            return error_response(
                415, "request.unsupported_encoding",
                "Kompresi isi permintaan tidak didukung; gunakan gzip atau tanpa kompresi.",
            )
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                return error_response(400, "request.invalid", "Header Content-Length tidak sah.")
            if int(length) > self.max_bytes:
                return self._too_large()
        return None

    def _too_large(self):
        return error_response(
            413, "request.too_large",
            f"Isi permintaan terlalu besar (paling banyak {self.max_bytes // (1024 * 1024)} MiB). "
            "Kirim dalam kelompok yang lebih kecil.",
        )

    async def _read(self, receive: Receive):
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return b"", self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), None

    def _gunzip(self, body: bytes):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = decoder.decompress(body, self.max_bytes + 1)
        except zlib.error:
            out = None
        if out is not None and (len(out) > self.max_bytes or decoder.unconsumed_tail):
            return b"", self._too_large()
        if out is None or not decoder.eof:
            return b"", error_response(
                400, "request.bad_gzip", "Isi permintaan gzip rusak atau terpotong."
            )
        return out, None


def is_json_media_type(content_type: str) -> bool:
    """application/json or a structured "+json" type, parameters (charset) ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


def _media_type_refusal(headers: Headers):
    # Without this a form or text body reached the JSON parser and came back as a confusing 422
    # about the body's shape; docs/SYNC_API.md §1 promises 415 (a missing type is not JSON either).
    if is_json_media_type(headers.get("content-type", "")):
        return None
    return error_response(
        415, "request.unsupported_media_type",
        "Jenis isi permintaan tidak didukung; kirim JSON dengan Content-Type: application/json.",
    )


def _nul_refusal(scope: Scope, headers: Headers, body: bytes):
    # No text the server keeps may hold a NUL character: PostgreSQL's text refuses it (a 500
    # there), and on SQLite it would cut names short in other programs. JSON writes it \u0000.
    query = scope.get("query_string", b"").lower()
    in_body = body and is_json_media_type(headers.get("content-type", "")) \
        and b"\\u0000" in body
    if b"%00" not in query and b"\x00" not in query and not in_body:
        return None
    return error_response(
        422, "request.invalid",
        "Permintaan memuat karakter NUL (kode 0) yang tidak diterima; hapus karakter itu.",
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class ServerTimingMiddleware(HttpMiddleware):
    """`Server-Timing: app;dur=<ms>` on every answer: how long the server worked on it, so that
    a client or a benchmark can tell server time from network and client time."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)


class CrashGuardMiddleware(HttpMiddleware):
    """An unexpected error becomes a logged 500 in the error shape, and the connection stays
    usable: the exception does not travel on to the HTTP server, which would drop the connection
    and could lose the answer on the way."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            log.exception("unexpected server error on %s %s", scope.get("method"),
                          scope.get("path"))
            if started:
                raise
            response = error_response(
                500, "server.error", "Terjadi kesalahan di server. Coba lagi beberapa saat lagi."
            )
            await response(scope, receive, send)
