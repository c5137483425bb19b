"""Server schema 0003_kegiatan."""

from server.migrations import run_step, schema

revision, down_revision = "0003_kegiatan", '0002_seen'


def upgrade() -> None:
    run_step(schema.m0003_kegiatan)
