"""Rate-limit counts kept in the store, for PyPI `limits`' moving-window strategy: every server of a
cluster counts into the same rows, so a limit holds across API servers behind a load balancer.

`rate_storage("store", engine)` gives this storage; any other URI is a `limits` storage URI
(`memory://` counts in the process, `redis://…`). A hit is checked and counted in one write transaction
(`write_transaction`: one writer at a time on either store), so two servers never both take the last
place. Rows past their window are deleted as new hits come.
"""

from __future__ import annotations

import time

from limits.storage import MovingWindowSupport, Storage, storage_from_string
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from cityops.core.access.schema import rate_hits
from cityops.core.store import write_transaction

STORE = "store"


class StoreRateStorage(Storage, MovingWindowSupport):
    """Moving windows only: the fixed-window methods of `limits.Storage` are not offered."""

    STORAGE_SCHEME = None

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = int(time.time() * 1000)
        with write_transaction(self.engine) as conn:
            conn.execute(delete(rate_hits).where(rate_hits.c.expires_ms <= now))
            counted = conn.execute(
                select(func.coalesce(func.sum(rate_hits.c.amount), 0)).where(
                    rate_hits.c.key == key, rate_hits.c.ts_ms > now - expiry * 1000
                )
            ).scalar_one()
            if counted + amount > limit:
                return False
            conn.execute(
                insert(rate_hits).values(key=key, ts_ms=now, expires_ms=now + expiry * 1000, amount=amount)
            )
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(when the oldest hit in the window was counted, in seconds; how many hits are in it)."""
        now = int(time.time() * 1000)
        query = select(func.min(rate_hits.c.ts_ms), func.coalesce(func.sum(rate_hits.c.amount), 0)).where(
            rate_hits.c.key == key, rate_hits.c.ts_ms > now - expiry * 1000
        )
        with self.engine.connect() as conn:
            oldest, counted = conn.execute(query).one()
        return (now if oldest is None else oldest) / 1000, int(counted)

    def clear_counted(self, prefix: str, before_ms: int) -> int:
        """Forget the hits counted up to `before_ms` under every key starting with `prefix`; how many."""
        starts = func.substr(rate_hits.c.key, 1, len(prefix)) == prefix
        with self.engine.begin() as conn:
            return conn.execute(delete(rate_hits).where(starts, rate_hits.c.ts_ms <= before_ms)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(rate_hits).where(rate_hits.c.key == key))

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(delete(rate_hits)).rowcount

    def check(self) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(select(1)).scalar_one() == 1)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("the store keeps moving windows only (MovingWindowRateLimiter)")

    def get(self, key: str) -> int:
        raise NotImplementedError("the store keeps moving windows only (MovingWindowRateLimiter)")

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError("the store keeps moving windows only (MovingWindowRateLimiter)")


def rate_storage(uri: str, engine: Engine) -> Storage:
    """The storage a rate-limit setting names: `store` (shared through the store) or a `limits` URI."""
    if uri == STORE:
        return StoreRateStorage(engine)
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):
        raise ValueError(f"{uri!r} names an asynchronous `limits` storage; a synchronous one is needed")
    return storage
