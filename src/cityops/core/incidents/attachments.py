"""Files attached to incidents: stored under the configured folder with a generated name, at most
`max_bytes`, their type sniffed from the bytes (never trusted from the client); the uploaded filename is
sanitised and kept only as metadata."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

# Photos, documents, short videos and voice recordings: what an officer on site sends. No archives, no
# executables, nothing a browser would run.
ALLOWED_TYPES = frozenset(
    (
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/avif",
        "image/bmp",
        "image/tiff",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/3gpp",
        "video/x-m4v",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/ogg",
        "audio/x-wav",
    )
)
CHUNK = 1024 * 1024
MAX_FILE_BYTES = 10 * 1024 * 1024  # the most `max_attachment_bytes` may be set to
MULTIPART_OVERHEAD = 64 * 1024  # part headers, boundaries and small fields beside the files


def multipart_limit(files: int) -> int:
    """The largest multipart request body carrying `files` files of at most `MAX_FILE_BYTES`."""
    return files * MAX_FILE_BYTES + MULTIPART_OVERHEAD


SNIFF_BYTES = 8192
NAME_LIMIT = 120


class AttachmentError(ValueError):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class SavedFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def sanitise_filename(name: str, limit: int = NAME_LIMIT) -> str:
    """A display name safe anywhere: no folders, no control or shell characters, no leading dot, at most
    `limit` characters (the extension kept); letters of every script (Vietnamese included) survive."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch if ch.isalnum() or ch in " ._-()" else "_" for ch in name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > limit:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            name = stem[: limit - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:limit].rstrip(" .")
    return name or "attachment"


class AttachmentFolder:
    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def path_of(self, stored_name: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}\.[a-z0-9]{1,5}", stored_name):
            raise ValueError(f"not a stored attachment name: {stored_name!r}")
        return self.folder / stored_name

    def save(self, source: BinaryIO, original_name: str) -> SavedFile:
        """Copy the upload into the folder; refuse it (and keep nothing) when too large, empty or of a type
        that is not allowed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".upload-{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with partial.open("wb") as target:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise AttachmentError(
                            413, "file", f"is larger than the limit of {self.max_bytes} bytes"
                        )
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    digest.update(chunk)
                    target.write(chunk)
            if size == 0:
                raise AttachmentError(422, "file", "is empty")
            kind = filetype.guess(head)
            if kind is None or kind.mime not in ALLOWED_TYPES:
                found = "unrecognised" if kind is None else kind.mime
                raise AttachmentError(
                    415, "file", f"content is {found}; allowed: photos, PDF/office documents, video, audio"
                )
            stored_name = f"{uuid.uuid4().hex}.{kind.extension}"
            os.replace(partial, self.folder / stored_name)
        finally:
            partial.unlink(missing_ok=True)
        return SavedFile(stored_name, sanitise_filename(original_name), kind.mime, size, digest.hexdigest())

    def remove(self, stored_name: str) -> None:
        self.path_of(stored_name).unlink(missing_ok=True)
