"""The captive portal through the API: codes by SMS (outbox and a real HTTP gateway on loopback), limits,
vouchers, and the credentials it hands out working in authorize."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select
from tests.wifi.conftest import World

from cityops.core.store import write_transaction
from cityops.wifi import portal
from cityops.wifi.runtime import runtime_of
from cityops.wifi.schema import radius_users, sms_outbox
from cityops.wifi.sms import HttpGatewaySender

BASE = "/api/wifi/portal/cong-dong"
PHONE = "0912 345 678"


def last_code(world: World) -> str:
    runtime = runtime_of(world.kernel)
    key = runtime.personal.phone("+84912345678", hashed=True)
    with world.kernel.engine.connect() as conn:
        text = conn.execute(
            select(sms_outbox.c.text).where(sms_outbox.c.phone == key).order_by(sms_outbox.c.id.desc())
        ).scalar_one_or_none()
    assert text is not None
    return str(text).rsplit(" ", 1)[1]


def test_phone_code_gives_credentials_that_authorize(world: World) -> None:
    client = world.client
    client.headers.pop("Authorization")  # the portal is for anyone
    assert client.post(f"{BASE}/code", json={"phone": PHONE}).status_code == 202
    code = last_code(world)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(f"{BASE}/verify", json={"phone": PHONE, "code": wrong})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "code"
    response = client.post(f"{BASE}/verify", json={"phone": "+84912345678", "code": code})
    assert response.status_code == 200, response.text
    credentials = response.json()
    again = client.post(f"{BASE}/verify", json={"phone": PHONE, "code": code})
    assert again.status_code == 422  # a code works once
    accepted = world.rest(
        "authorize", "nas-park", User_Name=credentials["username"], User_Password=credentials["password"]
    )
    assert accepted.status_code == 200
    with world.kernel.engine.connect() as conn:
        stored = conn.execute(select(radius_users).where(radius_users.c.kind == "phone")).one()
        outbox = conn.execute(select(sms_outbox.c.phone)).scalars().all()
    assert "912345678" not in repr(stored) and all("912345678" not in p for p in outbox)


def test_portal_limits_and_bad_input(world: World) -> None:
    client = world.client
    assert client.post(f"{BASE}/code", json={"phone": "12345"}).json()["detail"][0]["field"] == "phone"
    for _ in range(portal.CODES_PER_WINDOW):
        assert client.post(f"{BASE}/code", json={"phone": PHONE}).status_code == 202
    assert client.post(f"{BASE}/code", json={"phone": PHONE}).status_code == 429
    assert client.post("/api/wifi/portal/no-such/code", json={"phone": PHONE}).status_code == 404
    assert client.get(f"{BASE}?login_url=https://evil.example/steal").status_code == 422
    assert client.get(f"{BASE}?login_url=http://8.8.8.8/login").status_code == 422
    assert client.get(f"{BASE}?login_url=http://10.1.0.1:3990/logon").status_code == 200


def test_voucher_sign_in(world: World) -> None:
    code = world.vouchers["cong-dong"]
    response = world.client.post(f"{BASE}/voucher", json={"code": code.lower()})
    assert response.json() == {"username": code, "password": code}
    other = world.vouchers["cafe-sao"]  # another tenant's voucher
    assert world.client.post(f"{BASE}/voucher", json={"code": other}).status_code == 422
    with write_transaction(world.kernel.engine) as conn:
        conn.execute(radius_users.update().where(radius_users.c.username == code).values(valid_until_ms=1))
    response = world.client.post(f"{BASE}/voucher", json={"code": code})
    assert response.status_code == 422 and "expired" in response.text


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Authorization") != "Bearer gw-token":
                self.send_response(401)
            else:
                received.append(json.loads(body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms", received
    server.shutdown()


def test_http_gateway_sender(world: World, gateway: tuple[str, list[dict[str, object]]]) -> None:
    url, received = gateway
    runtime = runtime_of(world.kernel)
    runtime.sms = HttpGatewaySender(url, "gw-token")
    assert world.client.post(f"{BASE}/code", json={"phone": PHONE}).status_code == 202
    assert received and received[0]["to"] == "+84912345678" and "Wifi" in str(received[0]["text"])
    runtime.sms = HttpGatewaySender(url, "wrong-token")
    response = world.client.post(f"{BASE}/code", json={"phone": "0987654321"})
    assert response.status_code == 502
    runtime.sms = HttpGatewaySender("http://127.0.0.1:9/none", "x", timeout_s=1)
    assert world.client.post(f"{BASE}/code", json={"phone": "0987654322"}).status_code == 502
