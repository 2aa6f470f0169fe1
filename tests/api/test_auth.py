"""Web sessions: login sets an HttpOnly SameSite=Lax session cookie (Secure over https) and a readable
CSRF cookie; the session id is new at every login (a planted id is worthless); cookie-authenticated unsafe
requests need the X-CSRF-Token header; logout and disabling end sessions; passwords change safely."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.api.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from cityops.core.access.accounts import Role
from cityops.core.access.schema import audit_log
from cityops.core.kernel import Kernel

PASSWORD = "mật khẩu đủ dài 2026"
ENTITY = {"id": "urn:ngsi-ld:Camera:csrf-1", "name": "Camera CSRF", "location": None}


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def set_cookies(response_headers: list[str]) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response_headers}


def test_login_sets_a_protected_session_cookie_and_a_readable_csrf_cookie(
    client: TestClient, make_account: Callable[..., str]
) -> None:
    del client.headers["Authorization"]
    make_account("an.operator")
    response = client.post("/api/auth/login", json={"username": "An.Operator", "password": PASSWORD})
    assert response.status_code == 200
    cookies = set_cookies(response.headers.get_list("set-cookie"))
    session = cookies[SESSION_COOKIE].lower()
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "secure" not in session  # plain http here
    csrf = cookies[CSRF_COOKIE].lower()
    assert "httponly" not in csrf and "samesite=strict" in csrf
    assert response.json()["csrf_token"] == client.cookies[CSRF_COOKIE]
    me = client.get("/api/auth/me").json()
    assert (me["username"], me["role"], me["via"]) == ("an.operator", "operator", "session")
    assert me["csrf_token"] == client.cookies[CSRF_COOKIE]


def test_cookies_are_secure_over_https(app: FastAPI, make_account: Callable[..., str]) -> None:
    make_account("secure.op")
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post("/api/auth/login", json={"username": "secure.op", "password": PASSWORD})
    cookies = set_cookies(response.headers.get_list("set-cookie"))
    assert "secure" in cookies[SESSION_COOKIE].lower() and "secure" in cookies[CSRF_COOKIE].lower()


def with_session(session_id: str) -> dict[str, str]:
    """Headers carrying a chosen session cookie (send with an empty cookie jar)."""
    return {"Cookie": f"{SESSION_COOKIE}={session_id}"}


def test_session_fixation_a_planted_session_id_never_becomes_the_victims_session(
    client: TestClient, make_account: Callable[..., str]
) -> None:
    del client.headers["Authorization"]
    make_account("mallory", Role.LEADER)
    make_account("alice", Role.ADMIN)
    login(client, "mallory")
    planted = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    # The victim's browser carries the attacker's session id when the victim signs in.
    credentials = {"username": "alice", "password": PASSWORD}
    response = client.post("/api/auth/login", json=credentials, headers=with_session(planted))
    fresh = response.cookies[SESSION_COOKIE]
    client.cookies.clear()
    assert fresh != planted
    assert client.get("/api/auth/me", headers=with_session(fresh)).json()["username"] == "alice"
    assert client.get("/api/auth/me", headers=with_session(planted)).status_code == 401  # ended at login
    # An id the server never issued is not adopted either.
    chosen = "attacker-chosen-session-id-0123456789"
    response = client.post("/api/auth/login", json=credentials, headers=with_session(chosen))
    client.cookies.clear()
    assert response.cookies[SESSION_COOKIE] != chosen
    assert client.get("/api/auth/me", headers=with_session(chosen)).status_code == 401


def test_cookie_authenticated_unsafe_requests_need_the_csrf_header(
    client: TestClient, make_account: Callable[..., str]
) -> None:
    del client.headers["Authorization"]
    make_account("csrf.op")
    token = login(client, "csrf.op")["csrf_token"]
    assert client.get("/api/entities").status_code == 200  # safe methods need no token
    missing = client.post("/api/entities", json=ENTITY)
    assert missing.status_code == 403 and missing.json()["detail"]["code"] == "csrf_failed"
    wrong = client.post("/api/entities", json=ENTITY, headers={CSRF_HEADER: "0" * 43})
    assert wrong.status_code == 403
    assert client.post("/api/entities", json=ENTITY, headers={CSRF_HEADER: str(token)}).status_code == 201


def test_bearer_requests_need_no_csrf_token(client: TestClient) -> None:
    assert client.post("/api/entities", json=ENTITY).status_code == 201


def test_login_takes_json_only_so_a_cross_site_form_cannot_sign_anyone_in(
    client: TestClient, make_account: Callable[..., str]
) -> None:
    del client.headers["Authorization"]
    make_account("form.victim")
    form = client.post("/api/auth/login", data={"username": "form.victim", "password": PASSWORD})
    plain = client.post(
        "/api/auth/login",
        content=f'{{"username": "form.victim", "password": "{PASSWORD}"}}'.encode(),
        headers={"content-type": "text/plain"},
    )
    assert (form.status_code, plain.status_code) == (422, 422)
    assert SESSION_COOKIE not in client.cookies


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, make_account: Callable[..., str]
) -> None:
    make_account("known.user")
    wrong = client.post("/api/auth/login", json={"username": "known.user", "password": "not the password"})
    unknown = client.post("/api/auth/login", json={"username": "nobody.here", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"]["text"]["vi"] == "Sai tên đăng nhập hoặc mật khẩu"


def test_logout_needs_the_csrf_token_ends_the_session_and_is_audited(
    client: TestClient, make_account: Callable[..., str], kernel: Kernel
) -> None:
    del client.headers["Authorization"]
    make_account("leaving.op")
    token = str(login(client, "leaving.op")["csrf_token"])
    session = client.cookies[SESSION_COOKIE]
    assert client.post("/api/auth/logout").status_code == 403
    response = client.post("/api/auth/logout", headers={CSRF_HEADER: token})
    assert response.status_code == 204
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/api/auth/me", headers=with_session(session)).status_code == 401
    with kernel.engine.connect() as conn:
        actions = conn.execute(
            select(audit_log.c.action).where(audit_log.c.actor == "leaving.op").order_by(audit_log.c.id)
        ).scalars()
        assert list(actions) == ["session.login", "session.logout"]


def test_disabling_an_account_ends_its_sessions_and_tokens(
    client: TestClient, make_account: Callable[..., str], app: FastAPI
) -> None:
    make_account("soon.gone")
    browser = TestClient(app)  # a second browser; not entered: the app's lifespan already runs
    login(browser, "soon.gone")
    token = client.post("/api/tokens", json={"name": "script", "username": "soon.gone"}).json()["token"]
    assert client.get("/api/meta", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.patch("/api/users/soon.gone", json={"disabled": True}).status_code == 200
    assert browser.get("/api/auth/me").status_code == 401
    assert client.get("/api/meta", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert (
        browser.post("/api/auth/login", json={"username": "soon.gone", "password": PASSWORD}).status_code
        == 401
    )


def test_changing_ones_password(client: TestClient, make_account: Callable[..., str], app: FastAPI) -> None:
    del client.headers["Authorization"]
    make_account("changer")
    token = str(login(client, "changer")["csrf_token"])
    old_session = client.cookies[SESSION_COOKIE]
    other_device = TestClient(app)  # not entered: the app's lifespan already runs
    login(other_device, "changer")
    headers = {CSRF_HEADER: token}
    wrong = client.post(
        "/api/auth/password", json={"current_password": "nope", "new_password": "x" * 20}, headers=headers
    )
    assert wrong.status_code == 401
    short = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert short.status_code == 422 and short.json()["detail"][0]["field"] == "new_password"
    new_password = "một mật khẩu mới thật dài"
    changed = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=headers,
    )
    assert changed.status_code == 200
    assert client.cookies[SESSION_COOKIE] != old_session  # this browser got a new session
    assert client.get("/api/auth/me").json()["username"] == "changer"
    assert other_device.get("/api/auth/me").status_code == 401  # every other session ended
    client.cookies.clear()
    assert (
        client.post("/api/auth/login", json={"username": "changer", "password": PASSWORD}).status_code == 401
    )
    login(client, "changer", new_password)
