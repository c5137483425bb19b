"""Server schema 0001_core."""

from server.migrations import run_step, schema

revision, down_revision = "0001_core", None


def upgrade() -> None:
    run_step(schema.m0001_core)
