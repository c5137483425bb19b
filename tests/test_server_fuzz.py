"""Every endpoint fuzzed from the published OpenAPI schema, against the real server: never a 5xx,
and every answer (status, content type, body) is one the schema declares."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from server_util import record, workers

MAX_EXAMPLES = 15  # per endpoint and mode: enough to find crashes, quick enough for every run
# Not negative_data_rejection: unknown query parameters are ignored, as HTTP servers do.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def live(live_module):
    # Some data, so that reads and decisions reach past "not found".
    device = live_module.enrol("admin", "Admin uji")
    device.push([record(r, device.device_id) for r in workers(5, seed=40)])
    live_module.admin = device
    return live_module


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_answers_conform(live, mode):
    schema = schemathesis.openapi.from_url(f"{live.api}/openapi.json")
    headers = {"Authorization": f"Bearer {live.admin.enrolment['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18  # every endpoint of docs/SYNC_API.md is in the schema

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:
            # No invalid input exists for an operation without parameters or body (/health).
            assert mode is GenerationMode.NEGATIVE
            assert not operation.body and not operation.query and not operation.path_parameters
