"""`cityops serve --role` needs a cluster bus; the settings check the bus URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cityops.cli import app
from cityops.config import Settings


def test_a_role_without_a_bus_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYOPS_BUS_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--role", "recorder"])
    assert result.exit_code == 2
    assert "needs bus_url" in result.output


@pytest.mark.parametrize("url", ["http://127.0.0.1:4222", "nats://a:4222,", "nats://a b:4222"])
def test_a_bus_url_that_is_not_nats_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="bus_url"):
        Settings(bus_url=url)


def test_several_nats_servers_are_accepted() -> None:
    assert Settings(bus_url="nats://10.0.0.1:4222,nats://10.0.0.2:4222").bus_url is not None
