"""`cityops wifi freeradius-config`: a complete configuration folder for Debian's FreeRADIUS 3.

    freeradius -f -d <folder>        (or point the `freeradius` service at it)

The folder holds `radiusd.conf` (logging, threads, the modules), `clients.conf` (one client per NAS with
its shared secret, named `nas-<id>` so cityops knows which NAS asked), and the `cityops` virtual server:
authorize (which checks a PAP password and answers `Auth-Type := Accept`, as openwisp-radius does, or
hands FreeRADIUS's chap module the code for CHAP) and post-auth through the rest module (rlm_rest) to
`/api/wifi/radius/...`, which it authenticates to with HTTP Basic (`freeradius:<secret>`). rlm_rest's own
`authenticate` section is not used: it sends the user's name and password as the HTTP credentials, so
cityops could not tell FreeRADIUS from anybody else.

Accounting is FreeRADIUS's "buffered" pattern (its `buffered-sql` site): the packet is appended to a
`detail` file in cityops's spool (`detail-YYYYMMDDHH`, a new file each hour) with the client's shortname
(`FreeRADIUS-Client-Shortname`, so cityops knows which NAS sent it), and acknowledged once written;
cityops's detail reader (`detail_reader.py`) stores it. A packet FreeRADIUS could not write is not
acknowledged, and the NAS sends it again.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

RADIUS_LIBDIR = Path("/usr/lib/freeradius")
RADIUS_DICTDIR = Path("/usr/share/freeradius")
SERVER = "cityops"
SPOOL_PREFIX = "detail-"  # then %Y%m%d%H: a new file each hour (see detail_reader.py)


@dataclass(frozen=True)
class Client:
    name: str
    ip_address: str
    secret: str


@dataclass(frozen=True)
class Listen:
    address: str = "127.0.0.1"
    auth_port: int = 1812
    acct_port: int = 1813


# FreeRADIUS expands `${...}` while reading and some items' `%{...}` at run time; a secret is plain text.
SECRET_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#&()*+,-./:;<=>?@[]^_`{|}~"
)


def quoted(value: str) -> str:
    """A secret as a FreeRADIUS double-quoted string (`check_secret` says which characters it may hold)."""
    check_secret(value)
    return f'"{value}"'


def check_secret(value: str) -> None:
    if not 8 <= len(value) <= 128:
        raise ValueError("must have 8 to 128 characters")
    bad = sorted(set(value) - SECRET_CHARACTERS)
    if bad:
        raise ValueError(
            f"may not hold {''.join(bad)!r} (letters, digits and !#&()*+,-./:;<=>?@[]^_`{{|}}~ only)"
        )


def clients_conf(clients: list[Client]) -> str:
    blocks = []
    for client in clients:
        ipaddress.ip_address(client.ip_address)  # refuses anything FreeRADIUS would misread
        blocks.append(
            f"client {client.name} {{\n"
            f"\tipaddr = {client.ip_address}\n"
            f"\tsecret = {quoted(client.secret)}\n"
            f"\tshortname = {client.name}\n"
            "\trequire_message_authenticator = no\n"
            "}\n"
        )
    return "".join(blocks)


def _rest_section(name: str, url: str, query: str) -> str:
    return (
        f"\t{name} {{\n"
        f'\t\turi = "{url}/{name}?nas=%{{client:shortname}}{query}"\n'
        "\t\tmethod = 'post'\n"
        "\t\tbody = 'json'\n"
        "\t\tauth = 'basic'\n"
        "\t\trequire_auth = yes\n"
        "\t\tusername = 'freeradius'\n"
        "\t\tpassword = ${..api_secret}\n"
        "\t\ttimeout = 4\n"
        "\t}\n"
    )


def modules_conf(api_url: str, secret: str, pool: int, spool: Path) -> str:
    url = api_url.rstrip("/") + "/api/wifi/radius"
    post_auth = "&result=%{%{control:Post-Auth-Type}:-Accept}"
    return (
        "rest {\n"
        f"\tapi_secret = {quoted(secret)}\n"
        f'\tconnect_uri = "{api_url.rstrip("/")}/"\n'
        + _rest_section("authorize", url, "")
        + _rest_section("post-auth", url, post_auth)
        + f"\tpool {{\n\t\tstart = 0\n\t\tmin = 0\n\t\tmax = {pool * 4}\n\t\tspare = {pool}\n"
        "\t\tuses = 0\n\t\tretry_delay = 1\n\t\tlifetime = 0\n\t\tidle_timeout = 60\n\t}\n"
        "}\n"
        "chap {\n}\n"
        "detail {\n"
        f'\tfilename = "{spool}/{SPOOL_PREFIX}%Y%m%d%H"\n'
        "\tescape_filenames = no\n"
        "\tpermissions = 0600\n"
        '\theader = "%t"\n'
        "\tlocking = no\n"
        "}\n"
    )


def site_conf(listen: Listen) -> str:
    listeners = (
        f"\tlisten {{\n\t\ttype = auth\n\t\tipaddr = {listen.address}\n\t\tport = {listen.auth_port}\n\t}}\n"
        f"\tlisten {{\n\t\ttype = acct\n\t\tipaddr = {listen.address}\n\t\tport = {listen.acct_port}\n\t}}\n"
    )
    return (
        f"server {SERVER} {{\n" + listeners + "\tauthorize {\n"
        "\t\trest\n"
        "\t\tchap\n"
        "\t}\n"
        "\tauthenticate {\n"
        "\t\tAuth-Type CHAP {\n\t\t\tchap\n\t\t}\n"
        "\t}\n"
        "\tpreacct {\n\t\tupdate request {\n"
        '\t\t\t&FreeRADIUS-Client-Shortname := "%{client:shortname}"\n'
        "\t\t}\n\t}\n"
        "\taccounting {\n\t\tdetail\n\t}\n"
        "\tpost-auth {\n"
        "\t\trest\n"
        "\t\tPost-Auth-Type REJECT {\n\t\t\trest\n\t\t}\n"
        "\t}\n"
        "}\n"
    )


def radiusd_conf(folder: Path, threads: int) -> str:
    return (
        "prefix = /usr\n"
        "exec_prefix = /usr\n"
        "sysconfdir = /etc\n"
        "localstatedir = /var\n"
        "sbindir = /usr/sbin\n"
        f"raddbdir = {folder}\n"
        f"confdir = {folder}\n"
        f"logdir = {folder}/log\n"
        f"radacctdir = {folder}/radacct\n"
        f"run_dir = {folder}/run\n"
        f"db_dir = {folder}\n"
        f"libdir = {RADIUS_LIBDIR}\n"
        "name = freeradius\n"
        "pidfile = ${run_dir}/freeradius.pid\n"
        "max_request_time = 30\n"
        "cleanup_delay = 5\n"
        "max_requests = 65536\n"
        "hostname_lookups = no\n"
        "log {\n\tdestination = files\n\tfile = ${logdir}/radius.log\n\tauth = no\n\tstripped_names = no\n}\n"
        "security {\n\tallow_core_dumps = no\n\tmax_attributes = 200\n\treject_delay = 0\n"
        "\tstatus_server = yes\n}\n"
        f"thread pool {{\n\tstart_servers = {threads}\n\tmax_servers = {threads * 4}\n"
        f"\tmin_spare_servers = {threads}\n\tmax_spare_servers = {threads * 4}\n"
        "\tmax_requests_per_server = 0\n\tauto_limit_acct = no\n\tmax_queue_size = 65536\n}\n"
        "modules {\n\t$INCLUDE ${confdir}/modules.conf\n}\n"
        "instantiate {\n}\n"
        "policy {\n}\n"
        "$INCLUDE ${confdir}/clients.conf\n"
        "$INCLUDE ${confdir}/site.conf\n"
    )


def write_folder(
    folder: Path,
    clients: list[Client],
    api_url: str,
    secret: str,
    spool: Path,
    listen: Listen = Listen(),
    threads: int = 8,
) -> Path:
    """Write the configuration folder (files 0600: they hold the shared secrets); returns it."""
    folder = folder.resolve()
    spool = spool.resolve()
    for path in (folder, folder / "log", folder / "radacct", folder / "run", spool):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = {
        "radiusd.conf": radiusd_conf(folder, threads),
        "modules.conf": modules_conf(api_url, secret, threads, spool),
        "clients.conf": clients_conf(clients),
        "site.conf": site_conf(listen),
        "dictionary": "# cityops: Debian's dictionaries only\n",
    }
    for name, text in files.items():
        path = folder / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    return folder
