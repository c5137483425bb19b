"""Alembic's entry for the server's schema. The server runs it itself (server/store.py) on the
connection it opened, for SQLite and PostgreSQL alike; there is no alembic.ini to keep."""

from alembic import context


def run() -> None:
    context.configure(connection=context.config.attributes["connection"], target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "config", None) is not None:  # imported by Alembic, not by a test's scan
    run()
