"""Demo only: SIMULATED citizens' reports, so the moderation queue has work on the dashboard.

A few reports at start and one more every few minutes, while fewer than `MAX_WAITING` wait, each
marked "[Mô phỏng]" in its text and sent through the same desk the public form uses (diacritics
check, routing, audit), from points inside the province.
"""

from __future__ import annotations

import asyncio
import logging
import random

from sqlalchemy import func, select

from cityops.core.kernel import Kernel
from cityops.reports.desk import ReportDesk
from cityops.reports.errors import ReportError
from cityops.reports.routing import RoutingTable
from cityops.reports.schema import reports
from cityops.reports.settings import ReportSettings
from cityops.reports.submission import Submission

log = logging.getLogger(__name__)

MARK = "[Mô phỏng] "
EVERY_S = 180.0
AT_START = 3
MAX_WAITING = 8

Sample = tuple[str, str, str, float, float]

# (category, description, address, lon, lat): places are real streets; the events are invented.
SAMPLES: tuple[Sample, ...] = (
    (
        "road",
        "Ổ gà lớn giữa làn xe máy, nhiều người suýt té vào buổi tối.",
        "Đại lộ Bình Dương, gần ngã tư Sở Sao",
        106.6745,
        11.0102,
    ),
    (
        "lighting",
        "Cả dãy đèn đường tắt từ ba đêm nay, đoạn đường rất tối.",
        "Đường Huỳnh Văn Lũy, Phú Lợi",
        106.6930,
        10.9985,
    ),
    (
        "waste",
        "Rác thải sinh hoạt đổ trộm bên lề đường, bốc mùi hôi.",
        "Đường ĐT743, Dĩ An",
        106.7706,
        10.9065,
    ),
    (
        "flooding",
        "Mưa lớn làm ngập sâu khoảng 40 cm, xe chết máy hàng loạt.",
        "Đường Nguyễn Văn Tiết, Lái Thiêu",
        106.7017,
        10.9045,
    ),
    (
        "traffic",
        "Đèn tín hiệu giao thông bị hỏng, xe cộ tranh nhau qua giao lộ.",
        "Ngã tư 550, Dĩ An",
        106.7632,
        10.9217,
    ),
    (
        "other",
        "Cây xanh ngã đổ chắn một nửa lòng đường sau cơn giông.",
        "Đường Mỹ Phước – Tân Vạn, Tân Uyên",
        106.7550,
        11.0520,
    ),
)


def sample_submission(sample: Sample, rng: random.Random, codes: set[str]) -> Submission:
    category, description, address, lon, lat = sample
    return Submission(
        service_code=category if category in codes else sorted(codes)[0],
        description=MARK + description,
        address=address,
        lon=round(lon + rng.uniform(-0.002, 0.002), 6),
        lat=round(lat + rng.uniform(-0.002, 0.002), 6),
    )


def waiting(kernel: Kernel) -> int:
    with kernel.engine.connect() as conn:
        query = select(func.count()).select_from(reports).where(reports.c.status == "pending")
        return int(conn.execute(query).scalar_one())


async def simulate(kernel: Kernel) -> None:
    desk = ReportDesk(kernel, RoutingTable.load(ReportSettings().routing))
    codes = {category.code for category in desk.table.categories}
    rng = random.Random()  # a restarted demo should not replay the same reports
    sent = 0
    while True:
        # The cap holds across restarts of the demo on the same store (reports stay waiting).
        if await asyncio.to_thread(waiting, kernel) < MAX_WAITING:
            try:
                await desk.submit(sample_submission(rng.choice(SAMPLES), rng, codes))
            except ReportError as exc:  # a sample the desk refuses is a bug in the samples: say so, go on
                log.warning("simulated report refused: %s", exc.detail())
        sent += 1
        await asyncio.sleep(0.5 if sent < AT_START else EVERY_S)
