"""Enrolling this device with a central server (docs/SYNC_API.md §3): the window's sync panel,
the demo and `main.py enrol` all go through `enrol_device`."""

from __future__ import annotations

from sync.client import SyncClient
from sync.enrol import Enrolment, enrol, read_ca_file

__all__ = ["Enrolment", "enrol_device", "read_ca_file"]


def enrol_device(registry, server_url: str, code: str, device_name: str = "", *,
                 ca_file: str = "", ca_pem: str = "", allow_insecure_http: bool = False,
                 client: SyncClient | None = None) -> Enrolment:
    """Enrol with the one-time `code`. The city's CA comes as PEM text already read (the command
    line reads it before asking for a password) or as a file read here; SyncError (Indonesian)
    for an unreadable file, a refused address or a failed enrolment; nothing is kept then."""
    if ca_file and not ca_pem:
        ca_pem = read_ca_file(ca_file)
    return enrol(registry, server_url, code, device_name, client=client, ca_pem=ca_pem,
                 allow_insecure_http=allow_insecure_http)
