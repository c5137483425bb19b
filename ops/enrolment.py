"""Enrolling this device with a central server (docs/SYNC_API.md §3): the window's sync panel,
the demo and `main.py enrol` all go through here.

The command line runs the whole enrolment on one thread (`enrol_device`). The window runs its
three steps on different threads so that the database writer never waits on the network (up to
half a minute with the retry): `plan` reads and keeps the request id on the writer, `ask` sends
on a pool, `keep` stores the answer on the writer."""

from __future__ import annotations

from sync.client import SyncClient
from sync.enrol import (
    Enrolment,
    EnrolRequest,
    enrol,
    keep_enrolment,
    plan_enrolment,
    read_ca_file,
)
from sync.enrol import ask_server as ask

__all__ = ["EnrolRequest", "Enrolment", "ask", "enrol_device", "keep", "plan", "read_ca_file"]

keep = keep_enrolment


def plan(registry, server_url: str, code: str, device_name: str = "", *, ca_file: str = "",
         ca_pem: str = "", allow_insecure_http: bool = False) -> EnrolRequest:
    """The city's CA comes as PEM text already read (the command line reads it before asking
    for a password) or as a file read here; SyncError (Indonesian) for an unreadable file or a
    refused address; nothing is kept then."""
    if ca_file and not ca_pem:
        ca_pem = read_ca_file(ca_file)
    return plan_enrolment(registry, server_url, code, device_name, ca_pem=ca_pem,
                          allow_insecure_http=allow_insecure_http)


def enrol_device(registry, server_url: str, code: str, device_name: str = "", *,
                 ca_file: str = "", ca_pem: str = "", allow_insecure_http: bool = False,
                 client: SyncClient | None = None) -> Enrolment:
    """Enrol with the one-time `code`, all three steps on this thread; SyncError (Indonesian)
    for an unreadable CA file, a refused address or a failed enrolment; nothing is kept then."""
    if ca_file and not ca_pem:
        ca_pem = read_ca_file(ca_file)
    return enrol(registry, server_url, code, device_name, client=client, ca_pem=ca_pem,
                 allow_insecure_http=allow_insecure_http)
