"""The key file next to the encrypted database (`registry.key`): what log-in needs before the
database opens, and nothing about people.

    {"format": "jamsos-jambi-keyfile", "version": 1,
     "body": {                                  # authenticated: changed only with the key
        "database_id": hex, "generation": int,
        "max_failures": 5, "lock_minutes": 15, "chain_length": 50,
        "wraps": {username: {"kind": "password" | "legacy", "salt", "n", "r", "p",
                             "nonce", "ct", "anchor"}},
        "recovery": {"salt", "nonce", "ct"} | null},
     "mac": HMAC-SHA256 over the canonical body under a key derived from the database key,
     "lockout": {username: {"link": hex, "locked_until": ISO time or ""}}}

The body can only be checked, and only be written, by someone who has unwrapped the database
key; a changed body fails that check after a correct password, so it unlocks nothing. The
lockout part must change on a failed log-in, when no key is at hand: each failure replaces the
operator's `link` by its SHA-256, and the anchor (in the body) is `chain_length` steps ahead of
the first link. Counting the steps from link to anchor gives the failures; going back a step
means inverting SHA-256. An edited or missing link is off the chain and fails closed. What no
file can prevent is putting back a whole earlier copy of the file (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from storage.paths import write_private

FORMAT = "jamsos-jambi-keyfile"
VERSION = 1
MAX_BYTES = 1024 * 1024  # a key file of a hundred operators is ~60 KB


class KeyFileError(Exception):
    """The key file cannot be read or does not have the expected shape."""


@dataclass
class KeyFile:
    body: dict
    mac: str = ""
    lockout: dict[str, dict] = field(default_factory=dict)

    def canonical_body(self) -> str:
        return canonical(self.body)

    def to_bytes(self) -> bytes:
        return json.dumps({"format": FORMAT, "version": VERSION, "body": self.body,
                           "mac": self.mac, "lockout": self.lockout},
                          indent=1, sort_keys=True).encode("utf-8")


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def read(path: Path) -> KeyFile:
    """The key file at `path`; KeyFileError when it is missing, truncated or malformed."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read: {type(exc).__name__}") from exc
    if len(raw) > MAX_BYTES:
        raise KeyFileError("too large")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise KeyFileError("not JSON") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise KeyFileError("unknown format")
    body, tag, lockout = data.get("body"), data.get("mac"), data.get("lockout")
    if not (isinstance(body, dict) and isinstance(tag, str) and isinstance(lockout, dict)):
        raise KeyFileError("missing parts")
    _check_body(body)
    for entry in lockout.values():
        if not (isinstance(entry, dict) and isinstance(entry.get("link"), str)
                and isinstance(entry.get("locked_until", ""), str)):
            raise KeyFileError("bad lockout entry")
    return KeyFile(body=body, mac=tag, lockout=lockout)


def write(path: Path, keyfile: KeyFile) -> None:
    write_private(path, keyfile.to_bytes())


def _check_body(body: dict) -> None:
    ints = ("generation", "max_failures", "lock_minutes", "chain_length")
    if not isinstance(body.get("database_id"), str) or not all(
            isinstance(body.get(name), int) and body[name] >= 0 for name in ints):
        raise KeyFileError("bad body")
    if body["max_failures"] < 1 or body["chain_length"] < body["max_failures"]:
        raise KeyFileError("bad limits")
    wraps = body.get("wraps")
    if not isinstance(wraps, dict):
        raise KeyFileError("bad wraps")
    for wrap in wraps.values():
        if not isinstance(wrap, dict) or wrap.get("kind") not in ("password", "legacy") or \
                not all(isinstance(wrap.get(k), str) for k in ("salt", "nonce", "ct", "anchor")) \
                or not all(isinstance(wrap.get(k), int) and wrap[k] > 0 for k in ("n", "r", "p")):
            raise KeyFileError("bad wrap")
    recovery = body.get("recovery")
    if recovery is not None and not (isinstance(recovery, dict) and all(
            isinstance(recovery.get(k), str) for k in ("salt", "nonce", "ct"))):
        raise KeyFileError("bad recovery wrap")
