"""Login rate limiting: failed logins are counted per account and per client address in moving windows
(PyPI `limits`); once either count is spent, logins are refused — even with the right password — until
the oldest failure leaves the window. A successful login clears its account's count, not its address's.
"""

from __future__ import annotations

import math
import time

import limits
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cityops.core.access.accounts import AccessSettings


class LoginThrottle:
    def __init__(self, settings: AccessSettings) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        self._per_account = limits.parse(settings.login_limit_per_account)
        self._per_address = limits.parse(settings.login_limit_per_address)

    def _keys(self, account: str, address: str) -> tuple[tuple[limits.RateLimitItem, str, str], ...]:
        return (
            (self._per_account, "login-account", account.strip().lower()),
            (self._per_address, "login-address", address),
        )

    def retry_after(self, account: str, address: str) -> int | None:
        """Seconds to wait before a login for `account` from `address` is tried; None: try now."""
        waits = []
        for item, namespace, key in self._keys(account, address):
            if not self._limiter.test(item, namespace, key):
                reset_at = self._limiter.get_window_stats(item, namespace, key).reset_time
                waits.append(max(1, math.ceil(reset_at - time.time())))
        return max(waits, default=None)

    def failed(self, account: str, address: str) -> None:
        for item, namespace, key in self._keys(account, address):
            self._limiter.hit(item, namespace, key)

    def succeeded(self, account: str) -> None:
        item, namespace, key = self._keys(account, "")[0]
        self._limiter.clear(item, namespace, key)
