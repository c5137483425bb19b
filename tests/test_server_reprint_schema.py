"""The published schema of `POST /registrations/{id}/card/reprint` says what the server requires:
`revision` or `card_version` (or both). A request that is valid by the schema is never refused
with 422, and the schema itself refuses a request that names neither."""

from __future__ import annotations

import jsonschema_rs
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, find, given, settings
from schemathesis.generation import GenerationMode

REPRINT = "/api/v1/registrations/{record_id}/card/reprint"


@pytest.fixture(scope="module")
def live(live_module):
    live_module.desk = live_module.enrol("card_desk", "Loket kartu")
    return live_module


@pytest.fixture(scope="module")
def openapi(live) -> dict:
    return requests.get(f"{live.api}/openapi.json", timeout=10).json()


def _request_validator(openapi: dict):
    body = openapi["paths"][REPRINT]["post"]["requestBody"]["content"]["application/json"]
    return jsonschema_rs.validator_for({**body["schema"], "components": openapi["components"]})


@pytest.fixture(scope="module")
def operation(live):
    # No NUL characters: the server refuses them in any text before the schema is looked at
    # (server/middleware.py, docs/SYNC_API.md §1), so they are not "valid" requests.
    config = schemathesis.Config.from_dict({"generation": {"allow-x00": False}})
    return schemathesis.openapi.from_url(f"{live.api}/openapi.json",
                                         config=config)[REPRINT]["POST"]


@pytest.fixture(scope="module")
def rest(operation) -> dict:
    """The smallest body the schema accepts, without the two identifying fields: every other
    required field filled as the schema says (reason_code, and whatever else it requires)."""
    case = find(operation.as_strategy(generation_mode=GenerationMode.POSITIVE), lambda c: True,
                settings=settings(database=None, suppress_health_check=list(HealthCheck)))
    return {k: v for k, v in case.body.items() if k not in ("revision", "card_version")}


IDENTIFIERS = [
    ({}, False),
    ({"revision": None}, False),
    ({"card_version": None}, False),
    ({"revision": None, "card_version": None}, False),
    ({"revision": 3}, True),
    ({"revision": 0}, True),
    ({"card_version": 1}, True),
    ({"card_version": 1, "revision": None}, True),
    ({"revision": 0, "card_version": 2}, True),
]


@pytest.mark.parametrize(("identifiers", "valid"), IDENTIFIERS)
def test_the_schema_requires_revision_or_card_version(openapi, rest, identifiers, valid):
    assert _request_validator(openapi).is_valid({**rest, **identifiers}) is valid


def test_the_server_agrees_with_the_schema(live, openapi, rest):
    """What the schema refuses, the server refuses with 422; what it accepts passes validation
    (an unknown registration is then 404, not 422)."""
    validator = _request_validator(openapi)
    headers = {"Authorization": f"Bearer {live.desk.enrolment['token']}"}
    url = f"{live.api}/registrations/01-unknown/card/reprint"
    for identifiers, valid in IDENTIFIERS:
        body = {**rest, **identifiers}
        assert validator.is_valid(body) is valid
        answer = requests.post(url, json=body, headers=headers, timeout=10)
        assert answer.status_code == (404 if valid else 422), (body, answer.text)


def test_requests_generated_from_the_schema_are_never_refused_as_invalid(live, operation):
    headers = {"Authorization": f"Bearer {live.desk.enrolment['token']}"}
    seen: list[int] = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def generated(case):
        answer = case.call(base_url=live.url, headers=headers)
        seen.append(answer.status_code)
        assert answer.status_code != 422, (case.body, answer.text)

    generated()
    assert len(seen) >= 30 and set(seen) <= {404, 409}
