"""Where the server may connect on a user's say-so (a camera's stream, an NGSI-LD notification endpoint):
an allow-list of schemes, and never loopback, private, link-local, unspecified, multicast or reserved
addresses — among them the cloud metadata address 169.254.169.254 — unless the installation allows
private targets (a lab, a closed network: the setting `outbound_private_allowed`). The metadata address
is refused even then. A caller whose targets live on private networks (cameras on a city's LAN) passes
`private_networks=True`: the RFC 1918 and RFC 4193 ranges are then allowed without the setting, and
loopback, link-local and the rest still need it.

Host names are resolved and every address they resolve to is checked; a name that does not resolve is
let through (a camera may be added before its DNS name exists; the connection fails later on its own),
except the cloud metadata services' names (refused always) and `localhost` names (loopback, RFC 6761).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

METADATA = ipaddress.ip_address("169.254.169.254")
METADATA_NAMES = frozenset(
    ("metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal")
)
LOOPBACK = ipaddress.ip_address("127.0.0.1")
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network) for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


class OutboundRefused(ValueError):
    pass


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    name = host.lower().rstrip(".")
    if name in METADATA_NAMES:
        return [METADATA]
    if name == "localhost" or name.endswith(".localhost"):
        return [LOOPBACK]
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


def check_outbound_url(
    url: str, schemes: Iterable[str], allow_private: bool, *, private_networks: bool = False
) -> None:
    """Raise `OutboundRefused` (the reason in its message) unless the server may connect to `url`."""
    try:
        parts = urlsplit(url)
        _port = parts.port  # a port that is not a number raises here
    except ValueError as error:
        raise OutboundRefused(f"not a valid URL ({error})") from None
    allowed = tuple(schemes)
    if parts.scheme.lower() not in allowed:
        raise OutboundRefused(f"scheme {parts.scheme or '(none)'!r} is not allowed; use {', '.join(allowed)}")
    if not parts.hostname:
        raise OutboundRefused("the URL names no host")
    for address in _addresses(parts.hostname):
        mapped = getattr(address, "ipv4_mapped", None) or address
        if mapped == METADATA:
            raise OutboundRefused(f"{parts.hostname} is the cloud metadata address")
        if private_networks and any(mapped in network for network in PRIVATE_NETWORKS):
            continue
        private = (
            mapped.is_loopback
            or mapped.is_private
            or mapped.is_link_local
            or mapped.is_unspecified
            or mapped.is_multicast
            or mapped.is_reserved
        )
        if private and not allow_private:
            raise OutboundRefused(
                f"{parts.hostname} is a loopback, private or link-local address ({mapped}); "
                "an administrator may allow such targets (setting outbound_private_allowed)"
            )
