"""Login rate limiting: failed logins are counted per (account, client address) pair and per client
address in moving windows (PyPI `limits`); once either count is spent, logins are refused — even with
the right password — until the oldest failure leaves the window.

Counting an account per address (not the account alone) means nobody can lock an administrator out by
failing logins in their name from elsewhere. A successful login clears its pair's count. `cityops users
unlock NAME` clears an account's counts from every address: it records `user.unlock` in the audit log,
which a refused login reads (at most every `UNLOCK_CHECK_SECONDS` per account), so it reaches the
running server from another process.
"""

from __future__ import annotations

import math
import threading
import time

import limits
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine, func, select

from cityops.core.access.accounts import AccessSettings
from cityops.core.access.rate_counts import StoreRateStorage, rate_storage
from cityops.core.access.schema import audit_log

UNLOCK_ACTION = "user.unlock"
PAIR_NAMESPACE = "login-account"
UNLOCK_CHECK_SECONDS = 2.0
MAX_ADDRESSES_KEPT = 1000  # per account, to clear them all on unlock


def normal_account(account: str) -> str:
    return account.strip().lower()


class LoginThrottle:
    def __init__(self, settings: AccessSettings, engine: Engine) -> None:
        self._storage = rate_storage(settings.rate_limit_storage, engine)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._per_pair = limits.parse(settings.login_limit_per_account)
        self._per_address = limits.parse(settings.login_limit_per_address)
        self._lock = threading.Lock()
        self._addresses: dict[str, set[str]] = {}  # account -> addresses it failed from
        self._unlocks_seen: dict[str, int] = {}  # account -> newest unlock applied (ms)
        self._unlocks_checked: dict[str, float] = {}  # account -> when the audit log was last read
        self._started_ms = int(time.time() * 1000)  # unlocks older than this process changed nothing

    def _keys(self, account: str, address: str) -> tuple[tuple[limits.RateLimitItem, str, str], ...]:
        return (
            (self._per_pair, PAIR_NAMESPACE, f"{normal_account(account)}\n{address}"),
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
        with self._lock:
            seen = self._addresses.setdefault(normal_account(account), set())
            if len(seen) < MAX_ADDRESSES_KEPT:
                seen.add(address)
        for item, namespace, key in self._keys(account, address):
            self._limiter.hit(item, namespace, key)

    def succeeded(self, account: str, address: str) -> None:
        item, namespace, key = self._keys(account, address)[0]
        self._limiter.clear(item, namespace, key)

    def unlock(self, account: str) -> None:
        """Clear `account`'s counts from every address (the addresses' own counts stay)."""
        with self._lock:
            addresses = self._addresses.pop(normal_account(account), set())
        for address in addresses:
            self.succeeded(account, address)

    def apply_unlocks(self, engine: Engine, account: str) -> bool:
        """Whether an unlock of `account` was recorded since the last one applied (then applied)."""
        name = normal_account(account)
        now = time.monotonic()
        with self._lock:
            if now - self._unlocks_checked.get(name, -math.inf) < UNLOCK_CHECK_SECONDS:
                return False
            self._unlocks_checked[name] = now
        query = select(func.max(audit_log.c.ts_ms)).where(
            audit_log.c.object == f"user:{name}", audit_log.c.action == UNLOCK_ACTION
        )
        with engine.connect() as conn:
            newest = conn.execute(query).scalar()
        if newest is not None and isinstance(self._storage, StoreRateStorage):
            # Counts in the store: drop the account's failures counted before the unlock, whichever
            # server counted them (and however often servers restarted since).
            prefix = self._per_pair.key_for(PAIR_NAMESPACE, f"{name}\n").rsplit("\n", 1)[0] + "\n"
            return self._storage.clear_counted(prefix, before_ms=newest) > 0
        if newest is None or newest <= self._unlocks_seen.get(name, self._started_ms):
            return False
        self._unlocks_seen[name] = newest
        self.unlock(name)
        return True
