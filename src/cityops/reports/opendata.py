"""The citizens' reports the city publishes as open data: approved reports and their progress, exactly the
public board's fields — never a contact detail (the kernel's personal-data filter also screens the texts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from cityops.core.opendata import Column, Dataset, Period
from cityops.reports.desk import approved_reports
from cityops.reports.routing import RoutingTable
from cityops.reports.schema import reports


def _rows(conn: Connection, period: Period) -> Iterator[dict[str, Any]]:
    table = RoutingTable.load()
    start_ms, end_ms = period.bounds_ms()
    query = approved_reports().where(reports.c.created_ms >= start_ms, reports.c.created_ms < end_ms)
    for row in conn.execute(query.order_by(reports.c.id)):
        category = table.category(row.service_code)
        state = row.incident_state
        yield {
            "report_id": row.id,
            "category": row.service_code,
            "category_name": category.vi if category else None,
            "description": row.description,
            "address": row.address,
            "lon": row.lon,
            "lat": row.lat,
            "area_code": row.area_code,
            "area_name": row.area_name,
            "agency": row.agency,
            "status": "closed" if state in ("resolved", "closed") else "open",
            "progress": state,
            "requested": row.created_ms,
            "updated": row.incident_updated_ms,
        }


def _column(name: str, kind: Any, vi: str, en: str, ja: str) -> Column:
    return Column(name, kind, {"vi": vi, "en": en, "ja": ja})


REPORTS = Dataset(
    id="reports.requests",
    title={
        "vi": "Phản ánh hiện trường đã duyệt",
        "en": "Approved citizens' reports",
        "ja": "承認済みの市民通報",
    },
    description={
        "vi": "Phản ánh của người dân đã được duyệt công khai, cơ quan xử lý và tiến độ; không có thông tin liên hệ.",
        "en": "Citizens' reports approved for publication, the agency in charge and progress; no contact details.",
        "ja": "公開が承認された市民通報、担当機関と進捗。連絡先は含みません。",
    },
    columns=(
        _column("report_id", "integer", "Số phản ánh", "Report number", "通報番号"),
        _column("category", "string", "Mã lĩnh vực", "Category code", "分類コード"),
        _column("category_name", "string", "Lĩnh vực", "Category", "分類"),
        _column("description", "string", "Nội dung", "Description", "内容"),
        _column("address", "string", "Địa điểm", "Place", "場所"),
        _column("lon", "number", "Kinh độ", "Longitude", "経度"),
        _column("lat", "number", "Vĩ độ", "Latitude", "緯度"),
        _column("area_code", "string", "Mã phường/xã", "Ward code", "区・坊コード"),
        _column("area_name", "string", "Phường/xã", "Ward", "区・坊"),
        _column("agency", "string", "Cơ quan xử lý", "Agency in charge", "担当機関"),
        _column("status", "string", "Trạng thái", "Status", "状態"),
        _column("progress", "string", "Tiến độ", "Progress", "進捗"),
        _column("requested", "datetime", "Thời điểm gửi", "Sent", "送信日時"),
        _column("updated", "datetime", "Cập nhật", "Updated", "更新"),
    ),
    rows=_rows,
    frequency="continuous",
    keywords=("Open311", "citizens' reports", "phản ánh hiện trường"),
    geometry=True,
)
