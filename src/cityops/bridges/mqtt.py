"""MQTT ingestion: devices publish data points to a broker (Mosquitto), and this bridge stores them
through the same validation and recording path as `POST /api/ingest`.

Topic layout (`prefix` is `cityops/v1` by default):

    <prefix>/devices/<device>/points   the device publishes a batch: the JSON body of POST /api/ingest
                                       ({"points": [...]}), or NDJSON, one point a line; QoS 1
    <prefix>/devices/<device>/errors   the bridge answers a refused batch with the same error body as HTTP
                                       (which line, which field, why); QoS 1

Each device signs in to the broker with its own name and password, and the broker's ACL lets it publish
only under its own name (`cityops mqtt acl`, `cityops mqtt device`; see docs/mqtt.md). The bridge keeps a
persistent session (QoS 1, clean session off) and acknowledges a message to the broker only after the
store has the batch, so nothing a device had acknowledged by the broker is lost when the broker or the
bridge restarts; a message delivered twice changes nothing (points are keyed by entity, metric and time).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiomqtt
import orjson
from pydantic import BaseModel, Field, field_validator

from cityops.core.ingest import FieldError, IngestError, parse_json, parse_ndjson, validate_points
from cityops.core.kernel import Kernel

log = logging.getLogger(__name__)

RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ValueError(f"broker URL {url!r}: use mqtt://host:port")
        return cls(parts.hostname, parts.port or 1883)


class MqttSettings(BaseModel):
    """`[mqtt]` in cityops.toml (or `CITYOPS_MQTT__URL`...): with a `url`, the server runs the bridge."""

    url: str | None = Field(default=None, description="The broker, mqtt://host:port; unset: no MQTT bridge.")
    username: str = Field(default="cityops-bridge", max_length=64)
    password: str = Field(default="", max_length=256, description="The bridge's password on the broker.")
    prefix: str = Field(default="cityops/v1", pattern=r"^[A-Za-z0-9_./-]{1,64}$")
    client_id: str = Field(default="cityops-bridge", max_length=64, description="Its persistent session.")
    max_payload_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    @field_validator("url")
    @classmethod
    def _broker_url(cls, url: str | None) -> str | None:
        if url is not None:
            BrokerAddress.parse(url)
        return url


class MqttBridge:
    def __init__(self, kernel: Kernel, settings: MqttSettings, max_batch_points: int) -> None:
        self.kernel = kernel
        self.settings = settings
        if settings.url is None:
            raise ValueError("no broker URL")
        self.address = BrokerAddress.parse(settings.url)
        self.max_batch_points = max_batch_points
        self.stored = 0  # batches stored since start
        self.refused = 0
        self.connected = asyncio.Event()

    def device_of(self, topic: str) -> str | None:
        """The device a points topic belongs to, or None for a topic outside the layout."""
        head = f"{self.settings.prefix}/devices/"
        if not topic.startswith(head) or not topic.endswith("/points"):
            return None
        device = topic[len(head) : -len("/points")]
        return device if device and "/" not in device else None

    async def run(self) -> None:
        """Receive and store until cancelled, reconnecting with backoff when the broker goes away."""
        attempt = 0
        while True:
            client = aiomqtt.Client(
                self.address.host,
                self.address.port,
                username=self.settings.username,
                password=self.settings.password,
                identifier=self.settings.client_id,
                clean_session=False,
                keepalive=15,
            )
            # Acknowledge a message only once it is stored (paho's manual acknowledgement, set before
            # the connection so that not even the first queued message is acknowledged on arrival).
            client._client.manual_ack_set(True)
            try:
                async with client:
                    await client.subscribe(f"{self.settings.prefix}/devices/+/points", qos=1)
                    self.connected.set()
                    attempt = 0
                    async for message in client.messages:
                        await self._handle(client, message)
                        client._client.ack(message.mid, message.qos)
            except aiomqtt.MqttError as error:
                self.connected.clear()
                delay = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
                attempt += 1
                log.warning("MQTT broker %s: %s; retrying in %.1f s", self.settings.url, error, delay)
                await asyncio.sleep(delay)

    async def _handle(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        device = self.device_of(topic)
        if device is None:
            return
        payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        errors = await self._store(device, payload)
        if errors:
            self.refused += 1
            body = orjson.dumps({"topic": topic, "detail": [e.to_dict() for e in errors]})
            await client.publish(f"{self.settings.prefix}/devices/{device}/errors", body, qos=1)
        else:
            self.stored += 1

    async def _store(self, device: str, payload: bytes) -> list[FieldError]:
        if len(payload) > self.settings.max_payload_bytes:
            limit = self.settings.max_payload_bytes
            return [FieldError(None, "payload", f"the message is larger than the limit of {limit} bytes")]
        try:
            if _is_json_batch(payload):
                raw, lines = parse_json(payload), None
            else:
                raw, lines = parse_ndjson(payload)
            batch = validate_points(
                raw, self.kernel.registry, self.kernel.now_ms(), self.max_batch_points, lines
            )
        except IngestError as error:
            return error.errors
        await self.kernel.record(batch, source=f"mqtt:{device}"[:64])
        return []


def _is_json_batch(payload: bytes) -> bool:
    """A JSON body as HTTP takes it (an object with `points`, or a list), rather than NDJSON lines."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return isinstance(document, list) or (isinstance(document, dict) and "points" in document)
