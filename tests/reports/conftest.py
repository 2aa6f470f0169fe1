"""Reports tests: attachments in the test's own folder, and `headers_for(role, agency_code, area_codes)`."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from pathlib import Path

import pytest

from cityops.config import Settings
from cityops.core.access.accounts import NewUser, Role, create_user
from cityops.core.access.tokens import issue_token
from cityops.core.incidents.desk import IncidentSettings
from cityops.core.kernel import Kernel

HeadersFor = Callable[..., dict[str, str]]
# Phường Phú Cường (legacy:25747, Thành phố Thủ Dầu Một legacy:718); Dĩ An is legacy:724.
THU_DAU_MOT = (10.9804, 106.6517)
DI_AN = (10.9068, 106.7690)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


@pytest.fixture
def attachments(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture
def settings(database_url: str, node_modules: Path, attachments: Path) -> Settings:
    return Settings(
        database_url=database_url,
        node_modules=node_modules,
        incidents=IncidentSettings(attachments_dir=attachments),
    )


@pytest.fixture
def headers_for(kernel: Kernel) -> HeadersFor:
    serial = count(1)

    def make(role: Role, agency_code: str | None = None, area_codes: tuple[str, ...] = ()) -> dict[str, str]:
        name = f"reports-{role.value.replace('_', '-')}-{next(serial)}"
        with kernel.engine.begin() as conn:
            create_user(conn, NewUser(name, role, agency_code=agency_code, area_codes=area_codes), "tests")
            issued = issue_token(conn, "tests", "user", name, actor="tests")
        return {"Authorization": f"Bearer {issued.secret}"}

    return make
