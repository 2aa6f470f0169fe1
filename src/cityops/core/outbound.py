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

DNS rebinding: a name checked now may answer differently a moment later, when the connection is made.
`pin_outbound_url` resolves once, checks every address, and returns the URL with the first checked
address in place of the name, so the connection goes where the check looked; callers pin right before
each connection (and each reconnection) and connect to the pinned URL, never to the name. A name that
does not resolve then is refused (nothing was checked). The resolver is a parameter (`Resolver`), the
system's by default.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

METADATA = ipaddress.ip_address("169.254.169.254")
METADATA_NAMES = frozenset(
    ("metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal")
)
LOOPBACK = ipaddress.ip_address("127.0.0.1")
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network) for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[IPAddress]]
"""A host name -> the addresses it resolves to now ([] when it does not resolve)."""


class OutboundRefused(ValueError):
    pass


def system_resolver(host: str) -> list[IPAddress]:
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


def _addresses(host: str, resolver: Resolver) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    name = host.lower().rstrip(".")
    if name in METADATA_NAMES:
        return [METADATA]
    if name == "localhost" or name.endswith(".localhost"):
        return [LOOPBACK]
    return resolver(host)


@dataclass(frozen=True)
class PinnedUrl:
    url: str
    """The URL with the checked address in place of the host name (credentials, port, path kept)."""
    host: str
    """The name it had, for the HTTP Host header and TLS server name."""
    address: IPAddress

    @property
    def host_header(self) -> str:
        port = urlsplit(self.url).port
        return self.host if port is None else f"{self.host}:{port}"


def check_outbound_url(
    url: str,
    schemes: Iterable[str],
    allow_private: bool,
    *,
    private_networks: bool = False,
    resolver: Resolver = system_resolver,
) -> None:
    """Raise `OutboundRefused` (the reason in its message) unless the server may connect to `url`."""
    _check(url, schemes, allow_private, private_networks, resolver)


def pin_outbound_url(
    url: str,
    schemes: Iterable[str],
    allow_private: bool,
    *,
    private_networks: bool = False,
    resolver: Resolver = system_resolver,
) -> PinnedUrl:
    """`check_outbound_url`, resolving once, and the URL to connect to: the checked address in place of
    the name. Refused too when the name does not resolve (there is nothing checked to connect to)."""
    parts, addresses = _check(url, schemes, allow_private, private_networks, resolver)
    host = parts.hostname or ""
    if not addresses:
        raise OutboundRefused(f"{host} does not resolve to any address")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if "@" in parts.netloc else "") + literal
    if parts.port is not None:
        netloc += f":{parts.port}"
    return PinnedUrl(urlunsplit(parts._replace(netloc=netloc)), host, address)


def _check(
    url: str, schemes: Iterable[str], allow_private: bool, private_networks: bool, resolver: Resolver
) -> tuple[SplitResult, list[IPAddress]]:
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
    addresses = _addresses(parts.hostname, resolver)
    for address in addresses:
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
    return parts, addresses
