"""Sending the captive portal's one-time codes: a pluggable SMS sender.

`OutboxSender` (the default, for the demo and tests) stores the message in `wifi_sms_outbox` beside the
phone's keyed hash; `HttpGatewaySender` posts `{"to": "+84…", "text": "…"}` with a bearer token to an SMS
gateway (`CITYOPS_WIFI_SMS_GATEWAY_URL`, `CITYOPS_WIFI_SMS_GATEWAY_TOKEN`). A sender raises `SmsFailed`
when the message did not leave; the portal then says so (HTTP 502) and stores no code.
"""

from __future__ import annotations

from typing import Protocol

import httpx
from sqlalchemy import Connection, insert

from cityops.wifi.schema import sms_outbox


class SmsFailed(RuntimeError):
    pass


class SmsSender(Protocol):
    def send(
        self, conn: Connection, tenant_id: int, phone: str, phone_key: str, text: str, now_ms: int
    ) -> None:
        """Send `text` to `phone` (E.164); `phone_key` is its keyed hash, for whatever is stored."""


class OutboxSender:
    def send(
        self, conn: Connection, tenant_id: int, phone: str, phone_key: str, text: str, now_ms: int
    ) -> None:
        conn.execute(insert(sms_outbox).values(ts_ms=now_ms, tenant_id=tenant_id, phone=phone_key, text=text))


class HttpGatewaySender:
    def __init__(self, url: str, token: str, timeout_s: float = 10.0) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout_s

    def send(
        self, conn: Connection, tenant_id: int, phone: str, phone_key: str, text: str, now_ms: int
    ) -> None:
        try:
            response = httpx.post(
                self._url,
                json={"to": phone, "text": text},
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise SmsFailed(f"SMS gateway unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise SmsFailed(f"SMS gateway answered HTTP {response.status_code}")
