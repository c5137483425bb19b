"""The programme office's dashboard in the browser (/dashboard): coverage, budget, downloads.

`mount(app)` adds its pages, downloads and style sheet to the central server's application.
Officials log in with dashboard accounts (`accounts`), separate from devices.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from server.dashboard import routes


def mount(app: FastAPI) -> None:
    router = APIRouter(prefix=routes.PREFIX, include_in_schema=False)
    routes.routes(router)
    app.include_router(router)
    app.mount(f"{routes.PREFIX}/static", StaticFiles(directory=routes.HERE / "static"),
              name="dashboard-static")
