"""Server schema 0011_device_outbox."""

from server.migrations import run_step, schema

revision, down_revision = "0011_device_outbox", '0010_pdp'


def upgrade() -> None:
    run_step(schema.m0011_device_outbox)
