"""Server schema 0002_seen."""

from server.migrations import run_step, schema

revision, down_revision = "0002_seen", '0001_core'


def upgrade() -> None:
    run_step(schema.m0002_seen)
