"""Which detector weights a worker opens, and the one-line errors when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityops.traffic.workers.runner import WorkerError, _Detectors


def test_a_bad_precision_setting_is_a_worker_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYOPS_DETECTOR_PRECISION", "fp16")
    with pytest.raises(WorkerError, match="CITYOPS_DETECTOR_PRECISION"):
        _Detectors(None).get()


def test_missing_int8_weights_say_how_to_make_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CITYOPS_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("CITYOPS_DETECTOR_PRECISION", "int8")
    with pytest.raises(WorkerError, match="--calibration"):
        _Detectors(None).get()
    monkeypatch.setenv("CITYOPS_DETECTOR_PRECISION", "fp32")
    with pytest.raises(WorkerError, match=r"run `cityops traffic models` first"):
        _Detectors(None).get()
