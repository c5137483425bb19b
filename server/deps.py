"""FastAPI dependencies shared by the routes: the store and the authenticated device."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server import auth
from server.auth import Device
from server.store import Store

_bearer = HTTPBearer(auto_error=False, description="Token perangkat dari POST /devices/enrol")


def store_of(request: Request) -> Store:
    return request.app.state.store


def current_device(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Device:
    header = f"Bearer {credentials.credentials}" if credentials else None
    return auth.authenticate(store_of(request), header)


DeviceDep = Annotated[Device, Depends(current_device)]
