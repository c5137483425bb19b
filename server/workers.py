"""The application of one worker process when the server runs several (`main.py server
--workers N`, PostgreSQL only).

uvicorn starts each worker in a fresh interpreter and makes the application there from an import
string, so nothing made in the parent reaches it. The parent (server/serve.py) puts what the
workers need in their environment before starting them: the data folder (signing keys) and the
database URL. TLS is uvicorn's own business and reaches every worker through its settings.
"""

from __future__ import annotations

import os

DATA_DIR_ENV = "JAMSOS_SERVER_DATA_DIR"
DATABASE_ENV = "JAMSOS_SERVER_DATABASE"  # the same variable `main.py server` reads
IMPORT_STRING = "server.workers:app_from_environment"


def environment_for(data_dir, database_url: str | None) -> dict[str, str]:
    """The variables `app_from_environment` reads, for the parent to set."""
    values = {DATA_DIR_ENV: str(data_dir)}
    if database_url:
        values[DATABASE_ENV] = database_url
    return values


def app_from_environment():
    """One worker's application (uvicorn calls it: `factory=True`)."""
    from server.app import create_app

    return create_app(os.environ[DATA_DIR_ENV], os.environ.get(DATABASE_ENV) or None)
