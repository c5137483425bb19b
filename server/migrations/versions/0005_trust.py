"""Server schema 0005_trust."""

from server.migrations import run_step, schema

revision, down_revision = "0005_trust", '0004_reprint_requests'


def upgrade() -> None:
    run_step(schema.m0005_trust)
