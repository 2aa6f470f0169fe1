"""The reports API under `/api/reports`.

Public, no sign-in (`/public/...`): the form page, the Open311-like API (`services`, `requests`) and the
progress board of approved reports — never any contact detail. Staff: the moderation queue, one report
with its contact and files, edit, approve, refuse. Agency officers see and act on the reports of their
agency and areas only (404 outside).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData, UploadFile

from cityops.core import areas
from cityops.core.access.accounts import Principal
from cityops.core.incidents.attachments import multipart_limit, sanitise_filename
from cityops.core.kernel import Kernel
from cityops.core.multipart_form import FileTooLarge, FormUnreadable, limited_form
from cityops.core.text_limits import Key, Prose
from cityops.reports.desk import ReportDesk
from cityops.reports.errors import ReportError, TooManyReports
from cityops.reports.pages import render
from cityops.reports.routing import RoutingTable
from cityops.reports.settings import ReportSettings
from cityops.reports.submission import MAX_FILES, Submission, Upload, parse_coordinate
from cityops.reports.throttle import SubmissionThrottle

FORM_COOKIE = "cityops_report_form"
FORM_BODY_LIMIT = multipart_limit(MAX_FILES)
PUBLIC = "/public"
MIB = 1024 * 1024
LANGS = ("vi", "en", "ja")


def acting(request: Request) -> Principal:
    """The signed-in person the API layer checked (the anonymous viewer may not see contact details)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal) or principal.anonymous:
        raise ReportError(401, "authorization", "sign_in")
    return principal


def language(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def read_submission(form: FormData) -> Submission:
    def text(name: str) -> str | None:
        value = form.get(name)
        return value if isinstance(value, str) else None

    uploads = [
        Upload(item.file, item.filename or "")
        for item in form.getlist("media")
        if isinstance(item, UploadFile) and (item.filename or item.size)
    ]
    return Submission(
        service_code=text("service_code") or "",
        description=text("description") or "",
        lat=parse_coordinate("lat", text("lat"), -90, 90),
        lon=parse_coordinate("long", text("long"), -180, 180),
        address=text("address_string"),
        contact_name=text("name"),
        contact_email=text("email"),
        contact_phone=text("phone"),
        files=uploads,
    )


@asynccontextmanager
async def form_of(request: Request, max_file_bytes: int) -> AsyncIterator[FormData]:
    """The sent form, each file refused as soon as it passes `max_file_bytes` (the rest is never read)."""
    try:
        async with limited_form(
            request, max_file_bytes=max_file_bytes, max_files=MAX_FILES + 1, max_fields=30
        ) as form:
            yield form
    except FileTooLarge as exc:
        name = sanitise_filename(exc.filename)
        raise ReportError(413, exc.field, "file_too_large", name=name, limit=max_file_bytes // MIB) from None
    except FormUnreadable as exc:
        raise ReportError(400, "body", "form_unreadable", reason=str(exc)) from None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_router(kernel: Kernel) -> APIRouter:
    router = APIRouter(tags=["reports"])
    settings = ReportSettings()
    table = RoutingTable.load(settings.routing)
    desk = ReportDesk(kernel, table)
    throttle = SubmissionThrottle(settings, kernel.engine)

    def failure(exc: ReportError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status, headers=exc.headers)

    def admit(request: Request) -> None:
        wait = throttle.admit(client_address(request))
        if wait is not None:
            raise TooManyReports(wait)

    # --- public --------------------------------------------------------------------------------------
    @router.get(f"{PUBLIC}/services", summary="Categories a citizen may choose (Open311 service list)")
    async def services(lang: Key = "vi") -> list[dict[str, Any]]:
        return [
            {"service_code": c.code, "service_name": c.title(language(lang)), "type": "realtime"}
            for c in table.categories
        ]

    @router.post(
        f"{PUBLIC}/requests",
        status_code=201,
        summary="Send a report (multipart form: service_code, description, lat/long or address_string, "
        "media files ≤ 10 MB each, name, email, phone — contact is never published); "
        "429 with Retry-After past the per-address limit",
        max_body_size=FORM_BODY_LIMIT,
    )
    async def submit(request: Request) -> Response:
        try:
            admit(request)
            async with form_of(request, desk.files.max_bytes) as form:
                created = await desk.submit(read_submission(form))
        except ReportError as exc:
            return failure(exc)
        return JSONResponse(created, status_code=201)

    @router.get(f"{PUBLIC}/requests", summary="Approved reports and their progress (no contact details)")
    async def public_list(
        limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0)] = 0
    ) -> dict[str, Any]:
        return await desk.public_list(limit, offset)

    @router.get(f"{PUBLIC}/requests/{{report_id}}", summary="One approved report and its progress")
    async def public_get(report_id: int) -> Response:
        try:
            return JSONResponse(await desk.public_get(report_id))
        except ReportError as exc:
            return failure(exc)

    @router.get(f"{PUBLIC}/form", response_class=HTMLResponse, summary="The citizens' form (HTML)")
    async def form_page(lang: Key = "vi") -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        page = render(
            "form.html", language(lang), scripts=True, categories=table.categories, token=token, values={}
        )
        return with_form_cookie(page, token)

    @router.post(
        f"{PUBLIC}/form",
        response_class=HTMLResponse,
        summary="The citizens' form, sent",
        max_body_size=FORM_BODY_LIMIT,
    )
    async def form_sent(
        request: Request,
        lang: Annotated[str, Query(max_length=8)] = "vi",
        form_token: Annotated[str, Query(max_length=100)] = "",
    ) -> HTMLResponse:
        lang = language(lang)
        token = secrets.token_urlsafe(32)
        values: dict[str, Any] = {}
        try:
            # The token (in the form's address) is checked before a byte of the body is read.
            cookie = request.cookies.get(FORM_COOKIE, "")
            if not (form_token and cookie and secrets.compare_digest(form_token, cookie)):
                raise ReportError(403, "form_token", "form_token")
            async with form_of(request, desk.files.max_bytes) as form:
                values = {k: v for k, v in form.items() if isinstance(v, str)}
                admit(request)
                created = await desk.submit(read_submission(form))
        except ReportError as exc:
            page = render(
                "form.html",
                lang,
                scripts=True,
                categories=table.categories,
                token=token,
                values=values,
                error=exc,
            )
            page.status_code = exc.status
            page.headers.update(exc.headers)
            return with_form_cookie(page, token)
        page = render("thanks.html", lang, report_id=created["service_request_id"])
        page.status_code = 201
        return page

    @router.get(f"{PUBLIC}/board", response_class=HTMLResponse, summary="Progress of approved reports")
    async def board(lang: Key = "vi", offset: Annotated[int, Query(ge=0)] = 0) -> HTMLResponse:
        listed = await desk.public_list(100, offset)
        return render("board.html", language(lang), reports=listed["items"], total=listed["total"])

    @router.get(f"{PUBLIC}/board/{{report_id}}", response_class=HTMLResponse, summary="One approved report")
    async def board_detail(report_id: int, lang: Key = "vi") -> HTMLResponse:
        lang = language(lang)
        try:
            report = await desk.public_get(report_id)
        except ReportError:
            # The link a citizen keeps from the thanks page: the same answer while pending as when unknown.
            page = render("detail.html", lang, report=None, report_id=report_id)
            page.status_code = 404
            return page
        return render(
            "detail.html", lang, report=report, agency_name=lambda code: table.agency_name(code, lang)
        )

    @router.get(f"{PUBLIC}/areas", summary="The province and its wards as GeoJSON, for the form's map")
    async def public_areas(level: Literal["province", "ward"] = "ward") -> dict[str, Any]:
        def load() -> dict[str, Any]:
            with kernel.engine.connect() as conn:
                scheme = "legacy" if level == "province" else "2025"
                return areas.areas_geojson(conn, scheme, level)

        return await anyio.to_thread.run_sync(load)

    # --- staff ---------------------------------------------------------------------------------------
    @router.get(
        "/queue", summary="Reports to moderate (status pending, approved or refused), oldest or newest first"
    )
    async def queue(
        request: Request,
        status: Annotated[str | None, Query(pattern="^(pending|approved|refused)$")] = "pending",
        order: Annotated[str, Query(pattern="^(oldest|newest)$")] = "oldest",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        try:
            listed = await desk.queue(acting(request), status, limit, offset, newest_first=order == "newest")
            return JSONResponse(listed)
        except ReportError as exc:
            return failure(exc)

    @router.get("/{report_id}", summary="One report with its contact details and files (staff)")
    async def get(request: Request, report_id: int) -> Response:
        try:
            return JSONResponse(await desk.get(report_id, acting(request)))
        except ReportError as exc:
            return failure(exc)

    @router.get("/{report_id}/files/{file_id}", summary="A report's file (staff), as a download")
    async def file(request: Request, report_id: int, file_id: int) -> Response:
        try:
            path, content_type, name = await desk.file_of(report_id, file_id, acting(request))
        except ReportError as exc:
            return failure(exc)
        response = FileResponse(
            path, media_type=content_type, filename=name, content_disposition_type="attachment"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @router.patch("/{report_id}", summary="Edit a pending report: description, address_string, service_code")
    async def edit(
        request: Request, report_id: int, changes: Annotated[dict[Key, Prose | None], Body()]
    ) -> Response:
        allowed = {"description", "address_string", "service_code"}
        unknown = sorted(set(changes) - allowed)
        try:
            if unknown:
                raise ReportError(422, unknown[0], "unknown_field", value=unknown[0], known=sorted(allowed))
            return JSONResponse(await desk.edit(report_id, acting(request), changes))
        except ReportError as exc:
            return failure(exc)

    @router.post("/{report_id}/approve", summary="Publish a report: it becomes an incident of its agency")
    async def approve(request: Request, report_id: int) -> Response:
        try:
            return JSONResponse(await desk.approve(report_id, acting(request)))
        except ReportError as exc:
            return failure(exc)

    @router.post("/{report_id}/refuse", summary="Refuse a report, with the reason (never published)")
    async def refuse(
        request: Request, report_id: int, reason: Annotated[str, Body(embed=True, max_length=1000)]
    ) -> Response:
        try:
            return JSONResponse(await desk.refuse(report_id, acting(request), reason))
        except ReportError as exc:
            return failure(exc)

    return router


def with_form_cookie(page: HTMLResponse, token: str) -> HTMLResponse:
    # Double-submit: the token is in the page and in a SameSite=Strict cookie only this site can set.
    page.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", path="/api/reports/public/form")
    return page
