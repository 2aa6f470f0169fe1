"""The datasets the kernel publishes for every entity type the domains declare: the register of things
on the map, their daily figures (from the day rollups, Vietnam's civil day), and the alerts raised."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from cityops.core.domain import EntityType, Text
from cityops.core.opendata import Column, Dataset, Period
from cityops.core.schema import VIETNAM_OFFSET_MS, entities, metrics, rollups
from cityops.core.schema_operations import alerts

DAY_MS = 86_400_000


def _text(vi: str, en: str, ja: str) -> Text:
    return {"vi": vi, "en": en, "ja": ja}


def _slug(entity_type: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in entity_type).lstrip("_")


URN = Column("urn", "string", _text("Mã định danh (URN)", "Identifier (URN)", "識別子 (URN)"))
NAME = Column("name", "string", _text("Tên", "Name", "名称"))
AREA = Column("area_code", "string", _text("Mã phường/xã (2025)", "Ward code (2025)", "区・坊コード (2025)"))
LEGACY_AREA = Column(
    "legacy_area_code", "string", _text("Mã phường/xã (trước 2025)", "Ward code (before 2025)", "旧区コード")
)
LON = Column("lon", "number", _text("Kinh độ", "Longitude", "経度"))
LAT = Column("lat", "number", _text("Vĩ độ", "Latitude", "緯度"))


def register_dataset(entity_type: EntityType) -> Dataset:
    def rows(conn: Connection, _period: Period) -> Iterator[dict[str, Any]]:
        query = select(entities).where(entities.c.type == entity_type.type).order_by(entities.c.id)
        for row in conn.execute(query):
            yield {
                "urn": row.urn,
                "name": row.name,
                "area_code": row.area_code,
                "legacy_area_code": row.legacy_area_code,
                "lon": row.lon,
                "lat": row.lat,
                "updated": row.updated_ms,
            }

    title = entity_type.title
    return Dataset(
        id=f"register.{_slug(entity_type.type)}",
        title={lang: f"{text} — danh mục" if lang == "vi" else text for lang, text in title.items()},
        description=_text(
            f"Danh mục {title['vi'].lower()} trên bản đồ: tên, vị trí, phường/xã.",
            f"Register of {title['en'].lower()} on the map: name, position, ward.",
            f"地図上の{title['ja']}の一覧:名称、位置、区・坊。",
        ),
        columns=(
            URN,
            NAME,
            AREA,
            LEGACY_AREA,
            LON,
            LAT,
            Column("updated", "datetime", _text("Cập nhật", "Updated", "更新")),
        ),
        rows=rows,
        frequency="continuous",
        keywords=(entity_type.type, "register"),
        geometry=True,
    )


def daily_dataset(entity_type: EntityType) -> Dataset:
    def rows(conn: Connection, period: Period) -> Iterator[dict[str, Any]]:
        start_ms, end_ms = period.bounds_ms()
        query = (
            select(
                entities.c.urn,
                metrics.c.name,
                metrics.c.unit,
                rollups.c.bucket_ms,
                rollups.c.count.label("readings"),
                rollups.c.sum,
                rollups.c.min,
                rollups.c.max,
            )
            .select_from(
                rollups.join(entities, entities.c.id == rollups.c.entity_id).join(
                    metrics, metrics.c.id == rollups.c.metric_id
                )
            )
            .where(
                and_(
                    rollups.c.grain == "d",
                    entities.c.type == entity_type.type,
                    rollups.c.bucket_ms >= start_ms,
                    rollups.c.bucket_ms < end_ms,
                )
            )
            .order_by(rollups.c.bucket_ms, entities.c.urn, metrics.c.name)
        )
        for row in conn.execute(query):
            local = datetime.fromtimestamp((row.bucket_ms + VIETNAM_OFFSET_MS) / 1000, UTC)
            yield {
                "urn": row.urn,
                "metric": row.name,
                "unit": row.unit,
                "day": date(local.year, local.month, local.day),
                "count": row.readings,
                "mean": row.sum / row.readings if row.readings else None,
                "min": row.min,
                "max": row.max,
            }

    title = entity_type.title
    return Dataset(
        id=f"daily.{_slug(entity_type.type)}",
        title=_text(
            f"{title['vi']} — số liệu theo ngày",
            f"{title['en']} — daily figures",
            f"{title['ja']} — 日別の値",
        ),
        description=_text(
            "Mỗi chỉ số của mỗi thiết bị theo ngày (giờ Việt Nam, UTC+7): số lần đo, trung bình, nhỏ nhất, lớn nhất.",
            "Each metric of each device per day (Vietnam time, UTC+7): readings, mean, minimum, maximum.",
            "各機器の各指標の日別値(ベトナム時間 UTC+7):件数、平均、最小、最大。",
        ),
        columns=(
            URN,
            Column("metric", "string", _text("Chỉ số", "Metric", "指標")),
            Column("unit", "string", _text("Đơn vị", "Unit", "単位")),
            Column("day", "date", _text("Ngày", "Day", "日")),
            Column("count", "integer", _text("Số lần đo", "Readings", "件数")),
            Column("mean", "number", _text("Trung bình", "Mean", "平均")),
            Column("min", "number", _text("Nhỏ nhất", "Minimum", "最小")),
            Column("max", "number", _text("Lớn nhất", "Maximum", "最大")),
        ),
        rows=rows,
        frequency="daily",
        keywords=(entity_type.type, "time series"),
    )


def _alert_rows(conn: Connection, period: Period) -> Iterator[dict[str, Any]]:
    start_ms, end_ms = period.bounds_ms()
    query = (
        select(alerts)
        .where(alerts.c.raised_ms >= start_ms, alerts.c.raised_ms < end_ms)
        .order_by(alerts.c.raised_ms, alerts.c.id)
    )
    for row in conn.execute(query):
        yield {
            "alert_id": row.id,
            "category": row.category,
            "sub_category": row.sub_category,
            "severity": row.severity,
            "source": row.source,
            "source_name": row.source_name,
            "area_code": row.area_code,
            "lon": row.lon,
            "lat": row.lat,
            "title": (row.title or {}).get("vi"),
            "raised": row.raised_ms,
            "cleared": row.cleared_ms,
        }


ALERTS = Dataset(
    id="alerts",
    title=_text("Cảnh báo vận hành", "Operational alerts", "運用アラート"),
    description=_text(
        "Các cảnh báo do trung tâm điều hành phát hiện: loại, mức độ, nơi, thời điểm phát sinh và kết thúc.",
        "Alerts the operations centre raised: kind, severity, place, when raised and cleared.",
        "運用センターが検知したアラート:種類、重大度、場所、発生・解除時刻。",
    ),
    columns=(
        Column("alert_id", "integer", _text("Số cảnh báo", "Alert number", "アラート番号")),
        Column("category", "string", _text("Nhóm", "Category", "分類")),
        Column("sub_category", "string", _text("Loại", "Kind", "種類")),
        Column("severity", "string", _text("Mức độ", "Severity", "重大度")),
        Column("source", "string", _text("Nguồn (URN)", "Source (URN)", "発生元 (URN)")),
        Column("source_name", "string", _text("Tên nguồn", "Source name", "発生元の名称")),
        AREA,
        LON,
        LAT,
        Column("title", "string", _text("Nội dung", "Title", "内容")),
        Column("raised", "datetime", _text("Phát sinh", "Raised", "発生")),
        Column("cleared", "datetime", _text("Kết thúc", "Cleared", "解除")),
    ),
    rows=_alert_rows,
    frequency="continuous",
    keywords=("alerts", "operations"),
    geometry=True,
)


def kernel_datasets(entity_types: Iterable[EntityType]) -> list[Dataset]:
    found: list[Dataset] = []
    for entity_type in entity_types:
        found += [register_dataset(entity_type), daily_dataset(entity_type)]
    return [*found, ALERTS]
