"""Server schema 0009_programme_office."""

from server.migrations import run_step, schema

revision, down_revision = "0009_programme_office", '0008_dashboard'


def upgrade() -> None:
    run_step(schema.m0009_programme_office)
