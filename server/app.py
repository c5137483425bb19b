"""The FastAPI application of the central registry (docs/SYNC_API.md).

`create_app(data_dir, database_url)` builds one application over one data directory: its store
(SQLite or PostgreSQL, server/database.py) and its
card-signing key. Endpoints are plain functions, so FastAPI runs them on its thread pool and the
event loop never waits on SQLite.
"""

from __future__ import annotations

import base64
import contextlib
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Query, Request, Response
from starlette.middleware.gzip import GZipMiddleware

from server import auth, dashboard, device_outbox, errors, office_routes, pull, push, verifier
from server.auth import Device
from server.deps import DeviceDep, store_of
from server.errors import ApiError
from server.middleware import (
    MAX_BODY_BYTES,
    CrashGuardMiddleware,
    RequestBodyMiddleware,
    ServerTimingMiddleware,
)
from server.schemas import (
    ERROR_RESPONSES,
    MAX_RECORDS_PER_BATCH,
    DeviceInfo,
    EnrolRequest,
    EnrolResponse,
    Health,
    Keys,
    PullResponse,
    PushRequest,
    PushResponse,
)
from server.signing import Signer
from server.store import Store
from storage.vocabulary import utc_now_iso

API_PREFIX = "/api/v1"
API_VERSION = 1
_ERRORS = ERROR_RESPONSES


def _device_info(store: Store, device: Device) -> dict:
    return {
        "device_id": device.id, "device_name": device.name, "role": device.role,
        "nik_hash_key_id": store.nik_hash_key_id,
        "nik_hash_key": base64.b64encode(store.nik_hash_key).decode("ascii"),
    }


def _core_routes(router: APIRouter) -> None:
    @router.get("/health", response_model=Health, tags=["umum"])
    def health() -> dict:
        return {"status": "ok", "api_version": API_VERSION,
                "server_time": utc_now_iso(precise=True)}

    @router.get("/keys", response_model=Keys, tags=["umum"])
    def keys(request: Request) -> dict:
        return {"keys": request.app.state.signer.public_keys()}

    @router.post("/devices/enrol", response_model=EnrolResponse, responses=_ERRORS,
                 tags=["perangkat"])
    def enrol(body: EnrolRequest, request: Request) -> dict:
        store = store_of(request)
        device, token = auth.enrol(store, body.code, body.device_name, body.request_id)
        return {**_device_info(store, device), "token": token}

    @router.get("/devices/me", response_model=DeviceInfo, responses=_ERRORS, tags=["perangkat"])
    def me(device: DeviceDep, request: Request) -> dict:
        return _device_info(store_of(request), device)


def _sync_routes(router: APIRouter) -> None:
    @router.post("/sync/push", response_model=PushResponse, responses=_ERRORS, tags=["sinkron"])
    def sync_push(body: PushRequest, device: DeviceDep, request: Request) -> dict:
        if len(body.records) > MAX_RECORDS_PER_BATCH:
            raise ApiError(
                413, "push.too_many_records",
                f"Satu kiriman paling banyak {MAX_RECORDS_PER_BATCH} rekaman; "
                f"yang dikirim {len(body.records)}.",
            )
        return push.push(store_of(request), device, body)

    @router.get("/sync/pull", response_model=PullResponse, responses=_ERRORS, tags=["sinkron"])
    def sync_pull(
        device: DeviceDep, request: Request,
        cursor: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 2000,
        # Optional: how many registrations still wait in the device's outbox (older devices
        # send none). The dashboard counts what waits on devices that have gone silent.
        pending: Annotated[int | None, Query(ge=0, le=device_outbox.MAX_PENDING)] = None,
    ) -> Response:
        if pending is not None:
            device_outbox.remember(store_of(request), device, pending)
        body = pull.page_json(store_of(request), device, cursor, limit)
        return Response(body, media_type="application/json")


# Request threads per process on PostgreSQL: each holds a reader connection, and a province's
# server runs several processes against one max_connections (README: a provincial server).
POSTGRESQL_THREADS = 16


def _lifespan(store: Store):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if store.is_postgresql:
            anyio.to_thread.current_default_thread_limiter().total_tokens = POSTGRESQL_THREADS
        yield

    return lifespan


def create_app(data_dir: Path | str, database_url: str | None = None) -> FastAPI:
    """The application over `data_dir` (made if missing: keys/, and server.db unless
    `database_url` names another database, server/database.py)."""
    data_dir = Path(data_dir)
    store = Store(data_dir, database_url)
    app = FastAPI(
        lifespan=_lifespan(store),
        title="Jamsostek Kota Jambi: server pusat",
        version=str(API_VERSION),
        description="API sinkronisasi perangkat pendataan (docs/SYNC_API.md).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.store = store
    app.state.signer = Signer(data_dir)
    errors.install(app)
    router = APIRouter(prefix=API_PREFIX)
    _core_routes(router)
    _sync_routes(router)
    verifier.routes(router)
    office_routes.routes(router)  # BPJS file, KPJ, JKM claims, PDP
    app.include_router(router)
    dashboard.mount(app)  # /dashboard: the programme office's pages (server/dashboard/)
    # Level 5: most of the size gain of 9 at a fraction of the time, for 228,000-hash pulls.
    app.add_middleware(CrashGuardMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.add_middleware(RequestBodyMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(ServerTimingMiddleware)  # outermost: times everything above
    return app
