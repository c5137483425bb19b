"""Server schema 0008_dashboard."""

from server.migrations import run_step, schema

revision, down_revision = "0008_dashboard", '0007_enrol_answers'


def upgrade() -> None:
    run_step(schema.m0008_dashboard)
