"""Server schema 0010_pdp."""

from server.migrations import run_step, schema

revision, down_revision = "0010_pdp", '0009_programme_office'


def upgrade() -> None:
    run_step(schema.m0010_pdp)
