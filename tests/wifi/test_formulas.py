"""Property tests of the formulas: reply attributes of a plan, peak concurrency, MAC forms, counters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cityops.wifi.attributes import GIGAWORD, RadiusRequest
from cityops.wifi.figures import peak_concurrency
from cityops.wifi.plans import DAY_MS, Limits, day_start_ms, reply_attributes
from cityops.wifi.privacy import PersonalData, normalise_mac

optional = st.one_of(st.none(), st.integers(min_value=1, max_value=10**7))


@given(
    optional,
    st.one_of(st.none(), st.integers(0, 10**13)),
    optional,
    optional,
    st.integers(0, 10**13),
    st.one_of(st.none(), st.integers(0, 10**7)),
)
def test_reply_attributes(
    session: int | None, quota: int | None, down: int | None, up: int | None, used: int, left: int | None
) -> None:
    attributes = reply_attributes(Limits(session, quota, down, up, None), used, left, 300)
    assert attributes["Acct-Interim-Interval"] == 300
    limits = [t for t in (session, left) if t is not None]
    if limits:
        assert attributes["Session-Timeout"] == max(1, min(limits))
    else:
        assert "Session-Timeout" not in attributes
    if quota is None:
        assert "Mikrotik-Total-Limit" not in attributes
    else:
        total = int(attributes["Mikrotik-Total-Limit-Gigawords"]) * GIGAWORD + int(
            attributes["Mikrotik-Total-Limit"]
        )
        assert total == max(0, quota - used)
        assert 0 <= int(attributes["Mikrotik-Total-Limit"]) < GIGAWORD
    if down is not None:
        assert attributes["WISPr-Bandwidth-Max-Down"] == down * 1000
        assert str(attributes["Mikrotik-Rate-Limit"]).endswith(f"/{down}k")


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000)), max_size=40))
def test_peak_concurrency_is_the_most_overlapping_at_any_instant(raw: list[tuple[int, int]]) -> None:
    intervals = [(min(a, b), max(a, b)) for a, b in raw]
    brute = max((sum(1 for s, e in intervals if s <= t < e) for t in range(0, 1001)), default=0)
    assert peak_concurrency(intervals) == brute


@given(st.integers(0, 2**48 - 1), st.sampled_from([":", "-", ""]), st.booleans())
def test_mac_forms(value: int, separator: str, upper: bool) -> None:
    text = separator.join(f"{value:012x}"[i : i + 2] for i in range(0, 12, 2))
    canonical = ":".join(f"{value:012x}"[i : i + 2] for i in range(0, 12, 2))
    assert normalise_mac(text.upper() if upper else text) == canonical
    personal = PersonalData(b"k" * 32)
    hashed = personal.mac(text, hashed=True)
    assert hashed == personal.mac(canonical, hashed=True)
    assert hashed is not None and canonical not in hashed and hashed.startswith("h:")
    assert PersonalData(b"j" * 32).mac(text, hashed=True) != hashed


@given(st.integers(0, GIGAWORD - 1), st.integers(0, GIGAWORD - 1))
def test_octets_with_gigawords(octets: int, gigawords: int) -> None:
    request = RadiusRequest.from_rest(
        {"Acct-Input-Octets": {"value": [octets]}, "Acct-Input-Gigawords": {"value": [gigawords]}}
    )
    assert request.octets("Input") == gigawords * GIGAWORD + octets


@given(st.integers(0, 4_000_000_000_000))
def test_day_start_is_vietnam_midnight(now_ms: int) -> None:
    start = day_start_ms(now_ms)
    assert start <= now_ms < start + DAY_MS
    assert (start + 7 * 3_600_000) % DAY_MS == 0
