"""Where the server may connect on a user's say-so: allowed schemes only; loopback, private, link-local,
multicast and unspecified addresses only when the installation allows them; the metadata address never."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.core.outbound import IPAddress, OutboundRefused, Resolver, check_outbound_url, pin_outbound_url

WEB = ("http", "https")
STREAMS = (*WEB, "rtsp")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "https://10.1.2.3/",
        "http://192.168.1.20/",
        "http://[::1]:9000/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_private_targets_need_consent(url: str) -> None:
    with pytest.raises(OutboundRefused, match="outbound_private_allowed"):
        check_outbound_url(url, WEB, allow_private=False)
    check_outbound_url(url, WEB, allow_private=True)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data", "http://[::ffff:169.254.169.254]/"]
)
def test_the_metadata_address_is_never_reached(url: str) -> None:
    with pytest.raises(OutboundRefused, match="metadata"):
        check_outbound_url(url, WEB, allow_private=True)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://8.8.8.8/", "scheme 'gopher'"),
        ("http:///nohost", "no host"),
        ("http://8.8.8.8:notaport/", "not a valid URL"),
    ],
)
def test_bad_urls_say_why(url: str, why: str) -> None:
    with pytest.raises(OutboundRefused, match=why):
        check_outbound_url(url, WEB, allow_private=True)


def test_public_addresses_and_unresolved_names_pass() -> None:
    check_outbound_url("https://8.8.8.8/hook", WEB, allow_private=False)
    check_outbound_url("https://receiver.example.invalid/hook", WEB, allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3/", "rtsp://192.168.1.20/live", "rtsp://172.31.0.9/", "http://[fd00::5]/"]
)
def test_private_networks_may_be_allowed_alone(url: str) -> None:
    """Cameras live on private networks: those ranges, and only those, need no consent then."""
    with pytest.raises(OutboundRefused):
        check_outbound_url(url, STREAMS, allow_private=False)
    check_outbound_url(url, STREAMS, allow_private=False, private_networks=True)


@pytest.mark.parametrize(
    "url",
    ["http://localhost/", "http://127.1/", "http://0x7f000001/", "http://[::1]/", "http://169.254.1.1/"],
)
def test_loopback_and_link_local_need_consent_even_beside_private_networks(url: str) -> None:
    with pytest.raises(OutboundRefused, match="outbound_private_allowed"):
        check_outbound_url(url, WEB, allow_private=False, private_networks=True)


@pytest.mark.parametrize("host", ["2852039166", "metadata.google.internal", "instance-data"])
def test_names_of_the_metadata_address_are_refused(host: str) -> None:
    """2852039166 is 169.254.169.254 to the resolver; the others are the clouds' names for it."""
    with pytest.raises(OutboundRefused, match="metadata"):
        check_outbound_url(f"http://{host}/", WEB, allow_private=True, private_networks=True)


def flipping(*replies: str) -> tuple[Resolver, list[str]]:
    """A resolver that gives each reply in turn (the last one from then on), as a rebinding DNS does."""
    queue = [[ipaddress.ip_address(reply)] for reply in replies]
    asked: list[str] = []

    def resolve(host: str) -> list[IPAddress]:
        asked.append(host)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return resolve, asked


def test_a_pinned_url_names_the_checked_address_and_keeps_the_rest() -> None:
    resolver, asked = flipping("8.8.8.8", "127.0.0.1")
    pinned = pin_outbound_url(
        "rtsp://user:p%40ss@cam.example:8554/live?x=1", STREAMS, False, resolver=resolver
    )
    assert pinned.url == "rtsp://user:p%40ss@8.8.8.8:8554/live?x=1"
    assert (pinned.host, pinned.host_header, str(pinned.address)) == (
        "cam.example",
        "cam.example:8554",
        "8.8.8.8",
    )
    assert asked == ["cam.example"]  # resolved once: the check and the connection see the same answer
    with pytest.raises(OutboundRefused, match="outbound_private_allowed"):
        pin_outbound_url("rtsp://cam.example:8554/live", STREAMS, False, resolver=resolver)  # rebound


@given(st.ip_addresses(v=6).filter(lambda a: a != ipaddress.ip_address("::ffff:169.254.169.254")))
def test_ipv6_addresses_are_bracketed(address: ipaddress.IPv6Address) -> None:
    pinned = pin_outbound_url("https://hook.example/n", WEB, True, resolver=lambda _host: [address])
    assert urlsplit(pinned.url).hostname == str(address) and pinned.url.startswith(f"https://[{address}]/")


def test_localhost_is_pinned_to_loopback_only_with_consent() -> None:
    with pytest.raises(OutboundRefused, match="outbound_private_allowed"):
        pin_outbound_url("http://localhost:8080/x", WEB, False)
    pinned = pin_outbound_url("http://localhost:8080/x", WEB, True)
    assert (pinned.url, pinned.host_header) == ("http://127.0.0.1:8080/x", "localhost:8080")


def test_a_name_that_does_not_resolve_when_connecting_is_refused() -> None:
    check_outbound_url("https://receiver.example.invalid/hook", WEB, allow_private=False)  # may exist later
    with pytest.raises(OutboundRefused, match="does not resolve"):
        pin_outbound_url("https://receiver.example.invalid/hook", WEB, False)
