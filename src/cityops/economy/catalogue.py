"""The series the domain knows from the start (what the province's statistics office publishes every
month) and the operator's own series (`POST /api/economy/series`)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, insert, select

from cityops.core import audit
from cityops.core.domain import LANGUAGES, Text
from cityops.core.text_limits import Key, Label
from cityops.economy.schema import series
from cityops.economy.units import UNITS

PROVINCE = "legacy:74"  # Bình Dương (pre-2025 province code 74)
STATISTICS_OFFICE = "Cục Thống kê tỉnh Bình Dương"
INVESTMENT_OFFICE = "Sở Kế hoạch và Đầu tư tỉnh Bình Dương"
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class Series:
    code: str
    title: Text
    unit: str
    source: str
    period_type: str = "month"
    area_code: str = PROVINCE
    additive: bool = True
    builtin: bool = False

    @classmethod
    def from_row(cls, row: Any) -> Series:
        return cls(
            row.code,
            dict(row.title),
            row.unit,
            row.source,
            row.period_type,
            row.area_code,
            row.additive,
            row.builtin,
        )

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title if lang is None else self.title.get(lang, self.code),
            "unit": self.unit,
            "unit_title": UNITS[self.unit] if lang is None else UNITS[self.unit][lang],
            "source": self.source,
            "period_type": self.period_type,
            "area_code": self.area_code,
            "additive": self.additive,
            "builtin": self.builtin,
        }


def _builtin(code: str, vi: str, en: str, ja: str, unit: str, additive: bool = True) -> Series:
    return Series(
        code, {"vi": vi, "en": en, "ja": ja}, unit, STATISTICS_OFFICE, additive=additive, builtin=True
    )


BUILTIN = (
    _builtin(
        "iip",
        "Chỉ số sản xuất công nghiệp (IIP)",
        "Index of industrial production (IIP)",
        "鉱工業生産指数（IIP）",
        "index",
        additive=False,
    ),
    _builtin(
        "retail",
        "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng",
        "Retail sales of goods and consumer services",
        "小売売上高・消費者サービス収入",
        "bn_vnd",
    ),
    _builtin("exports", "Kim ngạch xuất khẩu", "Exports", "輸出額", "mn_usd"),
    _builtin("imports", "Kim ngạch nhập khẩu", "Imports", "輸入額", "mn_usd"),
    _builtin("fdi_new", "Vốn FDI đăng ký cấp mới", "FDI registered, new projects", "FDI新規登録額", "mn_usd"),
    _builtin(
        "fdi_additional",
        "Vốn FDI đăng ký điều chỉnh tăng thêm",
        "FDI registered, additional capital",
        "FDI増資登録額",
        "mn_usd",
    ),
    _builtin(
        "fdi_attracted",
        "Vốn FDI thu hút (cấp mới và tăng thêm)",
        "FDI attracted (new and additional)",
        "FDI誘致額（新規・増資）",
        "mn_usd",
    ),
    _builtin("fdi_disbursed", "Vốn FDI giải ngân", "FDI disbursed", "FDI実行額", "mn_usd"),
    _builtin(
        "firms_operating",
        "Tỷ lệ doanh nghiệp hoạt động trở lại",
        "Share of firms back in operation",
        "操業を再開した企業の割合",
        "pct",
        additive=False,
    ),
)


class SeriesIn(BaseModel):
    """An operator-defined series."""

    model_config = ConfigDict(extra="forbid")

    code: Key = Field(description="lower-case letters, digits and _ (e.g. 'tourism_revenue')")
    title: dict[str, Label] = Field(description="{vi, en, ja}; vi required")
    unit: Label
    source: str = Field(min_length=1, max_length=300)
    period_type: Key = "month"
    area_code: Key = PROVINCE
    additive: bool = Field(description="true when a cumulative period is the sum of its months")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE_PATTERN.match(value):
            raise ValueError("use 2–64 lower-case letters, digits or _, starting with a letter")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language(s) {unknown}; use {list(LANGUAGES)}")
        if not value.get("vi", "").strip():
            raise ValueError("the Vietnamese title (vi) is required")
        return {lang: value.get(lang) or value["vi"] for lang in LANGUAGES}

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"unknown unit {value!r}; use one of {sorted(UNITS)}")
        return value

    @field_validator("period_type")
    @classmethod
    def _period_type(cls, value: str) -> str:
        if value not in ("month", "year"):
            raise ValueError("use 'month' (monthly and cumulative values) or 'year'")
        return value

    def to_series(self) -> Series:
        return Series(
            self.code, self.title, self.unit, self.source, self.period_type, self.area_code, self.additive
        )


def load_builtin(conn: Connection) -> None:
    """Store the built-in series that are missing (an operator's edits are left alone)."""
    known = set(conn.scalars(select(series.c.code)))
    now = int(time.time() * 1000)
    rows = [_row(s, now) for s in BUILTIN if s.code not in known]
    if rows:
        conn.execute(insert(series), rows)


def create(conn: Connection, new: Series, actor: str) -> bool:
    """Add an operator's series; False if the code is taken."""
    if conn.execute(select(series.c.code).where(series.c.code == new.code)).first() is not None:
        return False
    conn.execute(insert(series), [_row(new, int(time.time() * 1000))])
    audit.record(conn, actor, "economy_series.create", f"economy_series:{new.code}", None, new.to_dict())
    return True


def all_series(conn: Connection) -> dict[str, Series]:
    """Every series: the built-in ones in the statistics office's order, then the operator's by code."""
    order = {s.code: position for position, s in enumerate(BUILTIN)}
    found = [Series.from_row(row) for row in conn.execute(select(series))]
    found.sort(key=lambda s: (order.get(s.code, len(order)), s.code))
    return {s.code: s for s in found}


def _row(s: Series, now: int) -> dict[str, Any]:
    return {
        "code": s.code,
        "title": s.title,
        "unit": s.unit,
        "source": s.source,
        "period_type": s.period_type,
        "area_code": s.area_code,
        "additive": s.additive,
        "builtin": s.builtin,
        "created_ms": now,
    }
