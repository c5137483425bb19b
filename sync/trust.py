"""How a device trusts its server (docs/SYNC_API.md §1, Transport security).

An `https://` server is verified against the system's certificate authorities, or against the
city's own CA certificate given at enrolment (kept as PEM text in the encrypted database). Plain
`http://` is allowed only to this computer (loopback) unless the device was enrolled with an
explicit permission: on any other network the token and the NIKs would travel in clear.

Pure helpers, no network: the client (`client.py`) and enrolment (`enrol.py`) use them.
"""

from __future__ import annotations

import atexit
import hashlib
import ipaddress
import os
import shutil
import tempfile
import threading
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

LOOPBACK_NAMES = {"localhost", "localhost."}


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 (also as an IPv4-mapped address) and the name localhost. Any other name
    counts as the network: a name is not resolved, so what it points to cannot change this."""
    host = (host or "").strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def plain_http_refused(url: str, allow_insecure_http: bool = False) -> bool:
    """True when `url` is plain http to another computer and the device was not allowed it."""
    parts = urlsplit((url or "").strip())
    if parts.scheme.lower() != "http" or allow_insecure_http:
        return False
    try:
        host = parts.hostname or ""
    except ValueError:
        return True
    return not is_loopback_host(host)


def parse_ca_pem(data: bytes) -> str:
    """The PEM text of one or more certificates, checked; ValueError when it holds none."""
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ValueError("not a PEM certificate") from exc
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certificates)


# --- the CA as a file for requests --------------------------------------------------------------
# requests verifies against a file path; the PEM is written once per process to a private
# folder (0700, the file 0600) and removed at exit. A CA certificate is public, but the folder
# is private so no other account can swap it for its own.

_lock = threading.Lock()
_files: dict[str, str] = {}
_folder: list[str] = []


def ca_bundle_path(pem: str) -> str:
    """A file holding `pem`, made on first use and kept for the life of the process."""
    digest = hashlib.sha256(pem.encode("ascii")).hexdigest()
    with _lock:
        path = _files.get(digest)
        if path and os.path.exists(path):
            return path
        if not _folder or not os.path.isdir(_folder[0]):
            _folder[:] = [tempfile.mkdtemp(prefix="jamsos-ca-")]
        path = os.path.join(_folder[0], f"{digest[:16]}.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(pem)
        _files[digest] = path
        return path


@atexit.register
def _remove_files() -> None:
    with _lock:
        for folder in _folder:
            shutil.rmtree(folder, ignore_errors=True)
        _folder.clear()
        _files.clear()
