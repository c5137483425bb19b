"""The server's Alembic migrations: `schema` holds the statements, `versions/` the revisions."""

from __future__ import annotations

from collections.abc import Callable


class _Runner:
    """`run(sql)` for a schema step: one statement on the migrating connection."""

    def __init__(self, op):
        self._op = op
        self.dialect = op.get_bind().dialect.name

    def __call__(self, sql: str) -> None:
        self._op.execute(sql)


def run_step(step: Callable[[_Runner], None]) -> None:
    from alembic import op

    step(_Runner(op))
