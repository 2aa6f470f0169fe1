"""MQTT ingestion against a real Mosquitto (Debian) on a loopback port: devices publish with their own
passwords, the bridge stores through the same validation as HTTP, answers a refused batch on the device's
errors topic, keeps devices to their own topics, and loses nothing a device had acknowledged by the broker
when the broker restarts while the bridge is away."""

from __future__ import annotations

import getpass
import queue
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityops.api.app import create_app
from cityops.bridges.mosquitto import acl, add_device, broker_config
from cityops.bridges.mqtt import MqttSettings
from cityops.config import Settings
from cityops.core.kernel import Kernel
from cityops.core.schema import batches, observations

from ..conftest import free_port, wait_for

CAMERA = "urn:ngsi-ld:Camera:tdm-001"
PREFIX = "cityops/v1"


@dataclass
class Broker:
    folder: Path
    port: int
    bridge_password: str
    devices: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.folder / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "broker.log").open("ab"),
        )
        wait_for("the broker to listen", self._accepting, timeout=10)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()  # a clean stop: Mosquitto writes its persistence file
        self.process.wait(timeout=10)

    def _accepting(self) -> bool:
        import socket

        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    folder = tmp_path / "mqtt"
    folder.mkdir()
    port = free_port()
    (folder / "acl").write_text(acl(PREFIX, "cityops-bridge"), encoding="utf-8")
    (folder / "mosquitto.conf").write_text(broker_config(folder, "127.0.0.1", port, getpass.getuser()))
    bridge_password = add_device(folder / "passwords", "cityops-bridge")
    devices = {name: add_device(folder / "passwords", name) for name in ("sensor-a", "sensor-b")}
    running = Broker(folder, port, bridge_password, devices)
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.process.kill()


@contextmanager
def bridged(kernel: Kernel, settings: Settings) -> Iterator[TestClient]:
    """The app with its bridge subscribed: on a broker that has never seen the bridge's session, a
    message published before the first subscription has nobody to be queued for."""
    app = create_app(kernel, settings)
    with TestClient(app) as client:
        wait_for("the bridge to subscribe", lambda: app.state.mqtt_bridge.connected.is_set(), timeout=20)
        yield client


def bridged_settings(settings: Settings, broker: Broker) -> Settings:
    mqtt = MqttSettings(url=f"mqtt://127.0.0.1:{broker.port}", password=broker.bridge_password)
    return settings.model_copy(update={"mqtt": mqtt})


class Device:
    def __init__(self, broker: Broker, name: str, password: str | None = None) -> None:
        self.name = name
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"dev-{name}")
        self.client.username_pw_set(name, password if password is not None else broker.devices[name])
        self.client.on_message = lambda _c, _u, m: self.received.put(orjson.loads(m.payload))
        self.result = self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def listen_errors(self) -> None:
        self.client.subscribe(f"{PREFIX}/devices/{self.name}/errors", qos=1)[0]
        time.sleep(0.3)

    def publish(self, payload: bytes, device: str | None = None) -> None:
        info = self.client.publish(f"{PREFIX}/devices/{device or self.name}/points", payload, qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published()  # the broker acknowledged it (PUBACK)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def points(start: int, count: int) -> bytes:
    base = 1_795_000_000_000
    return orjson.dumps(
        {
            "points": [
                {"entity": CAMERA, "metric": "intensity", "time": base + (start + i) * 1000, "value": i}
                for i in range(count)
            ]
        }
    )


def stored(kernel: Kernel) -> int:
    with kernel.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(observations)).scalar_one())


def eventually(check: Callable[[], bool], timeout: float = 15) -> None:
    wait_for("the bridge to store the points", check, timeout=timeout)


def test_points_from_a_device_are_stored_and_bad_ones_answered(
    kernel: Kernel, settings: Settings, broker: Broker
) -> None:
    before = stored(kernel)
    with bridged(kernel, bridged_settings(settings, broker)):
        device = Device(broker, "sensor-a")
        device.listen_errors()
        device.publish(points(0, 5))
        eventually(lambda: stored(kernel) == before + 5)
        unknown = {"entity": "urn:ngsi-ld:Camera:nowhere", "metric": "intensity", "time": 1, "value": 1}
        device.publish(orjson.dumps({"points": [unknown]}))
        answer = device.received.get(timeout=10)
        assert answer["topic"] == f"{PREFIX}/devices/sensor-a/points"
        assert [e["field"] for e in answer["detail"]] == ["entity"]
        ndjson = b"\n".join(orjson.dumps(p) for p in orjson.loads(points(5, 3))["points"])
        device.publish(ndjson)
        eventually(lambda: stored(kernel) == before + 8)
        device.close()
    with kernel.engine.connect() as conn:
        sources = set(conn.execute(select(batches.c.source)).scalars())
    assert "mqtt:sensor-a" in sources


def test_a_device_publishes_only_under_its_own_name(
    kernel: Kernel, settings: Settings, broker: Broker
) -> None:
    before = stored(kernel)
    with bridged(kernel, bridged_settings(settings, broker)):
        device = Device(broker, "sensor-a")
        device.publish(points(100, 4), device="sensor-b")  # the broker drops it: not its topic
        device.publish(points(200, 2))
        eventually(lambda: stored(kernel) == before + 2)
        time.sleep(1)
        assert stored(kernel) == before + 2
        device.close()
        intruder = Device(broker, "sensor-a", password="wrong")
        time.sleep(0.5)
        assert not intruder.client.is_connected()
        intruder.close()


def test_nothing_acknowledged_is_lost_across_a_broker_restart(
    kernel: Kernel, settings: Settings, broker: Broker
) -> None:
    before = stored(kernel)
    with_bridge = bridged_settings(settings, broker)
    with bridged(kernel, with_bridge):  # the bridge's persistent session begins
        device = Device(broker, "sensor-b")
        device.publish(points(0, 10))
        eventually(lambda: stored(kernel) == before + 10)
    # The bridge is away: the broker acknowledges the device's messages and queues them for the bridge.
    for batch in range(20):
        device.publish(points(1000 + batch * 10, 10))
    device.close()
    broker.stop()
    broker.start()
    with bridged(kernel, with_bridge):
        eventually(lambda: stored(kernel) == before + 210, timeout=30)
        time.sleep(1)
        assert stored(kernel) == before + 210  # each point once


def test_the_commands_write_a_broker_a_device_can_use(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cityops.cli import app

    folder, port, runner = tmp_path / "broker", free_port(), CliRunner()
    options = ["--folder", str(folder), "--port", str(port), "--run-as", getpass.getuser()]
    written = runner.invoke(app, ["mqtt", "broker-config", *options])
    assert written.exit_code == 0, written.output
    assert "pattern write cityops/v1/devices/%u/points" in (folder / "acl").read_text()
    added = runner.invoke(app, ["mqtt", "device", "gw-01", "--folder", str(folder)])
    assert added.exit_code == 0, added.output
    password = added.stdout.strip().splitlines()[0].split(": ", 1)[1]
    assert runner.invoke(app, ["mqtt", "device", "Bad Name!", "--folder", str(folder)]).exit_code == 2
    broker = Broker(folder, port, "", {"gw-01": password})
    broker.start()
    try:
        device = Device(broker, "gw-01")
        wait_for("the device to connect", device.client.is_connected, timeout=5)
        device.publish(points(0, 1))
        device.close()
    finally:
        broker.stop()
