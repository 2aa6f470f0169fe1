"""The province's published figures that cityops ships as its first real data: Bình Dương, the first
nine months of 2021 against the same period of 2020, and Japan's standing among the investing countries.
They are stored as published (a change where only the change was published, "over"/"about" where the
source said so) and never marked simulated."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from cityops.economy.figures import NewFigure, in_force, store
from cityops.economy.periods import Period
from cityops.economy.schema import country_totals

SOURCE = (
    "UBND tỉnh Bình Dương — tình hình kinh tế – xã hội 9 tháng năm 2021, số liệu công bố trên báo chí "
    "(Bình Dương People's Committee, 9-month 2021 figures as published in the press)"
)
ACTOR = "economy.published"
NINE_MONTHS_2021 = Period.cumulative(2021, 9)

FIGURES = (
    NewFigure("iip", NINE_MONTHS_2021, None, 2.93, source=SOURCE),
    NewFigure("retail", NINE_MONTHS_2021, None, 1.9, source=SOURCE),
    NewFigure("exports", NINE_MONTHS_2021, None, 26.7, source=SOURCE),
    NewFigure("imports", NINE_MONTHS_2021, None, 34.0, source=SOURCE),
    NewFigure("fdi_attracted", NINE_MONTHS_2021, 1500.0, None, qualifier="over", source=SOURCE),
    # After the reopening of October 2021.
    NewFigure("firms_operating", Period.month(2021, 10), 85.0, None, qualifier="about", source=SOURCE),
)

# Japan: 2nd of 65 investing countries and territories, 327 projects, 5.7 bn USD registered.
JAPAN = {
    "country": "JP",
    "as_of": "2021",
    "projects": 327,
    "registered_musd": 5700.0,
    "rank": 2,
    "of_countries": 65,
    "source": SOURCE,
    "simulated": False,
}


def load(conn: Connection) -> None:
    """Store the published figures that are not there yet (a figure already stored, perhaps revised by
    an operator since, is left as it is)."""
    present = in_force(conn, ((f.series_code, f.period) for f in FIGURES))
    missing = [f for f in FIGURES if (f.series_code, f.period) not in present]
    if missing:
        store(conn, missing, ACTOR, revise=False)
    key = (country_totals.c.country == JAPAN["country"]) & (country_totals.c.as_of == JAPAN["as_of"])
    if conn.execute(select(country_totals.c.country).where(key)).first() is None:
        conn.execute(insert(country_totals), [JAPAN])
