"""Against Debian's FreeRADIUS, started here on loopback ports with the folder `cityops wifi
freeradius-config` writes, driven with Debian's radclient and hand-made datagrams. Accounting goes
FreeRADIUS -> detail spool -> the detail reader (`world.sessions()` waits for the reader to catch up)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.wifi.conftest import World, build_world
from tests.wifi.freeradius_peer import RadiusPeer, accounting_request, running_freeradius, send_raw

from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.wifi.runtime import runtime_of
from cityops.wifi.schema import nas_clients, radius_users

pytestmark = pytest.mark.slow
PARK_SECRET = "park-secret-123"


@pytest.fixture
def radius_world(
    client: TestClient, kernel: Kernel, live_server: str, tmp_path: Path
) -> Iterator[tuple[World, RadiusPeer]]:
    world = build_world(client, kernel)
    spool = runtime_of(kernel).accounting.spool
    with running_freeradius(kernel.engine, live_server, tmp_path / "freeradius", spool) as peer:
        yield world, peer


def pap(code: str, password: str) -> str:
    return f'User-Name = "{code}"\nUser-Password = "{password}"\nNAS-IP-Address = 127.0.0.1\n'


def test_pap_accept_carries_the_plan(radius_world: tuple[World, RadiusPeer]) -> None:
    world, peer = radius_world
    code = world.vouchers["cong-dong"]
    reply = peer.radclient("auth", PARK_SECRET, pap(code, code))
    assert reply.code == "Access-Accept", reply.text + peer.log()[-3000:]
    for expected in (
        "Session-Timeout = 3600",
        "WISPr-Bandwidth-Max-Down = 4000000",
        'Mikrotik-Rate-Limit = "1000k/4000k"',
        "Acct-Interim-Interval = 300",
    ):
        assert expected in reply.text
    assert "Cleartext-Password" not in reply.text.split("Received")[1]


def test_pap_and_chap_rejects(radius_world: tuple[World, RadiusPeer]) -> None:
    world, peer = radius_world
    code = world.vouchers["cong-dong"]
    wrong = peer.radclient("auth", PARK_SECRET, pap(code, "not-the-code"))
    assert wrong.code == "Access-Reject" and "Wrong username" in wrong.text
    chap = peer.radclient("auth", PARK_SECRET, f'User-Name = "{code}"\nCHAP-Password = "{code}"\n')
    assert chap.code == "Access-Accept", chap.text + peer.log()[-3000:]
    chap_wrong = peer.radclient("auth", PARK_SECRET, f'User-Name = "{code}"\nCHAP-Password = "WRONG{code}"\n')
    assert chap_wrong.code == "Access-Reject"
    # A wrong shared secret garbles the PAP password: FreeRADIUS rejects, and radclient refuses the
    # answer signed with the right secret, so no accept ever reaches the NAS.
    assert peer.radclient("auth", "not-the-secret", pap(code, code)).code != "Access-Accept"


def test_expired_voucher_quota_used_up_and_unknown_nas(radius_world: tuple[World, RadiusPeer]) -> None:
    world, peer = radius_world
    code = world.vouchers["cong-dong"]
    acct = f'User-Name = "{code}"\nAcct-Session-Id = "q1"\n'
    assert (
        peer.radclient("acct", PARK_SECRET, acct + "Acct-Status-Type = Start\n").code == "Accounting-Response"
    )
    stop = acct + "Acct-Status-Type = Stop\nAcct-Output-Octets = 600000000\n"
    assert peer.radclient("acct", PARK_SECRET, stop).code == "Accounting-Response"
    world.settle()
    quota = peer.radclient("auth", PARK_SECRET, pap(code, code))
    assert quota.code == "Access-Reject" and "quota" in quota.text
    with write_transaction(world.kernel.engine) as conn:
        conn.execute(update(radius_users).where(radius_users.c.username == code).values(valid_until_ms=1))
    assert "expired" in peer.radclient("auth", PARK_SECRET, pap(code, code)).text
    # FreeRADIUS still knows the NAS, cityops no longer does.
    with write_transaction(world.kernel.engine) as conn:
        conn.execute(update(radius_users).where(radius_users.c.username == code).values(valid_until_ms=None))
        conn.execute(update(nas_clients).where(nas_clients.c.name == "nas-park").values(name="nas-renamed"))
    gone = peer.radclient("auth", PARK_SECRET, pap(code, code))
    assert gone.code == "Access-Reject" and "Unknown access point" in gone.text


def test_packets_from_an_address_that_is_no_client_get_no_answer(
    radius_world: tuple[World, RadiusPeer],
) -> None:
    world, peer = radius_world
    datagram = accounting_request(
        7, PARK_SECRET, Acct_Status_Type=1, Acct_Session_Id="stranger", User_Name="x"
    )
    assert send_raw(datagram, peer.listen.acct_port, source="127.0.0.2") is None
    assert send_raw(datagram, peer.listen.acct_port) is not None  # the same from the NAS's address
    assert [s["username"] for s in world.sessions()] == ["x"]


def test_accounting_fixtures(radius_world: tuple[World, RadiusPeer]) -> None:
    world, peer = radius_world
    code = world.vouchers["cong-dong"]
    base = f'User-Name = "{code}"\nAcct-Session-Id = "f1"\nCalling-Station-Id = "02-00-00-00-00-01"\nCalled-Station-Id = "AA-BB-CC-00-00-01:Wifi-Free"\n'
    for packet in (
        "Acct-Status-Type = Start\n",
        "Acct-Status-Type = Interim-Update\nAcct-Session-Time = 60\nAcct-Input-Octets = 100\nAcct-Input-Gigawords = 1\n",
        "Acct-Status-Type = Stop\nAcct-Session-Time = 90\nAcct-Input-Octets = 200\nAcct-Input-Gigawords = 1\nAcct-Terminate-Cause = Idle-Timeout\n",
        "Acct-Status-Type = Interim-Update\nAcct-Session-Time = 95\nAcct-Input-Octets = 999\nAcct-Input-Gigawords = 1\n",
    ):
        reply = peer.radclient("acct", PARK_SECRET, base + packet)
        assert reply.code == "Accounting-Response", reply.text + peer.log()[-2000:]
    (session,) = world.sessions()
    assert session["stopped_ms"] is not None, "an interim after the stop must not reopen the session"
    assert session["input_bytes"] == 2**32 + 200
    assert session["terminate_cause"] == "Idle-Timeout"
    assert session["access_point"] == "park-1"

    # A retransmission: the very same datagram twice, and the same content as a new packet.
    datagram = accounting_request(
        42, PARK_SECRET, Acct_Status_Type=3, Acct_Session_Id="f2", User_Name=code, Acct_Input_Octets=5000
    )
    assert send_raw(datagram, peer.listen.acct_port) is not None
    assert send_raw(datagram, peer.listen.acct_port) is not None
    again = accounting_request(
        43, PARK_SECRET, Acct_Status_Type=3, Acct_Session_Id="f2", User_Name=code, Acct_Input_Octets=5000
    )
    assert send_raw(again, peer.listen.acct_port) is not None
    f2 = [s for s in world.sessions() if s["stopped_ms"] is None]
    assert len(f2) == 1 and f2[0]["input_bytes"] == 5000

    # The NAS rebooted: Accounting-On closes what it had open.
    assert (
        peer.radclient("acct", PARK_SECRET, "Acct-Status-Type = Accounting-On\nNAS-Identifier = park\n").code
        == "Accounting-Response"
    )
    assert all(s["stopped_ms"] is not None for s in world.sessions())
    assert {s["terminate_cause"] for s in world.sessions()} == {"Idle-Timeout", "NAS-Reboot"}
    # Accounting-Off too, and a wrong shared secret is dropped by FreeRADIUS.
    peer.radclient("acct", PARK_SECRET, base.replace("f1", "f3") + "Acct-Status-Type = Start\n")
    assert (
        peer.radclient(
            "acct", "not-the-secret", base.replace("f1", "f4") + "Acct-Status-Type = Start\n", timeout=1
        ).code
        == "none"
    )
    assert (
        peer.radclient("acct", PARK_SECRET, "Acct-Status-Type = Accounting-Off\n").code
        == "Accounting-Response"
    )
    causes = sorted(s["terminate_cause"] for s in world.sessions())
    assert causes == ["Idle-Timeout", "NAS-Reboot", "NAS-Request"]


def test_garbage_datagrams_leave_the_server_answering(radius_world: tuple[World, RadiusPeer]) -> None:
    world, peer = radius_world
    rng = random.Random(2026)
    garbage = [
        b"",
        b"\x01",
        os.urandom(19),
        bytes([1, 1, 0, 200]) + bytes(16),  # length beyond the datagram
        bytes([4, 2, 0, 20]) + bytes(16),  # accounting without attributes, wrong authenticator
        bytes([1, 3, 0, 30]) + bytes(16) + bytes([1, 0]) + b"12345678",  # an attribute of length 0
        bytes([99, 4, 0, 20]) + bytes(16),  # unknown code
    ] + [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400))) for _ in range(50)]
    for datagram in garbage:
        for port in (peer.listen.auth_port, peer.listen.acct_port):
            send_raw(datagram, port, wait=0.01)
    code = world.vouchers["cong-dong"]
    assert peer.radclient("auth", PARK_SECRET, pap(code, code)).code == "Access-Accept"
    assert world.sessions() == []
