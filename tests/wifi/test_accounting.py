"""Accounting through the detail spool FreeRADIUS writes and the detail reader: sessions opened, updated,
closed, in batches."""

from __future__ import annotations

import logging

import pytest
from tests.wifi.conftest import World

from cityops.core.store import write_transaction
from cityops.wifi.accounting import close_stale
from cityops.wifi.runtime import runtime_of

MAC = "02-11-22-33-44-55"


def start(world: World, session: str = "s1", **extra: str | int) -> None:
    assert world.account(
        Acct_Status_Type="Start",
        Acct_Session_Id=session,
        User_Name=world.vouchers["cong-dong"],
        Calling_Station_Id=MAC,
        Called_Station_Id="AA-BB-CC-00-00-02:Wifi-Free",
        **extra,
    )


def test_start_interim_stop_with_gigawords(world: World) -> None:
    start(world)
    assert world.account(
        Acct_Status_Type="Interim-Update",
        Acct_Session_Id="s1",
        User_Name="x",
        Acct_Session_Time=60,
        Acct_Input_Octets=1000,
        Acct_Output_Octets=5,
        Acct_Output_Gigawords=1,
    )
    (session,) = world.sessions()
    assert session["stopped_ms"] is None
    assert session["output_bytes"] == 2**32 + 5
    assert session["input_bytes"] == 1000
    assert session["access_point"] == "park-2"  # from Called-Station-Id, not the NAS's own access point
    assert world.account(
        Acct_Status_Type="Stop",
        Acct_Session_Id="s1",
        User_Name="x",
        Acct_Session_Time=120,
        Acct_Input_Octets=3000,
        Acct_Output_Octets=7,
        Acct_Output_Gigawords=2,
        Acct_Terminate_Cause="User-Request",
    )
    (session,) = world.sessions()
    assert session["stopped_ms"] is not None
    assert session["terminate_cause"] == "User-Request"
    assert (session["input_bytes"], session["output_bytes"], session["session_seconds"]) == (
        3000,
        2 * 2**32 + 7,
        120,
    )


def test_retransmissions_do_not_count_twice_and_totals_never_go_back(world: World) -> None:
    start(world)
    start(world)  # retransmitted Start
    for _ in range(3):  # the same interim, three times
        world.account(Acct_Status_Type="Interim-Update", Acct_Session_Id="s1", Acct_Input_Octets=500)
    world.account(
        Acct_Status_Type="Interim-Update", Acct_Session_Id="s1", Acct_Input_Octets=300
    )  # late, older
    sessions = world.sessions()
    assert len(sessions) == 1
    assert sessions[0]["input_bytes"] == 500


def test_interim_after_stop_does_not_reopen(world: World) -> None:
    start(world)
    world.account(Acct_Status_Type="Stop", Acct_Session_Id="s1", Acct_Input_Octets=10)
    assert world.account(Acct_Status_Type="Interim-Update", Acct_Session_Id="s1", Acct_Input_Octets=99)
    (session,) = world.sessions()
    assert session["stopped_ms"] is not None
    assert session["input_bytes"] == 10


def test_accounting_on_closes_the_nas_sessions_only(world: World) -> None:
    start(world, "park-a")
    start(world, "park-b")
    assert world.account(
        "nas-cafe", Acct_Status_Type="Start", Acct_Session_Id="cafe-a", User_Name=world.vouchers["cafe-sao"]
    )
    assert world.account(Acct_Status_Type="Accounting-On")
    by_id = {s["nas"] + "/" + str(s["id"]): s for s in world.sessions()}
    park = [s for key, s in by_id.items() if key.startswith("nas-park")]
    assert len(park) == 2 and all(s["terminate_cause"] == "NAS-Reboot" for s in park)
    (cafe_session,) = [s for key, s in by_id.items() if key.startswith("nas-cafe")]
    assert cafe_session["stopped_ms"] is None


def test_interim_without_start_opens_and_stop_without_start_records(world: World) -> None:
    world.account(Acct_Status_Type="Interim-Update", Acct_Session_Id="lost-start", Acct_Session_Time=30)
    world.account(Acct_Status_Type="Stop", Acct_Session_Id="only-stop", Acct_Session_Time=40)
    lost_start, only_stop = sorted(world.sessions(), key=lambda s: s["id"])
    assert lost_start["stopped_ms"] is None and lost_start["session_seconds"] == 30
    assert only_stop["stopped_ms"] is not None and only_stop["session_seconds"] == 40
    assert lost_start["started_ms"] <= lost_start["updated_ms"] - 30_000
    assert lost_start["username"] == only_stop["username"] == ""  # neither packet named a user


def test_stale_sessions_close_after_twice_the_interval(world: World) -> None:
    start(world, Acct_Interim_Interval=60)
    (session,) = world.sessions()
    with write_transaction(world.kernel.engine) as conn:
        assert close_stale(conn, session["updated_ms"] + 119_000) == 0
        assert close_stale(conn, session["updated_ms"] + 121_000) == 1
    (session,) = world.sessions()
    assert session["terminate_cause"] == "Stale-Session"
    assert session["stopped_ms"] == session["updated_ms"]


def test_bad_records_are_refused_alone_naming_the_attribute_never_a_mac_or_phone(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    phone = "0912345678"
    personal = {"User_Name": phone, "Calling_Station_Id": MAC}
    with caplog.at_level(logging.WARNING, logger="cityops.wifi.detail_reader"):
        assert not world.account(Acct_Status_Type="Start", **personal)
        assert not world.account(Acct_Status_Type="Frobnicate", Acct_Session_Id="x", **personal)
        assert not world.account(
            Acct_Status_Type="Start", Acct_Session_Id="x", Acct_Input_Octets="lots", **personal
        )
        assert not world.account("nas-nowhere", Acct_Status_Type="Start", Acct_Session_Id="x", **personal)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 4
    assert "Acct-Session-Id: is missing" in messages[0]
    assert "Acct-Status-Type" in messages[1] and "Acct-Input-Octets" in messages[2]
    assert "unknown NAS" in messages[3]
    assert all(phone not in m and MAC not in m and MAC.replace("-", ":") not in m for m in messages)
    reader = runtime_of(world.kernel).accounting
    assert world.sessions() == [] and reader.totals.refused == 4
    # Kept for the operator, and the records after them are stored.
    refused = (reader.spool / "refused").iterdir()
    assert sum(f.read_text().count("Acct-Status-Type") for f in refused) == 4
    start(world, "after")
    assert [s["username"] for s in world.sessions()] == [world.vouchers["cong-dong"]]


def test_client_macs_are_stored_as_keyed_hashes(world: World) -> None:
    start(world)
    (session,) = world.sessions()
    assert session["device"].startswith("h:")
    with world.kernel.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT client_mac FROM wifi_sessions").scalar_one()
    assert stored.startswith("h:") and "55" not in stored[:2]
    assert "02:11:22:33:44:55" not in world.client.get("/api/wifi/sessions").text


def test_concurrent_packets_are_all_stored_once(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def send(n: int) -> bool:
        status = "Start" if n % 2 == 0 else "Interim-Update"
        return world.account(Acct_Status_Type=status, Acct_Session_Id=f"c{n // 2}", Acct_Input_Octets=n)

    with ThreadPoolExecutor(16) as pool:
        stored = list(pool.map(send, range(120)))
    assert all(stored)
    sessions = world.client.get("/api/wifi/sessions?limit=1000").json()
    assert len(sessions) == 60
    assert sorted(s["input_bytes"] for s in sessions) == [2 * i + 1 for i in range(60)]
