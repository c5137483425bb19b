"""The programme office's dashboard in the browser (/dashboard): coverage, budget, downloads.

`mount(app)` adds its pages, downloads and style sheet to the central server's application.
Officials log in with dashboard accounts (`accounts`), separate from devices.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from server.dashboard import facts, routes

log = logging.getLogger(__name__)


def mount(app: FastAPI) -> None:
    router = APIRouter(prefix=routes.PREFIX, include_in_schema=False)
    routes.routes(router)
    app.include_router(router)
    app.mount(f"{routes.PREFIX}/static", StaticFiles(directory=routes.HERE / "static"),
              name="dashboard-static")
    _copy_at_start(app)


def _copy_at_start(app: FastAPI) -> None:
    """When the server starts (its lifespan), bring the dashboard's copy up to date in the
    background, so that the first official after an upgrade does not wait for it."""
    running = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application):
        async with running(application) as state:
            threading.Thread(target=_copy, args=(application.state.store,),
                             name="dashboard-copy", daemon=True).start()
            yield state

    app.router.lifespan_context = lifespan


def _copy(store) -> None:
    try:
        facts.refresh(store)
    except Exception:  # noqa: BLE001 - the next dashboard request copies again
        log.exception("dashboard: copying the registrations at start failed")
