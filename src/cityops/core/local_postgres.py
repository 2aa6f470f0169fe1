"""A throw-away PostgreSQL cluster on loopback (Debian's `initdb` and `pg_ctl`), for the tests and the
benchmarks: `LocalPostgres.start()` makes one in a temporary folder, `stop()` removes it.

PostgreSQL refuses to run as root, so under root (CI) the server runs as Debian's `postgres` user.
The superuser is `cityops`, trusted on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "cityops"
# Settings for a cluster nobody needs after the run: no fsync, so tests do not wait for the disk.
THROWAWAY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def server_bin_dir() -> Path:
    """The newest installed server's `bin` folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise FileNotFoundError("no PostgreSQL server under /usr/lib/postgresql: `make apt-test` installs it")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LocalPostgres:
    data_dir: Path
    port: int
    bin_dir: Path
    run_as: str | None

    @classmethod
    def start(cls, durable: bool = False, max_connections: int = 200) -> LocalPostgres:
        """initdb into a fresh temporary folder and start the server on a free loopback port. `durable`
        keeps PostgreSQL's default fsync settings (for benchmarks); otherwise they are off."""
        bin_dir = server_bin_dir()
        run_as = "postgres" if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="cityops-pg-"))
        if run_as:
            account = pwd.getpwnam(run_as)
            os.chown(root, account.pw_uid, account.pw_gid)
        server = cls(root / "data", _free_port(), bin_dir, run_as)
        server._run("initdb", "-D", str(server.data_dir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(server.port),
            "unix_socket_directories": f"'{root}'",
            "max_connections": str(max_connections),
            **({} if durable else THROWAWAY),
        }
        with (server.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        server.start_server()
        return server

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/")

    def start_server(self) -> None:
        log = self.data_dir.parent / "server.log"
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-w", "-t", "60", "start")

    def stop_server(self, mode: str = "fast") -> None:
        """`mode`: smart, fast or immediate (like a crash: recovery runs at the next start)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop_server(mode)
        self.start_server()

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        try:
            self.stop_server("immediate")
        finally:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database (psycopg 3)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (copied from `template` when given, which nobody may be connected to);
        returns its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
