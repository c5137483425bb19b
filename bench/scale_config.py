"""The sizes, shares and goals of the province-scale server benchmark (bench_server_scale)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL, QUICK = 1_000_000, 20_000
BATCH = 200
DEVICES = 10
PULL_PAGE = 5000
SEED_DEVICES = 200  # a province's laptops: 11 kabupaten/kota, about 18 each
CHUNK = 20_000  # seeded rows per write transaction
READ_BUDGET_S = 20.0  # a read that is slow stops after this long (fewer samples, said so)
STATUSES = (("received", 40), ("verified", 12), ("rejected", 8), ("funded", 16),
            ("card_printed", 10), ("card_handed_over", 10), ("died", 2), ("inactive", 2))
REVISION = {"received": 1, "verified": 2, "rejected": 2, "funded": 3, "card_printed": 4,
            "card_handed_over": 5, "died": 5, "inactive": 5}
FUNDED = {"funded", "card_printed", "card_handed_over", "died", "inactive"}
GOAL_READ_MS = 50.0
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
GOAL_RATIO = 2.0
# A production server's durability (tests/pg_cluster.py switches it off for throwaway tests),
# and shared buffers of a few gigabytes (the test cluster keeps 32 MB).
PG_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
               "shared_buffers": "'2GB'", "max_wal_size": "'4GB'"}
