"""Server schema 0004_reprint_requests."""

from server.migrations import run_step, schema

revision, down_revision = "0004_reprint_requests", '0003_kegiatan'


def upgrade() -> None:
    run_step(schema.m0004_reprint_requests)
