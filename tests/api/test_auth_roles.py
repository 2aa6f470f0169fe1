"""Every `/api` endpoint of the assembled app (kernel, operations, access and domain routers), called as
nobody, as a device, as a leader, as an agency officer and as an operator: each gets 401/403 exactly where
its policy says, and gets through (any other status) everywhere else. A new endpoint is covered as soon as
it is mounted."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityops.core.access.accounts import HUMAN_ROLES, Role

HeadersFor = Callable[..., dict[str, str]]

PUBLIC = {("GET", "/api/translations/{lang}"), ("POST", "/api/auth/login"), ("POST", "/api/auth/logout")}
DEVICE_MAY = {
    ("POST", "/api/ingest"),
    ("POST", "/api/traffic/cameras/{camera_id}/snapshot"),  # the traffic domain's `device_paths`
}
OWN_ACCOUNT = {"/api/auth/me", "/api/auth/password", "/api/tokens", "/api/tokens/{token_id}"}
RULES_AND_ALERTS = ("/api/rules", "/api/rule-templates", "/api/alerts")
# A domain's `public_paths`: the citizens' report form and API (tests/reports cover them); open data
# (tests/api/test_opendata.py); the wifi domain's FreeRADIUS, device heartbeat and captive portal calls,
# which authenticate themselves (tests/wifi cover them).
PUBLIC_PREFIXES = (
    "/api/reports/public/",
    "/api/opendata/",
    "/api/wifi/radius/",
    "/api/wifi/devices/",
    "/api/wifi/portal/",
)
STREAMS = {("GET", "/api/live")}  # never ends in TestClient: covered over a real server in test_auth.py
EVERYONE_BUT_DEVICES = frozenset(HUMAN_ROLES)


def allowed_roles(method: str, path: str) -> frozenset[Role]:
    if (method, path) in DEVICE_MAY:
        return frozenset({Role.ADMIN, Role.OPERATOR, Role.DEVICE})
    if path.startswith(("/api/users", "/api/audit")):
        return frozenset({Role.ADMIN})
    if path in OWN_ACCOUNT:
        return EVERYONE_BUT_DEVICES
    if path.startswith(RULES_AND_ALERTS):
        if method == "GET":
            return frozenset({Role.ADMIN, Role.OPERATOR, Role.LEADER})
        return frozenset({Role.ADMIN, Role.OPERATOR})
    if path.startswith("/api/incidents/{incident_id}") and method != "GET":
        # Agency officers act on the incidents of their scope (tests/api/test_auth_scope.py).
        return frozenset({Role.ADMIN, Role.OPERATOR, Role.AGENCY_OFFICER})
    if path.startswith("/api/reports/{report_id}") and method != "GET":
        # Agency officers moderate the reports of their scope (tests/reports/test_moderation.py).
        return frozenset({Role.ADMIN, Role.OPERATOR, Role.AGENCY_OFFICER})
    if path.startswith("/api/wifi/") and path != "/api/wifi/sweep" and method != "GET":
        # A business's staff are agency officers managing their own tenant (tests/wifi/test_tenancy.py).
        return frozenset({Role.ADMIN, Role.OPERATOR, Role.AGENCY_OFFICER})
    if method == "GET":
        return EVERYONE_BUT_DEVICES
    return frozenset({Role.ADMIN, Role.OPERATOR})


def endpoints(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app publishes under /api, from its OpenAPI document."""
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            public = (method.upper(), path) in PUBLIC | STREAMS or path.startswith(PUBLIC_PREFIXES)
            if path.startswith("/api/") and not public:
                yield method.upper(), path


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = re.sub(r"\{[^}]+\}", "999999", path)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, url, headers=headers, json=body).status_code


def test_the_matrix_covers_the_kernel_operations_and_access_routers(app: FastAPI) -> None:
    paths = {path for _, path in endpoints(app)}
    assert {"/api/ingest", "/api/entities", "/api/areas", "/api/indicators", "/api/meta"} <= paths
    assert {"/api/incidents/{incident_id}", "/api/rules", "/api/users", "/api/audit", "/api/tokens"} <= paths


def test_nobody_gets_401_everywhere_but_the_public_endpoints(client: TestClient, app: FastAPI) -> None:
    del client.headers["Authorization"]
    wrong = {(m, p, s) for m, p in endpoints(app) if (s := call(client, m, p, {})) != 401}
    assert wrong == set()
    response = client.get("/api/meta")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"]["code"] == "not_authenticated"
    assert client.get("/api/translations/vi").status_code == 200


def test_each_role_is_refused_exactly_where_its_policy_says(
    client: TestClient, app: FastAPI, headers_for: HeadersFor
) -> None:
    del client.headers["Authorization"]
    wrong = []
    for role in (Role.DEVICE, Role.LEADER, Role.AGENCY_OFFICER, Role.OPERATOR):
        headers = headers_for(role, **({"agency_code": "police"} if role is Role.AGENCY_OFFICER else {}))
        for method, path in endpoints(app):
            status = call(client, method, path, headers)
            expected_in = role in allowed_roles(method, path)
            if expected_in == (status in (401, 403)):
                wrong.append((role.value, method, path, status))
    assert wrong == []


def test_a_device_that_reads_is_told_it_may_only_send_data(
    client: TestClient, headers_for: HeadersFor
) -> None:
    response = client.get("/api/entities", headers=headers_for(Role.DEVICE))
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "device_ingest_only"
    assert "POST /api/ingest" in response.json()["detail"]["text"]["vi"]


def test_a_wrong_role_is_told_which_roles_may(client: TestClient, headers_for: HeadersFor) -> None:
    response = client.post("/api/rules", json={}, headers=headers_for(Role.LEADER))
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert (detail["code"], detail["role"], detail["allowed"]) == (
        "forbidden",
        "leader",
        ["admin", "operator"],
    )


def test_bad_and_unknown_tokens_get_401(client: TestClient) -> None:
    for header in ("Basic dXNlcjpwdw==", "Bearer", "Bearer cityops_" + "x" * 43, "Bearer nonsense"):
        response = client.get("/api/meta", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_pages_and_static_files_stay_public(client: TestClient) -> None:
    del client.headers["Authorization"]
    page = client.get("/")
    assert page.status_code == 200
    scripts = re.findall(r'src="(/static/[^"]+)"', page.text)
    assert scripts and client.get(scripts[0]).status_code == 200
