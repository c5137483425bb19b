"""A refusal people read: a stable `.code` for programs and tests, and as str() its Indonesian
message. Shared by the device's operator accounts (storage/operators.py) and the dashboard's
officials (server/dashboard/accounts.py), each with its own table of messages."""

from __future__ import annotations


class Refusal(ValueError):
    """`MESSAGES[code]`, formatted with `values`, is the message; a subclass sets MESSAGES."""

    MESSAGES: dict[str, str] = {}

    def __init__(self, code: str, **values: object):
        self.code = code
        super().__init__(self.MESSAGES[code].format(**values))
