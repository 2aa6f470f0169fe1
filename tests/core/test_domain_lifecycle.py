"""A domain's run-time state: `setup` once when the server starts, kept in `kernel.states`, read by its
indicator formulas, handed to `stop` when the server stops; a failing `stop` does not keep the others
from stopping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cityops.api.app import create_app
from cityops.config import Settings
from cityops.core.domain import Domain
from cityops.core.indicators import Indicator, Inputs
from cityops.core.kernel import Kernel


class Counter:
    def __init__(self) -> None:
        self.value = 7.0
        self.flushed = False


def test_setup_state_reaches_formulas_and_stop(
    kernel: Kernel, settings: Settings, tmp_path: Path, auth_headers: dict[str, str]
) -> None:
    calls: list[str] = []

    def setup(_kernel: Kernel) -> Counter:
        calls.append("setup")
        return Counter()

    def stop(_kernel: Kernel, state: Any) -> None:
        calls.append("stop")
        state.flushed = True

    def failing_stop(_kernel: Kernel, _state: Any) -> None:
        calls.append("failing-stop")
        raise RuntimeError("disk full")

    def formula(inputs: Inputs) -> float | None:
        state = inputs.states.get("counting")
        return state.value if isinstance(state, Counter) else None

    indicator = Indicator("counting.value", {"vi": "Đếm", "en": "Count", "ja": "数"}, "", "higher", formula)
    counting = Domain("counting", tmp_path, indicators=(indicator,), setup=setup, stop=stop)
    broken = Domain("broken", tmp_path, setup=lambda _k: object(), stop=failing_stop)
    kernel.domains = [broken, *kernel.domains, counting]
    kernel.indicators = [*kernel.indicators, indicator]

    app = create_app(kernel, settings)
    state = kernel.states["counting"]
    assert isinstance(state, Counter)
    with TestClient(app, headers=auth_headers) as client:
        shown = {i["id"]: i["value"] for i in client.get("/api/indicators").json()}
        assert shown["counting.value"] == 7.0
    assert calls.count("setup") == 1
    assert "failing-stop" in calls and "stop" in calls  # the broken domain did not stop the other
    assert state.flushed
    assert "counting" not in kernel.states


def test_a_state_put_in_before_start_is_kept(kernel: Kernel, settings: Settings, tmp_path: Path) -> None:
    mine = Counter()
    counting = Domain("counting", tmp_path, setup=lambda _k: Counter())
    kernel.domains = [*kernel.domains, counting]
    kernel.states["counting"] = mine
    create_app(kernel, settings)
    assert kernel.states["counting"] is mine
