"""One route shape shared by the verifier's decisions, the card desk's steps and the programme
office's claim and PDP steps: `POST /registrations/{record_id}/...` with a body that names the
operator. The route checks the device's role, does the step and answers with the record as it is
now, so each step is written as the one call that differs."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Request

from server.auth import Device, require_role
from server.deps import DeviceDep, store_of
from server.store import Store

RecordId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


@dataclass(frozen=True)
class Step:
    """What every step needs besides its body."""

    request: Request
    device: Device
    record_id: str
    operator: dict  # the body's operator, as the stores record it

    @property
    def store(self) -> Store:
        return store_of(self.request)

    @property
    def args(self) -> tuple[Store, Device, str]:
        """The store, device and record id that every step function takes first."""
        return self.store, self.device, self.record_id


def step_route(router: APIRouter, path: str, roles: tuple[str, ...], answer=None, **kw):
    """Decorator: `act(step, body)` becomes the POST route at `path` for `roles`. The route
    answers `answer(request, record_id, device)`, or what `act` returns when there is no
    `answer`. The body's model is `act`'s `body` annotation; the route keeps `act`'s name and
    docstring, so the OpenAPI document (operation ids, descriptions) is as if written out."""

    def register(act):
        hints = typing.get_type_hints(act)

        def endpoint(record_id, body, device, request):
            require_role(device, *roles)
            done = act(Step(request, device, record_id, body.operator.model_dump()), body)
            return done if answer is None else answer(request, record_id, device)

        endpoint.__annotations__ = {"record_id": RecordId, "body": hints["body"],
                                    "device": DeviceDep, "request": Request}
        if "return" in hints and answer is None:
            endpoint.__annotations__["return"] = hints["return"]
        endpoint.__name__, endpoint.__qualname__ = act.__name__, act.__qualname__
        endpoint.__doc__ = act.__doc__
        router.post(path, **kw)(endpoint)
        return act

    return register
