"""Server schema 0012_list_indexes."""

from server.migrations import run_step, schema

revision, down_revision = "0012_list_indexes", "0011_device_outbox"


def upgrade() -> None:
    run_step(schema.m0012_list_indexes)
