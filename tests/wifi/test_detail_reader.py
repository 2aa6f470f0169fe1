"""The detail reader: batches stored with their file offset (a crash neither loses nor counts twice),
incomplete records left for later, hourly files removed once read, Accounting-On in order."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from tests.wifi.conftest import World

from cityops.wifi import detail_reader
from cityops.wifi.detail_format import DetailRecord, format_record
from cityops.wifi.detail_reader import DetailReader, append_to_spool
from cityops.wifi.runtime import runtime_of
from cityops.wifi.schema import detail_offsets


def record(session: str, status: str = "Start", timestamp: int = 1_796_400_000, **extra: str) -> DetailRecord:
    attributes = {
        "Acct-Status-Type": status,
        "Acct-Session-Id": session,
        "User-Name": "guest",
        "FreeRADIUS-Client-Shortname": "nas-park",
        "Timestamp": str(timestamp),
        **extra,
    }
    return DetailRecord("Fri Dec  4 18:00:00 2026", tuple(attributes.items()))


def reader_of(world: World) -> DetailReader:
    return runtime_of(world.kernel).accounting


def offsets(world: World) -> dict[str, int]:
    with world.kernel.engine.connect() as conn:
        return {row.file: row.offset for row in conn.execute(select(detail_offsets))}


def test_a_crash_before_the_commit_loses_nothing_and_a_restart_counts_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = reader_of(world)
    reader.stop()  # this test drives the reader itself
    path = append_to_spool(reader.spool, "detail", [record(f"c{n}") for n in range(50)], 1_796_400_000_000)
    real_save = detail_reader.save_offset

    def crash(*args: object) -> None:
        raise OperationalError("UPDATE wifi_detail_offsets", {}, Exception("disk I/O error"))

    monkeypatch.setattr(detail_reader, "save_offset", crash)
    with pytest.raises(OperationalError):
        reader.drain()
    stored = world.client.get("/api/wifi/sessions").json()
    assert stored == [] and offsets(world) == {}  # rolled back with the sessions

    monkeypatch.setattr(detail_reader, "save_offset", real_save)
    assert reader.drain() == 50
    assert offsets(world) == {path.name: path.stat().st_size}
    restarted = DetailReader(world.kernel.engine, reader.spool, reader.personal, 300, world.kernel.now_ms)
    assert restarted.drain() == 0
    assert len(world.sessions()) == 50


def test_an_incomplete_record_waits_for_its_end(world: World) -> None:
    reader = reader_of(world)
    text = format_record(record("half"))
    path = reader.spool / "detail-2026120418"
    path.write_text(text[:-15])
    assert world.sessions() == []
    with path.open("a") as handle:
        handle.write(text[-15:])
    assert [s["username"] for s in world.sessions()] == ["guest"]


def test_read_hourly_files_are_removed_newest_kept(world: World) -> None:
    reader = reader_of(world)
    old = reader.spool / "detail-2026120417"
    old.write_text(format_record(record("old")))
    long_ago = time.time() - 120
    os.utime(old, (long_ago, long_ago))
    new = reader.spool / "detail-2026120418"
    new.write_text(format_record(record("new")))
    assert {s["username"] for s in world.sessions()} == {"guest"} and len(world.sessions()) == 2
    world.settle()  # a look with nothing new to read removes the finished file
    assert not old.exists() and new.exists()
    assert set(offsets(world)) == {new.name}


def test_accounting_on_closes_what_came_before_it_only(world: World) -> None:
    t = 1_796_400_000
    reader = reader_of(world)
    append_to_spool(
        reader.spool,
        "detail",
        [
            record("before", timestamp=t),
            record("", "Accounting-On", timestamp=t + 1),
            record("after", timestamp=t + 5),
            # The same Accounting-On, resent late: sent at t + 1 all the same.
            record("", "Accounting-On", timestamp=t + 11, **{"Acct-Delay-Time": "10"}),
        ],
        t * 1000,
    )
    sessions = sorted(world.sessions(), key=lambda s: s["started_ms"])
    assert len(sessions) == 2
    assert sessions[0]["terminate_cause"] == "NAS-Reboot"
    assert sessions[1]["stopped_ms"] is None


def test_the_spool_folder_is_made(tmp_path: Path, world: World) -> None:
    reader = DetailReader(
        world.kernel.engine, tmp_path / "a" / "spool", reader_of(world).personal, 300, world.kernel.now_ms
    )
    reader.start()
    reader.stop()
    assert (tmp_path / "a" / "spool").is_dir()
