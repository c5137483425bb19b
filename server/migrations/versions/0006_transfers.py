"""Server schema 0006_transfers."""

from server.migrations import run_step, schema

revision, down_revision = "0006_transfers", '0005_trust'


def upgrade() -> None:
    run_step(schema.m0006_transfers)
