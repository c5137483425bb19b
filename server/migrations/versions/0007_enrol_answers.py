"""Server schema 0007_enrol_answers."""

from server.migrations import run_step, schema

revision, down_revision = "0007_enrol_answers", '0006_transfers'


def upgrade() -> None:
    run_step(schema.m0007_enrol_answers)
