"""A plan's limits as RADIUS reply attributes, in the WISPr and the Mikrotik forms.

session time      Session-Timeout (seconds; also cut at the voucher's expiry)
daily quota       Mikrotik-Total-Limit (+ -Gigawords): what is left of today's quota, in bytes
bandwidth         WISPr-Bandwidth-Max-Down/-Up (bit/s) and Mikrotik-Rate-Limit "<up>k/<down>k"
                  (Mikrotik's rx/tx are seen from the router: rx is what the client uploads)
interim interval  Acct-Interim-Interval, so the NAS reports every session regularly
"""

from __future__ import annotations

from dataclasses import dataclass

from cityops.core.schema import VIETNAM_OFFSET_MS
from cityops.wifi.attributes import GIGAWORD

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Limits:
    session_seconds: int | None
    daily_quota_bytes: int | None
    down_kbps: int | None
    up_kbps: int | None
    max_devices: int | None


def day_start_ms(now_ms: int) -> int:
    """The start of the civil day (UTC+7) that holds `now_ms`."""
    return (now_ms + VIETNAM_OFFSET_MS) // DAY_MS * DAY_MS - VIETNAM_OFFSET_MS


def reply_attributes(
    limits: Limits, used_today: int, seconds_left: int | None, interim_seconds: int
) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {"Acct-Interim-Interval": interim_seconds}
    timeouts = [t for t in (limits.session_seconds, seconds_left) if t is not None]
    if timeouts:
        attributes["Session-Timeout"] = max(1, min(timeouts))
    if limits.daily_quota_bytes is not None:
        left = max(0, limits.daily_quota_bytes - used_today)
        attributes["Mikrotik-Total-Limit"] = left % GIGAWORD
        attributes["Mikrotik-Total-Limit-Gigawords"] = left // GIGAWORD
    if limits.down_kbps is not None:
        attributes["WISPr-Bandwidth-Max-Down"] = limits.down_kbps * 1000
    if limits.up_kbps is not None:
        attributes["WISPr-Bandwidth-Max-Up"] = limits.up_kbps * 1000
    if limits.down_kbps is not None or limits.up_kbps is not None:
        up = f"{limits.up_kbps}k" if limits.up_kbps is not None else "0"
        down = f"{limits.down_kbps}k" if limits.down_kbps is not None else "0"
        attributes["Mikrotik-Rate-Limit"] = f"{up}/{down}"
    return attributes
