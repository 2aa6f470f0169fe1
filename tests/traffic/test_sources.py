"""Video files through PyAV: sampling, resizing, a resolution change mid-stream, and every way a file can
be bad ending in a typed error that names the source."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from cityops.traffic.demo.synthetic import SyntheticScene, random_scene, write_video
from cityops.traffic.video.sources import (
    InvalidStreamError,
    SourceConfig,
    SourceUnreachableError,
    TruncatedStreamError,
    VideoSource,
    redact,
)


def read_all(url: str | Path, **options: object) -> tuple[VideoSource, list[tuple[float, tuple[int, ...]]]]:
    source = VideoSource(SourceConfig(str(url), **options))  # type: ignore[arg-type]
    return source, [(frame.time_s, frame.image.shape) for frame in source.frames()]


def test_frames_are_sampled_to_the_configured_rate(scene_video: Path, scene: SyntheticScene) -> None:
    source, frames = read_all(scene_video, sample_fps=5.0)
    expected = scene.duration_s * 5
    assert abs(len(frames) - expected) <= 1
    gaps = np.diff([t for t, _ in frames])
    assert np.allclose(gaps, 0.2, atol=0.041)  # whole 25 fps frames: 0.2 s apart, within one frame
    assert source.stats.decoded == round(scene.duration_s * scene.fps)
    assert source.stats.emitted == len(frames)


def test_every_frame_when_no_rate_is_set(scene_video: Path, scene: SyntheticScene) -> None:
    _, frames = read_all(scene_video, sample_fps=None)
    assert len(frames) == round(scene.duration_s * scene.fps)
    assert frames[0][1] == (scene.height, scene.width, 3)


def test_frames_scaled_to_a_width_keep_the_aspect(scene_video: Path) -> None:
    source = VideoSource(SourceConfig(str(scene_video), sample_fps=2.0, scale_width=320))
    frame = next(iter(source.frames()))
    assert frame.image.shape == (180, 320, 3)
    assert frame.grey.shape == (180, 320)
    # The luma plane and the BGR picture show the same scene.
    from_bgr = frame.image.astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
    assert np.abs(from_bgr - frame.grey).mean() < 6


def _write_ts(path: Path, width: int, height: int) -> None:
    write_video(SyntheticScene((), width=width, height=height, duration_s=2.0, occluder=None), path)


def test_a_resolution_change_mid_stream_is_followed(tmp_path: Path) -> None:
    """Two MPEG-TS segments of different sizes back to back, as a camera reconfigured live sends them."""
    first, second, joined = tmp_path / "a.ts", tmp_path / "b.ts", tmp_path / "joined.ts"
    _write_ts(first, 640, 360)
    _write_ts(second, 320, 240)
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    source, frames = read_all(joined, sample_fps=5.0)
    shapes = [shape for _, shape in frames]
    assert shapes[0] == (360, 640, 3)
    assert shapes[-1] == (240, 320, 3)
    assert source.stats.resolution_changes == 1
    times = [t for t, _ in frames]
    assert times == sorted(times)
    assert abs(len(frames) - 20) <= 2  # both segments sampled, although the second restarts its clock


def test_garbage_bytes_are_an_invalid_stream(tmp_path: Path) -> None:
    path = tmp_path / "camera.mp4"
    path.write_bytes(os.urandom(64_000))
    with pytest.raises(InvalidStreamError, match=r"camera\.mp4: not a readable video"):
        read_all(path)


def test_an_empty_file_is_an_invalid_stream(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(InvalidStreamError, match=r"empty\.mp4: the file is empty \(0 bytes\)"):
        read_all(path)


def test_a_missing_file_is_unreachable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreachableError, match="no such file"):
        read_all(tmp_path / "nowhere.mp4")


def test_audio_only_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(InvalidStreamError, match="no video stream"):
        read_all(path)


def test_an_mp4_cut_before_its_index_is_invalid(scene_video: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(
        scene_video.read_bytes()[: scene_video.stat().st_size // 2]
    )  # the moov index is at the end
    with pytest.raises(InvalidStreamError, match=r"cut\.mp4"):
        read_all(cut)


def test_a_truncated_matroska_file_gives_its_frames_then_says_so(tmp_path: Path) -> None:
    whole = write_video(random_scene(seed=5, duration_s=6.0, vehicles_per_lane=2), tmp_path / "whole.mkv")
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    source = VideoSource(SourceConfig(str(cut), sample_fps=5.0))
    frames = []
    with pytest.raises(TruncatedStreamError, match=r"cut\.mkv: the file ends at .* of the 6\.0 s"):
        frames.extend(source.frames())
    assert 5 <= len(frames) < 30


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"url": " "}, "url"),
        ({"sample_fps": 0}, "sample_fps"),
        ({"transport": "http"}, "transport"),
        ({"open_timeout_s": 0}, "open_timeout_s"),
        ({"read_timeout_s": -1}, "read_timeout_s"),
        ({"backoff_initial_s": 0}, "backoff_initial_s"),
        ({"backoff_max_s": 0.1}, "backoff_max_s"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"scale_width": 8}, "scale_width"),
        ({"listen": True}, "listen"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, object], field: str) -> None:
    settings: dict[str, object] = {"url": "clip.mp4", **options}
    with pytest.raises(ValueError, match=f"^{field}: "):
        SourceConfig(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/Streaming/101", "rtsp://admin:***@10.0.0.5:554/Streaming/101"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        ("/var/video/clip.mp4", "/var/video/clip.mp4"),
    ],
)
def test_passwords_never_reach_messages(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_live_and_file_urls_are_told_apart() -> None:
    assert SourceConfig("rtsp://cam/1").reconnects
    assert not SourceConfig("C:/video/clip.mp4").is_live
    assert not SourceConfig("/video/clip.mp4").reconnects
    assert SourceConfig("/video/clip.mp4", reconnect=True).reconnects
