"""Time-ordered ids made on the device (UUID version 7, RFC 9562).

The time part only helps index locality; nothing orders records by it, because device clocks
are wrong after battery swaps.
"""

import os
import time
import uuid


def new_id() -> str:
    """A fresh UUIDv7 as a 36-character string."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return str(uuid.UUID(int=value))
