"""The demo's economy: simulated monthly figures for last year and this year up to last month, this
year's targets, investment projects and the programme's portfolio. Everything here is marked
`simulated` (and shown so); the published 2021 figures (`published.py`) are not touched."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import anyio.to_thread
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import OperationalError

from cityops.core.schema import entities
from cityops.core.store import write_transaction
from cityops.economy import figures, investment, programme, targets
from cityops.economy.comparison import VN
from cityops.economy.periods import Period
from cityops.economy.schema import programme_projects, projects

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

SOURCE = "Bộ mô phỏng cityops (cityops demo simulator)"
ACTOR = "economy.demo"
# Series, a month's level last year, growth on last year.
MONTHLY = (
    ("retail", 26_000.0, 0.08),
    ("exports", 3_000.0, 0.11),
    ("imports", 2_300.0, 0.09),
    ("fdi_new", 90.0, 0.05),
    ("fdi_additional", 60.0, 0.02),
    ("fdi_disbursed", 70.0, 0.06),
)


def monthly_figures(today: date, rng: random.Random) -> list[figures.NewFigure]:
    new = []
    last_month = (today.replace(day=1) - timedelta(days=1)).month if today.month > 1 else 0
    for code, level, growth in MONTHLY:
        for month in range(1, 13):
            seasonal = 1.0 + 0.08 * ((month % 12) in (0, 11, 1))  # Tết and year-end
            before = level * seasonal * rng.uniform(0.92, 1.08)
            new.append(_simulated(code, Period.month(today.year - 1, month), before))
            if month <= last_month:
                now = before * (1 + growth) * rng.uniform(0.96, 1.04)
                new.append(_simulated(code, Period.month(today.year, month), now))
    for month in range(1, last_month + 1):
        new.append(_simulated("iip", Period.month(today.year, month), None, rng.uniform(5.0, 9.0)))
    if last_month:
        new.append(
            _simulated("firms_operating", Period.month(today.year, last_month), rng.uniform(97.0, 99.0))
        )
    return new


def _simulated(
    code: str, period: Period, value: float | None, change: float | None = None
) -> figures.NewFigure:
    return figures.NewFigure(
        code,
        period,
        None if value is None else round(value, 1),
        None if change is None else round(change, 2),
        source=SOURCE,
        simulated=True,
    )


def year_targets(year: int) -> list[targets.TargetIn]:
    return [
        targets.TargetIn(
            series_code="exports", year=year, kind="value", target=38_000.0, source=SOURCE, simulated=True
        ),
        targets.TargetIn(
            series_code="imports", year=year, kind="value", target=29_000.0, source=SOURCE, simulated=True
        ),
        targets.TargetIn(
            series_code="retail", year=year, kind="growth", target=10.0, source=SOURCE, simulated=True
        ),
        targets.TargetIn(
            series_code="iip", year=year, kind="growth", target=8.0, source=SOURCE, simulated=True
        ),
    ]


def sample_projects(rng: random.Random) -> list[investment.ProjectIn]:
    countries = ("JP", "JP", "JP", "KR", "KR", "TW", "SG", "SG", "CN", "HK", "VG", "US", "DE", "NL")
    parks = ("vsip-1", "vsip-2", "my-phuoc-3", "bau-bang", "song-than-2", "dong-an", None)
    statuses = ("licensed", "under_construction", "operating", "operating", "operating", "suspended")
    items = []
    for index in range(40):
        registered = round(rng.lognormvariate(3.5, 1.0), 1)
        items.append(
            investment.ProjectIn(
                name=f"Dự án mô phỏng {index + 1:02d}",
                investor=f"Nhà đầu tư mô phỏng {index + 1:02d}",
                country=rng.choice(countries),
                sector=rng.choice(investment.SECTORS[:7]),
                park=rng.choice(parks),
                registered_musd=registered,
                disbursed_musd=round(registered * rng.uniform(0.0, 1.0), 1),
                status=rng.choice(statuses),
                licensed_on=date(2015 + index % 11, 1 + index % 12, 1 + index % 28),
                source=SOURCE,
                simulated=True,
            )
        )
    return items


def portfolio(today: date) -> list[programme.ProgrammeProjectIn]:
    """The programme's projects as the partnership announced them; budgets and dates are simulated."""

    def milestone(vi: str, en: str, ja: str, due_days: int, done: bool) -> programme.MilestoneIn:
        due = today + timedelta(days=due_days)
        return programme.MilestoneIn(
            title={"vi": vi, "en": en, "ja": ja}, due=due, done=due - timedelta(days=3) if done else None
        )

    def project(
        code: str,
        title: tuple[str, str, str],
        scope: str,
        budget: float,
        status: str,
        indicators: list[str],
        steps: list[programme.MilestoneIn],
    ) -> programme.ProgrammeProjectIn:
        return programme.ProgrammeProjectIn(
            code=code,
            title=dict(zip(("vi", "en", "ja"), title, strict=True)),
            partner="NTT East, Becamex IDC",
            scope=scope,
            budget_bn_vnd=budget,
            status=status,
            indicators=indicators,
            milestones=steps,
            simulated=True,
        )

    return [
        project(
            "telecom",
            (
                "Hạ tầng viễn thông chuẩn Nhật Bản",
                "Telecom infrastructure to Japanese standards",
                "日本基準の通信インフラ",
            ),
            "13 projects",
            900.0,
            "rolling_out",
            [],
            [
                milestone("Hoàn thành 6/13 dự án", "6 of 13 projects done", "13件中6件完了", -200, True),
                milestone("Hoàn thành 13/13 dự án", "13 of 13 projects done", "13件すべて完了", 300, False),
            ],
        ),
        project(
            "data_centre",
            ("Trung tâm dữ liệu thứ hai", "Second data centre", "第2データセンター"),
            "second data centre",
            1_200.0,
            "planned",
            [],
            [milestone("Phê duyệt thiết kế", "Design approved", "設計承認", -30, False)],
        ),
        project(
            "community_wifi",
            ("Wifi cộng đồng", "Community wifi", "コミュニティWi-Fi"),
            "public hotspots, pilot wards first",
            150.0,
            "piloting",
            ["wifi.access_points_up", "wifi.active_users"],
            [
                milestone("Thí điểm tại các phường", "Pilot wards live", "試行区で稼働", -120, True),
                milestone("Mở rộng đợt 1", "Rollout wave 1", "第1波展開", -10, False),
            ],
        ),
        project(
            "traffic_cameras",
            ("Camera giám sát giao thông", "Traffic surveillance cameras", "交通監視カメラ"),
            "monitored junctions",
            300.0,
            "rolling_out",
            ["traffic.cameras_online"],
            [milestone("Lắp đặt giai đoạn 1", "Phase 1 installed", "第1期設置", -60, True)],
        ),
        project(
            "business_dx",
            ("Chuyển đổi số doanh nghiệp", "Digital transformation for businesses", "企業のデジタル化"),
            "online public services for firms",
            200.0,
            "rolling_out",
            ["services.online_dossier_share"],
            [milestone("50% hồ sơ trực tuyến", "50 % of dossiers online", "オンライン申請50%", 45, False)],
        ),
    ]


def load(conn: Connection, today: date, indicator_ids: set[str], seed: int = 7) -> None:
    """Store the demo's data once (nothing is added when simulated projects are already there)."""
    if conn.scalar(select(func.count()).select_from(projects).where(projects.c.simulated)):
        return
    rng = random.Random(seed)
    new = monthly_figures(today, rng)
    present = figures.in_force(conn, ((f.series_code, f.period) for f in new))
    figures.store(conn, [f for f in new if (f.series_code, f.period) not in present], ACTOR, revise=False)
    targets.put(conn, year_targets(today.year), ACTOR)
    investment.add(conn, sample_projects(rng), ACTOR)
    if not conn.scalar(select(func.count()).select_from(programme_projects)):
        for item in portfolio(today):
            item.indicators = [i for i in item.indicators if i in indicator_ids]
            programme.put_project(conn, item, ACTOR)
    if not programme.localities(conn):
        programme.put_rollout(conn, demo_rollout(conn, today), ACTOR)


def demo_rollout(conn: Connection, today: date) -> list[programme.RolloutIn]:
    """The wards with community hotspots: a third of them pilots, the others the first rollout wave."""
    query = select(entities.c.legacy_area_code).where(
        entities.c.type == "AccessPoint", entities.c.legacy_area_code.is_not(None)
    )
    wards = sorted(set(conn.scalars(query)))
    pilots = set(wards[: max(2, len(wards) // 3)])
    return [
        programme.RolloutIn(
            area_code=ward,
            wave=0 if ward in pilots else 1,
            starts=today - timedelta(days=120) if ward in pilots else today - timedelta(days=10),
        )
        for ward in wards
    ]


async def simulate(kernel: Kernel) -> None:
    today = datetime.fromtimestamp(kernel.now_ms() / 1000, VN).date()
    ids = {i.id for i in kernel.indicators}

    def run() -> None:
        with write_transaction(kernel.engine) as conn:
            load(conn, today, ids)

    # The other domains' simulators write at start too; a store busy past its timeout is tried again.
    for attempt in range(5):
        try:
            await anyio.to_thread.run_sync(run)
            return
        except OperationalError:
            if attempt == 4:
                raise
            await anyio.sleep(5)
