"""Accounting packets/s through Debian's FreeRADIUS into cityops, every session persisted, against the same
FreeRADIUS writing only its `detail` file.

    .venv/bin/python benchmarks/wifi.py [--sessions 3000] [--parallel 128] [--runs 3] [--profile]

Each run: a fresh store with one tenant, plan, NAS (127.0.0.1) and voucher; `cityops serve` in its own
process (its detail reader stores the spool); FreeRADIUS configured by `configure_freeradius` (the folder
`cityops wifi freeradius-config` writes: accounting to the spool's detail file); Debian's radclient
sends Start, Interim-Update and Stop for every session (3 × sessions packets, `--parallel` in flight, 3
retries). The clock runs from the first packet until the store holds every session closed with its
byte counts (or 120 s more). Loss = packets whose effect is missing from the store. The peer, in the
same run: the same FreeRADIUS writing the detail file with nobody reading it (the time radclient takes).
`--profile` then stores the run's detail file again in a fresh store, in this process, under cProfile,
and prints where the reader's time goes. Prints medians over the runs; figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select

from cityops.core.kernel import Kernel
from cityops.core.store import write_transaction
from cityops.wifi.commands import configure_freeradius
from cityops.wifi.detail_reader import DetailReader
from cityops.wifi.freeradius_config import Listen
from cityops.wifi.privacy import PersonalData
from cityops.wifi.registry import NasIn, PlanIn, TenantIn, create_nas, create_tenant, put_plan
from cityops.wifi.schema import sessions
from cityops.wifi.tenancy import TenantView
from cityops.wifi.vouchers import VouchersIn, create_vouchers

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-123"
PROVINCE = TenantView(None, True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare_store(url: str) -> str:
    kernel = Kernel.open(url, node_modules=REPO / "node_modules")
    with write_transaction(kernel.engine) as conn:
        create_tenant(conn, PROVINCE, TenantIn(slug="bench", name="Bench", kind="community"), "bench")
        put_plan(conn, PROVINCE, "bench", PlanIn(name="free"), "bench")
        create_nas(
            conn, PROVINCE, "bench", NasIn(name="nas-bench", ip_address="127.0.0.1", secret=SECRET), "bench"
        )
        code = create_vouchers(conn, PROVINCE, VouchersIn(tenant="bench", plan="free"), "bench")[0]["code"]
    kernel.engine.dispose()
    return str(code)


@contextmanager
def cityops_server(url: str, port: int, folder: Path, spool: Path) -> Iterator[int]:
    env = {
        "CITYOPS_WIFI_DETAIL_SPOOL": str(spool),
        **os.environ,
        "CITYOPS_DATABASE_URL": url,
        "CITYOPS_NODE_MODULES": str(REPO / "node_modules"),
        "CITYOPS_WIFI_HASH_KEY_FILE": str(folder / "wifi-hash.key"),
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "cityops"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300  # a busy machine takes its time
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/meta", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("cityops did not start") from None
                time.sleep(0.2)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def freeradius(url: str, api: str, folder: Path, spool: Path) -> Iterator[Listen]:
    listen = Listen("127.0.0.1", free_port(), free_port())
    kernel = Kernel.open(url, node_modules=REPO / "node_modules")
    configure_freeradius(kernel.engine, folder, api, listen, spool, threads=8)
    kernel.engine.dispose()
    proc = subprocess.Popen(
        ["freeradius", "-f", "-d", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    log = folder / "log" / "radius.log"
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and "Ready to process requests" in log.read_text(errors="replace")):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(
                    "FreeRADIUS did not start: " + (log.read_text()[-2000:] if log.exists() else "")
                )
            time.sleep(0.1)
        yield listen
    finally:
        proc.terminate()
        proc.wait(30)


def packets_file(path: Path, code: str, count: int) -> int:
    """Start for every session, then Interim-Update for every one, then Stop; returns the packet count."""
    blocks = []
    for status, extra in (
        ("Start", ""),
        ("Interim-Update", "Acct-Session-Time = 60\nAcct-Input-Octets = 1000\nAcct-Output-Octets = 2000\n"),
        (
            "Stop",
            "Acct-Session-Time = 120\nAcct-Input-Octets = 3000\nAcct-Output-Octets = 5\nAcct-Output-Gigawords = 1\nAcct-Terminate-Cause = User-Request\n",
        ),
    ):
        for n in range(count):
            blocks.append(
                f'User-Name = "{code}"\nAcct-Status-Type = {status}\nAcct-Session-Id = "b{n:08d}"\n'
                f'Calling-Station-Id = "02-00-{n >> 24 & 255:02X}-{n >> 16 & 255:02X}-{n >> 8 & 255:02X}-{n & 255:02X}"\n'
                f"NAS-IP-Address = 127.0.0.1\n{extra}"
            )
    path.write_text("\n".join(blocks), encoding="ascii")
    return len(blocks)


def send(listen: Listen, path: Path, parallel: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            "radclient",
            "-q",
            "-f",
            str(path),
            "-p",
            str(parallel),
            "-r",
            "3",
            "-t",
            "5",
            f"127.0.0.1:{listen.acct_port}",
            "acct",
            SECRET,
        ],
        check=False,
        capture_output=True,
    )
    return time.perf_counter() - started


def persisted(url: str) -> int:
    """Packets whose effect is in the store: a Start (session there), Interim and Stop (closed with its bytes)."""
    kernel = Kernel.open(url, node_modules=REPO / "node_modules")
    with kernel.engine.connect() as conn:
        present = conn.execute(select(func.count()).select_from(sessions)).scalar_one()
        stopped = conn.execute(
            select(func.count()).where(
                sessions.c.stopped_ms.is_not(None), sessions.c.output_bytes == 2**32 + 5
            )
        ).scalar_one()
    kernel.engine.dispose()
    # A Stop carries the final totals; an Interim's effect cannot be told apart once the Stop arrived.
    return int(present) + 2 * int(stopped)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_stored(url: str, packets: int, started: float) -> float:
    """Seconds from `started` until the store holds every packet's effect (or stops gaining for 120 s)."""
    deadline = time.monotonic() + 120
    while persisted(url) < packets and time.monotonic() < deadline:
        time.sleep(0.05)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Run:
    rate: float  # packets/s, first packet sent to last session stored
    per_cpu_second: float  # packets stored per second of CPU the cityops process used meanwhile
    acknowledged: float  # packets/s FreeRADIUS acknowledged (written to the detail file)
    loss: float
    peer_rate: float
    peer_loss: float


def one_run(sessions_count: int, parallel: int, profile: bool) -> Run:
    with tempfile.TemporaryDirectory(prefix="cityops-wifi-bench-") as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp}/wifi.sqlite"
        code = prepare_store(url)
        packets = packets_file(tmp / "packets.txt", code, sessions_count)
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        spool = tmp / "spool"
        with cityops_server(url, port, tmp, spool) as pid, freeradius(url, api, tmp / "fr", spool) as listen:
            cpu = cpu_seconds(pid)
            started = time.perf_counter()
            sent = send(listen, tmp / "packets.txt", parallel)
            seconds = wait_stored(url, packets, started)
            cpu = cpu_seconds(pid) - cpu
        stored = persisted(url)
        peer_spool = tmp / "peer-spool"
        with freeradius(url, api, tmp / "fr-peer", peer_spool) as listen:
            peer_seconds = send(listen, tmp / "packets.txt", parallel)
        peer_written = sum(
            f.read_text(errors="replace").count("Acct-Status-Type") for f in peer_spool.iterdir()
        )
        if profile:
            profile_reader(peer_spool, code)
        return Run(
            packets / seconds,
            packets / cpu,
            packets / sent,
            1 - stored / packets,
            packets / peer_seconds,
            1 - peer_written / packets,
        )


def profile_reader(spool: Path, code: str) -> None:
    """Store the peer's detail file in a fresh store under cProfile: where the reader's time goes."""
    with tempfile.TemporaryDirectory(prefix="cityops-wifi-profile-") as tmp_name:
        url = f"sqlite:///{tmp_name}/wifi.sqlite"
        prepare_store(url)
        kernel = Kernel.open(url, node_modules=REPO / "node_modules")
        reader = DetailReader(kernel.engine, spool, PersonalData(b"k" * 32), 300, kernel.now_ms)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        count = reader.drain()
        profiler.disable()
        seconds = time.perf_counter() - started
        print(
            f"reader alone: {count} records in {seconds:.2f} s = {count / seconds:,.0f} records/s (under cProfile)"
        )
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
        kernel.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--parallel", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile the reader after the last run")
    args = parser.parse_args()
    results: list[Run] = []
    for number in range(args.runs):
        run = one_run(args.sessions, args.parallel, args.profile and number == args.runs - 1)
        results.append(run)
        print(
            f"run {number + 1}: cityops {run.rate:,.0f} packets/s stored ({run.per_cpu_second:,.0f} per CPU "
            f"second of cityops; loss {run.loss:.2%}; FreeRADIUS "
            f"acknowledged {run.acknowledged:,.0f}/s); detail file only {run.peer_rate:,.0f} packets/s "
            f"(loss {run.peer_loss:.2%})",
            flush=True,
        )
    rate = statistics.median(r.rate for r in results)
    peer = statistics.median(r.peer_rate for r in results)
    print(
        f"median: cityops {rate:,.0f} accounting packets/s stored "
        f"({statistics.median(r.per_cpu_second for r in results):,.0f} per CPU second of cityops), loss "
        f"{statistics.median(r.loss for r in results):.2%}, acknowledged "
        f"{statistics.median(r.acknowledged for r in results):,.0f}/s; FreeRADIUS detail file only "
        f"{peer:,.0f}/s, loss {statistics.median(r.peer_loss for r in results):.2%}; ratio {rate / peer:.2f}"
    )


if __name__ == "__main__":
    main()
