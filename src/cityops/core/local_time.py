"""Times as people in the province read them: Vietnam's time (UTC+7), day and month in each language's
order, as the dashboard writes them (`formatDateTime` in web/static/js/i18n.js)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
DATE_TIME_FORMATS = {"vi": "%H:%M %d/%m/%Y", "en": "%d/%m/%Y, %H:%M", "ja": "%Y/%m/%d %H:%M"}


def local_date_time(moment: datetime, language: str) -> str:
    """ "14:05 05/12/2026" (vi), "05/12/2026, 14:05" (en), "2026/12/05 14:05" (ja); a naive `moment` is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(LOCAL_TIME).strftime(DATE_TIME_FORMATS.get(language, DATE_TIME_FORMATS["vi"]))


def local_date_time_ms(ms: int, language: str) -> str:
    """The same for milliseconds since the epoch."""
    return local_date_time(datetime.fromtimestamp(ms / 1000, LOCAL_TIME), language)
