"""The `cityops` command, run as a user runs it (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, func, select

from cityops.core.kernel import Kernel
from cityops.core.schema import observations, rollups

from .conftest import wait_for

CITYOPS = str(Path(sys.executable).parent / "cityops")


def run(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITYOPS_NODE_MODULES": str(Path(__file__).resolve().parent.parent / "node_modules")}
    return subprocess.run(
        [CITYOPS, *args, "--database-url", database_url], capture_output=True, text=True, env=env, timeout=120
    )


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


@pytest.fixture
def demo_server(tmp_path: Path, unused_port: int, node_modules: Path) -> Iterator[httpx.Client]:
    """The demo, and a client signed in with the operator account the demo prints."""
    port = unused_port
    env = {**os.environ, "CITYOPS_NODE_MODULES": str(node_modules)}
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    proc = subprocess.Popen(
        [CITYOPS, "demo", "--port", str(port), "--database-url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    printed: list[str] = []
    try:
        assert proc.stdout is not None
        while not any("demo sign-in" in line for line in printed) and (line := proc.stdout.readline()):
            printed.append(line)
        username, password = printed[-1].rsplit(":", 1)[1].split(" / ")
        wait_for("the demo server to answer", lambda: _answers(f"{base}/api/meta"), timeout=60, every_s=0.2)
        with httpx.Client(base_url=base, timeout=15) as client:
            credentials = {"username": username.strip(), "password": password.strip()}
            assert client.post("/api/auth/login", json=credentials).status_code == 200
            yield client
    finally:
        proc.terminate()
        # Read through the text wrapper: `communicate` would skip what `readline` already buffered.
        output = proc.stdout.read() if proc.stdout else ""
        proc.wait(timeout=20)
        assert f"http://127.0.0.1:{port}/" in "".join(printed) + output


def test_demo_serves_simulated_province_and_the_feed_moves(demo_server: httpx.Client) -> None:
    assert httpx.get(demo_server.base_url.join("/api/meta")).status_code == 401  # signed out: nothing to read
    meta = demo_server.get("/api/meta").json()
    assert meta["simulated"] is True
    cameras = demo_server.get("/api/entities", params={"type": "Camera"}).json()["features"]
    assert all(c["properties"]["attributes"]["simulated"] for c in cameras)
    seen = 0
    with demo_server.stream("GET", "/api/live") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: observations") or line.startswith("event:observations"):
                seen += 1
            if seen >= 2:
                break
    assert seen >= 2


def test_db_upgrade_then_ingest_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    upgraded = run("db", "upgrade", database_url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    good = tmp_path / "points.ndjson"
    good.write_bytes(
        b"\n".join(
            orjson.dumps(
                {
                    "entity": "urn:ngsi-ld:Camera:tdm-001",
                    "metric": "intensity",
                    "time": 1_790_000_000_000 + i,
                    "value": i,
                }
            )
            for i in range(2500)
        )
    )
    # Sample entities exist only once the demo has loaded them; a fresh store knows no camera.
    refused = run("ingest", str(good), database_url=url)
    assert refused.returncode == 2
    assert "line 1: entity: unknown entity" in refused.stderr


def test_ingest_file_all_points_checked_before_any_is_written(
    tmp_path: Path, database_url: str, kernel: Kernel
) -> None:
    """`kernel` has loaded the sample cameras into the store the command writes to."""
    lines = [
        orjson.dumps(
            {
                "entity": "urn:ngsi-ld:Camera:tdm-001",
                "metric": "intensity",
                "time": 1_790_000_000_000 + i,
                "value": i,
            }
        )
        for i in range(25)
    ]
    lines[22] = (
        b'{"entity": "urn:ngsi-ld:Camera:tdm-001", "metric": "intensity", "time": "2026-01-01T00:00:00", "value": 1}'
    )
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b"\n".join(lines))
    result = run("ingest", str(bad), "--batch-size", "10", database_url=database_url)
    assert result.returncode == 2
    assert "line 23: time: has no time zone" in result.stderr
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 0
    del lines[22]
    bad.write_bytes(b"\n".join(lines))
    result = run("ingest", str(bad), "--batch-size", "10", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "24" in result.stdout
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(observations)).scalar_one() == 24


def test_prune_raw_keeps_recent_days_and_every_rollup(
    tmp_path: Path, database_url: str, kernel: Kernel
) -> None:
    now_ms = int(time.time() * 1000)
    old, recent = now_ms - 10 * 86_400_000, now_ms - 3_600_000
    lines = [
        orjson.dumps({"entity": "urn:ngsi-ld:Camera:tdm-001", "metric": "intensity", "time": ts, "value": 1})
        for ts in (old, old + 1000, recent)
    ]
    (tmp_path / "points.ndjson").write_bytes(b"\n".join(lines))
    assert run("ingest", str(tmp_path / "points.ndjson"), database_url=database_url).returncode == 0
    refused = run("db", "prune-raw", "--keep-days", "0", database_url=database_url)
    assert refused.returncode == 2 and "--keep-days" in refused.stderr
    pruned = run("db", "prune-raw", "--keep-days", "7", database_url=database_url)
    assert pruned.returncode == 0, pruned.stderr
    assert "rollups kept" in pruned.stdout
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(observations.c.ts_ms)).scalars().all() == [recent]
        day_counts = conn.execute(
            select(func.sum(rollups.c.count)).where(rollups.c.grain == "d")
        ).scalar_one()
    engine.dispose()
    assert day_counts == 3
