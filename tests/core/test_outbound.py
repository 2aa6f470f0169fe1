"""Where the server may connect on a user's say-so: allowed schemes only; loopback, private, link-local,
multicast and unspecified addresses only when the installation allows them; the metadata address never."""

from __future__ import annotations

import pytest

from cityops.core.outbound import OutboundRefused, check_outbound_url

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
