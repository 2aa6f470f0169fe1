"""GET /api/agencies: the agencies the domains name, and every code already in use, by name."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import insert

from cityops.core.kernel import Kernel
from cityops.core.schema_operations import incidents


def test_agencies_by_name_with_the_codes_in_use(client: TestClient, kernel: Kernel) -> None:
    with kernel.engine.begin() as conn:
        conn.execute(
            insert(incidents).values(
                title="Ùn tắc",
                state="assigned",
                severity="high",
                category="traffic",
                agency="doi-csgt-so-3",
                created_ms=0,
                updated_ms=0,
            )
        )
    listed = client.get("/api/agencies").json()
    by_code = {agency["code"]: agency["name"] for agency in listed}
    assert by_code["so-xay-dung"] == {"vi": "Sở Xây dựng", "en": "Department of Construction", "ja": "建設局"}
    assert by_code["doi-csgt-so-3"]["vi"] == "doi-csgt-so-3"  # in use, named by no domain: as itself
    names = [agency["name"]["vi"].casefold() for agency in listed]
    assert names == sorted(names)
