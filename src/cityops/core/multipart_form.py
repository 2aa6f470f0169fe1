"""Reading a multipart form whose files each have a size limit, counted while the body streams in.

Starlette's parser limits the number of parts and the size of text fields but spools a file part of any
size (up to the route's body limit). Here each file part's bytes are counted as they arrive: the first
one past `max_file_bytes` stops the reading there (the rest of the body is never read) with `FileTooLarge`
naming its field, so an oversized upload costs the server no more than the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager

from starlette.datastructures import FormData, Headers
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request


class FileTooLarge(ValueError):
    def __init__(self, field: str, filename: str, limit: int) -> None:
        super().__init__(f"{field}: file {filename!r} is larger than the limit of {limit} bytes")
        self.field = field
        self.filename = filename
        self.limit = limit


class FormUnreadable(ValueError):
    """Not multipart/form-data, or not a well-formed one (the reason in the message)."""


class _LimitedParser(MultiPartParser):
    def __init__(self, headers: Headers, request: Request, max_file_bytes: int, **limits: int) -> None:
        super().__init__(headers, request.stream(), **limits)
        self.max_file_bytes = max_file_bytes
        self._file_bytes = 0

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        self._file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        upload = self._current_part.file
        if upload is not None:
            self._file_bytes += end - start
            if self._file_bytes > self.max_file_bytes:
                raise FileTooLarge(self._current_part.field_name, upload.filename or "", self.max_file_bytes)
        super().on_part_data(data, start, end)


@asynccontextmanager
async def limited_form(
    request: Request, *, max_file_bytes: int, max_files: int, max_fields: int
) -> AsyncIterator[FormData]:
    """The request's form (multipart, or URL-encoded: no files), its files closed on leaving; raises
    `FileTooLarge` as soon as one file passes `max_file_bytes`, `FormUnreadable` for a body that is not
    a well-formed form."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    parser: MultiPartParser | FormParser
    if media_type == "multipart/form-data":
        parser = _LimitedParser(
            request.headers, request, max_file_bytes, max_files=max_files, max_fields=max_fields
        )
    elif media_type == "application/x-www-form-urlencoded":
        parser = FormParser(request.headers, request.stream(), max_fields=max_fields)
    else:
        raise FormUnreadable("send multipart/form-data")
    try:
        async with aclosing(parser.stream):
            form = await parser.parse()
    except MultiPartException as exc:
        raise FormUnreadable(exc.message) from None
    try:
        yield form
    finally:
        await form.close()
