"""Public submissions counted per client address in moving windows (PyPI `limits`, as the login throttle).

Every attempt counts, accepted or refused for a bad field, so nobody can probe the form at full speed; an
attempt refused for the rate itself does not count, so waiting the announced time is always enough.
"""

from __future__ import annotations

import math
import time

import limits
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine

from cityops.core.access.rate_counts import rate_storage
from cityops.reports.settings import ReportSettings

NAMESPACE = "report-submission"


class SubmissionThrottle:
    def __init__(self, settings: ReportSettings, engine: Engine) -> None:
        self._limiter = MovingWindowRateLimiter(rate_storage(settings.rate_limit_storage, engine))
        self._items = limits.parse_many(settings.submission_limit)

    def admit(self, address: str) -> int | None:
        """Count one submission from `address`; None if admitted, else the seconds to wait."""
        spent = [item for item in self._items if not self._limiter.test(item, NAMESPACE, address)]
        if not spent:
            # `hit` refuses (and counts nothing) when a concurrent attempt took the last place.
            spent = [item for item in self._items if not self._limiter.hit(item, NAMESPACE, address)]
        if not spent:
            return None
        resets = [self._limiter.get_window_stats(item, NAMESPACE, address).reset_time for item in spent]
        return max(1, math.ceil(max(resets) - time.time()))
