"""Debian's FreeRADIUS on loopback ports, configured by `configure_freeradius`, and Debian's radclient.

`send_raw` builds RADIUS datagrams by hand (RFC 2865/2866) for what radclient will not send: the very same
datagram twice (a retransmission), packets from an address that is no client, and garbage.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from tests.conftest import free_port, wait_for

from cityops.wifi.commands import configure_freeradius
from cityops.wifi.freeradius_config import Listen

FREERADIUS = shutil.which("freeradius") or "/usr/sbin/freeradius"
RADCLIENT = shutil.which("radclient") or "/usr/bin/radclient"


@dataclass(frozen=True)
class Reply:
    code: str  # Access-Accept, Access-Reject, Accounting-Response, or "none"
    text: str


@dataclass(frozen=True)
class RadiusPeer:
    folder: Path
    listen: Listen

    def radclient(self, kind: str, secret: str, attributes: str, timeout: float = 3) -> Reply:
        port = self.listen.auth_port if kind == "auth" else self.listen.acct_port
        done = subprocess.run(
            [RADCLIENT, "-x", "-t", str(timeout), "-r", "1", f"127.0.0.1:{port}", kind, secret],
            input=attributes,
            capture_output=True,
            text=True,
            timeout=timeout + 10,
        )
        output = done.stdout + done.stderr
        for code in ("Access-Accept", "Access-Reject", "Accounting-Response"):
            if f"Received {code}" in output:
                return Reply(code, output)
        return Reply("none", output)

    def log(self) -> str:
        path = self.folder / "log" / "radius.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@contextmanager
def running_freeradius(engine: Engine, api_url: str, folder: Path, spool: Path) -> Iterator[RadiusPeer]:
    """FreeRADIUS writing accounting to `spool` (the detail reader's)."""
    listen = Listen("127.0.0.1", free_port(), free_port())
    configure_freeradius(engine, folder, api_url, listen, spool, threads=4)
    process = subprocess.Popen(
        [FREERADIUS, "-f", "-d", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    peer = RadiusPeer(folder, listen)
    try:
        wait_for(
            "FreeRADIUS to start",
            lambda: "Ready to process requests" in peer.log() or process.poll() is not None,
            20,
        )
        if process.poll() is not None:
            raise AssertionError(f"FreeRADIUS exited: {peer.log()[-2000:]}")
        yield peer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- datagrams by hand ------------------------------------------------------------------------------
ACCOUNTING_REQUEST = 4
ATTRIBUTE_TYPES = {
    "User-Name": 1,
    "Acct-Status-Type": 40,
    "Acct-Input-Octets": 42,
    "Acct-Session-Id": 44,
    "Acct-Session-Time": 46,
}


def attribute(name: str, value: str | int) -> bytes:
    data = struct.pack("!I", value) if isinstance(value, int) else value.encode()
    return struct.pack("!BB", ATTRIBUTE_TYPES[name], len(data) + 2) + data


def accounting_request(identifier: int, secret: str, **attributes: str | int) -> bytes:
    """An Accounting-Request with its Request Authenticator (RFC 2866 §3)."""
    body = b"".join(attribute(name.replace("_", "-"), value) for name, value in attributes.items())
    length = 20 + len(body)
    header = struct.pack("!BBH", ACCOUNTING_REQUEST, identifier, length)
    authenticator = hashlib.md5(header + bytes(16) + body + secret.encode()).digest()
    return header + authenticator + body


def send_raw(datagram: bytes, port: int, source: str = "127.0.0.1", wait: float = 1.0) -> bytes | None:
    """Send one datagram; the reply, or None when none came within `wait` seconds."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(wait)
        sock.sendto(datagram, ("127.0.0.1", port))
        try:
            return sock.recv(4096)
        except TimeoutError:
            return None
