"""Wifi tests: the hashing key in the test's folder, a small world of two tenants made through the API,
and `rest(...)`, which posts what FreeRADIUS's rest module would."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.wifi.detail_format import DetailRecord
from cityops.wifi.detail_reader import append_to_spool
from cityops.wifi.registry import digest
from cityops.wifi.runtime import runtime_of
from cityops.wifi.schema import radius_backends

BACKEND_SECRET = "tests-freeradius-secret"
# Phường Phú Cường, Thủ Dầu Một; Dĩ An.
THU_DAU_MOT = [106.6517, 10.9804]
DI_AN = [106.7690, 10.9068]


@pytest.fixture(autouse=True)
def hash_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "wifi-hash.key"
    monkeypatch.setenv("CITYOPS_WIFI_HASH_KEY_FILE", str(path))
    monkeypatch.setenv("CITYOPS_WIFI_DETAIL_SPOOL", str(tmp_path / "wifi-spool"))
    return path


def rest_body(**attributes: str | int) -> dict[str, Any]:
    """Attributes in rlm_rest's JSON form; `_` in names stands for `-` (User_Name -> User-Name)."""
    return {
        name.replace("_", "-"): {"type": "integer" if isinstance(v, int) else "string", "value": [v]}
        for name, v in attributes.items()
    }


def basic(secret: str = BACKEND_SECRET) -> dict[str, str]:
    token = base64.b64encode(f"freeradius:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class World:
    """Two tenants: the province's community network and a cafe, each with a plan, a NAS and hotspots."""

    client: TestClient
    kernel: Kernel
    vouchers: dict[str, str]  # tenant slug -> a voucher code
    keys: dict[str, str]  # access point id -> heartbeat key

    def rest(self, step: str, nas: str, **attributes: str | int) -> httpx.Response:
        extra = "&result=Reject" if step == "post-auth-reject" else ""
        path = "post-auth" if step.startswith("post-auth") else step
        return self.client.post(
            f"/api/wifi/radius/{path}?nas={nas}{extra}", json=rest_body(**attributes), headers=basic()
        )

    def account(self, nas: str = "nas-park", **attributes: str | int) -> bool:
        """Append one record as FreeRADIUS would (`_` in names stands for `-`) and let the detail reader
        store it; whether it was stored rather than refused."""
        reader = runtime_of(self.kernel).accounting
        values = [(name.replace("_", "-"), str(value)) for name, value in attributes.items()]
        values += [("FreeRADIUS-Client-Shortname", nas), ("Timestamp", str(self.kernel.now_ms() // 1000))]
        refused = reader.totals.refused
        append_to_spool(
            reader.spool,
            "detail",
            [DetailRecord("Fri Dec  4 18:00:00 2026", tuple(values))],
            self.kernel.now_ms(),
        )
        self.settle()
        return reader.totals.refused == refused

    def settle(self) -> None:
        """Let the detail reader store what FreeRADIUS (or `account`) has written to the spool."""
        runtime_of(self.kernel).accounting.drain()

    def sessions(self) -> list[dict[str, Any]]:
        """The sessions the API lists once the spool is stored."""
        self.settle()
        response = self.client.get("/api/wifi/sessions")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result


def build_world(client: TestClient, kernel: Kernel, park_nas_ip: str = "127.0.0.1") -> World:
    def ok(response: httpx.Response) -> Any:
        assert response.status_code < 300, response.text
        return response.json()

    ok(
        client.post(
            "/api/wifi/tenants", json={"slug": "cong-dong", "name": "Wifi công cộng", "kind": "community"}
        )
    )
    ok(
        client.post(
            "/api/wifi/tenants",
            json={"slug": "cafe-sao", "name": "Cà phê Sao", "kind": "business", "agency_code": "cafe-sao"},
        )
    )
    ok(
        client.put(
            "/api/wifi/tenants/cong-dong/plans",
            json={
                "name": "free",
                "session_seconds": 3600,
                "daily_quota_mb": 500,
                "down_kbps": 4000,
                "up_kbps": 1000,
                "max_devices": 2,
            },
        )
    )
    ok(client.put("/api/wifi/tenants/cafe-sao/plans", json={"name": "guest", "down_kbps": 10000}))
    ok(
        client.post(
            "/api/wifi/tenants/cong-dong/nas",
            json={"name": "nas-park", "ip_address": park_nas_ip, "secret": "park-secret-123"},
        )
    )
    ok(
        client.post(
            "/api/wifi/tenants/cafe-sao/nas",
            json={"name": "nas-cafe", "ip_address": "127.0.0.9", "secret": "cafe-secret-123"},
        )
    )
    keys = {}
    for ap_id, tenant, mac, site, where, nas in (
        ("park-1", "cong-dong", "AA-BB-CC-00-00-01", "Công viên Thủ Dầu Một", THU_DAU_MOT, "nas-park"),
        ("park-2", "cong-dong", "aa:bb:cc:00:00:02", "Công viên Thủ Dầu Một", THU_DAU_MOT, None),
        ("cafe-1", "cafe-sao", "aa:bb:cc:00:00:03", "Cà phê Sao Dĩ An", DI_AN, "nas-cafe"),
    ):
        body = {
            "tenant": tenant,
            "name": f"{site} {ap_id}",
            "macAddress": mac,
            "ssids": ["Wifi-Free"],
            "model": "OpenWrt One",
            "firmware": "OpenWrt 24.10",
            "site": site,
            "location": {"type": "Point", "coordinates": where},
            **({"nas": nas} if nas else {}),
        }
        keys[ap_id] = ok(client.put(f"/api/wifi/access-points/{ap_id}", json=body))["key"]
    vouchers = {
        slug: ok(client.post("/api/wifi/vouchers", json={"tenant": slug, "plan": plan, "count": 1}))[0][
            "code"
        ]
        for slug, plan in (("cong-dong", "free"), ("cafe-sao", "guest"))
    }
    with write_transaction(kernel.engine) as conn:
        conn.execute(
            radius_backends.insert().values(
                name="tests", secret_hash=digest(BACKEND_SECRET), created_ms=int(time.time() * 1000)
            )
        )
    return World(client, kernel, vouchers, keys)


@pytest.fixture
def world(client: TestClient, kernel: Kernel) -> World:
    return build_world(client, kernel)


WorldFactory = Callable[..., World]
