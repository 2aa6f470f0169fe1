"""Schemathesis (PyPI) generates requests from the whole OpenAPI document, valid and invalid, and sends
them to the app as `test-admin`: no answer may be a server error (5xx). The endless live stream is left
out (tests/api/test_live.py covers it); each call has a 30 s timeout. Each operation gets `EXAMPLES`
generated requests, always the same ones (derandomized), so a failure reproduces."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

ENDLESS = "/api/live"
EXAMPLES = 10


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_no_request_gets_a_server_error(app: FastAPI, auth_headers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path=ENDLESS)
    failures: dict[str, Any] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def send(case: schemathesis.Case) -> None:
            response = case.call(headers=auth_headers, timeout=30)
            label = case.operation.label
            if response.status_code >= 500 and label not in failures:
                failures[label] = (
                    case.path_parameters,
                    case.query,
                    str(case.body)[:200],
                    response.text[:300],
                )

        send()
    assert operations > 50
    for label, failure in failures.items():
        print("SERVER ERROR", label, failure)
    assert failures == {}
