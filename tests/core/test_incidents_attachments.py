"""Attachments: the type comes from the bytes, the size is capped, the stored name is generated, and the
uploaded filename is sanitised into harmless metadata."""

from __future__ import annotations

import io
import struct
import unicodedata
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.core.incidents.attachments import (
    NAME_LIMIT,
    AttachmentError,
    AttachmentFolder,
    sanitise_filename,
)


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG image (grey pixels), built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_a_photo_is_stored_under_a_generated_name(tmp_path: Path) -> None:
    folder = AttachmentFolder(tmp_path, 10 * 1024 * 1024)
    image = png()
    saved = folder.save(io.BytesIO(image), "../../Ảnh hiện trường.exe.png")
    assert saved.content_type == "image/png"
    assert saved.original_name == "Ảnh hiện trường.exe.png"
    assert saved.stored_name.endswith(".png") and len(saved.stored_name) == 36
    assert folder.path_of(saved.stored_name).read_bytes() == image
    assert [p.name for p in tmp_path.iterdir()] == [saved.stored_name]


def test_the_declared_name_does_not_decide_the_type(tmp_path: Path) -> None:
    folder = AttachmentFolder(tmp_path, 1024)
    pdf = folder.save(io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "photo.jpg")
    assert (pdf.content_type, pdf.stored_name[-4:]) == ("application/pdf", ".pdf")
    for content in (b"<html><script>alert(1)</script></html>", b"MZ\x90\x00" + b"\x00" * 100):
        with pytest.raises(AttachmentError) as refused:
            folder.save(io.BytesIO(content), "photo.jpg")
        assert (refused.value.status, refused.value.field) == (415, "file")
    assert [p.name for p in tmp_path.iterdir()] == [pdf.stored_name]


def test_too_large_or_empty_files_leave_nothing_behind(tmp_path: Path) -> None:
    image = png(64, 64)
    folder = AttachmentFolder(tmp_path, len(image) - 1)
    with pytest.raises(AttachmentError) as too_large:
        folder.save(io.BytesIO(image), "big.png")
    assert too_large.value.status == 413
    with pytest.raises(AttachmentError) as empty:
        folder.save(io.BytesIO(b""), "empty.png")
    assert empty.value.status == 422
    assert list(tmp_path.iterdir()) == []
    assert AttachmentFolder(tmp_path, len(image)).save(io.BytesIO(image), "fits.png").size == len(image)


def test_stored_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    folder = AttachmentFolder(tmp_path, 1024)
    with pytest.raises(ValueError, match="not a stored attachment name"):
        folder.path_of("../cityops.sqlite")


@given(st.text(max_size=400))
def test_sanitised_names_are_harmless_and_stable(name: str) -> None:
    clean = sanitise_filename(name)
    assert 0 < len(clean) <= NAME_LIMIT
    assert "/" not in clean and "\\" not in clean
    assert not clean.startswith(".") and clean == clean.strip()
    assert all(unicodedata.category(ch)[0] != "C" for ch in clean)
    assert sanitise_filename(clean) == clean


def test_vietnamese_names_survive_and_long_names_keep_their_extension() -> None:
    assert sanitise_filename("Biên bản hiện trường 23-11.pdf") == "Biên bản hiện trường 23-11.pdf"
    assert sanitise_filename("C:\\Users\\An\\Desktop\\ảnh.jpg") == "ảnh.jpg"
    assert sanitise_filename("rm -rf $(ls); echo `x`.png") == "rm -rf _(ls)_ echo _x_.png"
    long = sanitise_filename("đường " * 100 + ".jpeg")
    assert long.endswith(".jpeg") and len(long) <= NAME_LIMIT
    assert sanitise_filename("...") == "attachment"
