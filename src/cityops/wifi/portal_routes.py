"""`/api/wifi/portal/{tenant}`: the captive portal, open to everyone (a public path), phone-first.

    GET  /portal/{tenant}?lang=vi|en|ja&login_url=…   the page: terms, phone code or voucher
    POST /portal/{tenant}/code      {"phone"}          sends a code (429 past the limit, 502 if the SMS failed)
    POST /portal/{tenant}/verify    {"phone", "code"}  → {"username", "password"} for the access point's login
    POST /portal/{tenant}/voucher   {"code"}           → the same for a valid voucher

`login_url` is the access point's own login page (CoovaChilli's, Mikrotik's); the page posts the
credentials there. Only http(s) URLs on private, loopback or link-local addresses are accepted, so the
page never hands credentials to the internet.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import anyio.to_thread
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cityops.core.domain import LANGUAGES
from cityops.core.store import write_transaction
from cityops.core.text_limits import Key
from cityops.wifi import portal
from cityops.wifi.errors import WifiError
from cityops.wifi.runtime import WifiRuntime
from cityops.wifi.schema import tenants

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
LANGUAGE_NAMES = (("vi", "Tiếng Việt"), ("en", "English"), ("ja", "日本語"))


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, Field(min_length=1, max_length=20)]


class VerifyIn(PhoneIn):
    code: Annotated[str, Field(min_length=1, max_length=10)]


class VoucherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=1, max_length=16)]


def safe_login_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    try:
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        raise WifiError(422, "login_url", "must name the access point by its private IP address") from None
    if parts.scheme not in ("http", "https") or not (
        address.is_private or address.is_loopback or address.is_link_local
    ):
        raise WifiError(422, "login_url", "must be http(s) on a private, loopback or link-local address")
    return value


def policy(login_url: str | None) -> str:
    """The page's own Content-Security-Policy: the server's, but its form may post to the access point."""
    target = ""
    if login_url:
        parts = urlsplit(login_url)
        target = f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action 'self'{target}",
        )
    )


def build_portal_router(runtime: WifiRuntime) -> APIRouter:
    router = APIRouter(prefix="/portal", tags=["wifi: captive portal"])
    engine = runtime.kernel.engine
    domain_folder = Path(__file__).parent

    def texts(lang: str) -> dict[str, str]:
        path = domain_folder / "translations" / f"{lang}.json"
        loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return {key: text for key, text in loaded.items() if key.startswith("portal.")}

    def failure(exc: WifiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status)

    @router.get("/{slug}", response_class=HTMLResponse, summary="The captive portal page")
    async def page(
        slug: Key,
        lang: Annotated[str, Query(max_length=2)] = "vi",
        login_url: Annotated[str | None, Query(max_length=500)] = None,
    ) -> HTMLResponse:
        lang = lang if lang in LANGUAGES else "vi"
        try:
            target = safe_login_url(login_url)
        except WifiError as exc:
            return HTMLResponse(exc.message, status_code=422)

        def network() -> str | None:
            with engine.connect() as conn:
                return conn.execute(select(tenants.c.name).where(tenants.c.slug == slug)).scalar()

        name = await anyio.to_thread.run_sync(network)
        if name is None:
            return HTMLResponse("not found", status_code=404)
        t = texts(lang)
        errors = {k.removeprefix("portal.error."): v for k, v in t.items() if k.startswith("portal.error.")}
        html = TEMPLATES.get_template("portal.html").render(
            lang=lang,
            t=t,
            network=name,
            languages=LANGUAGE_NAMES,
            keep=f"&login_url={quote(target, safe='')}" if target else "",
            base=f"/api/wifi/portal/{slug}",
            login_url=target or "",
            errors=errors,
        )
        return HTMLResponse(
            html, headers={"Cache-Control": "no-store", "Content-Security-Policy": policy(target)}
        )

    async def run(work: Any) -> Any:
        def in_transaction() -> Any:
            with write_transaction(engine) as conn:
                return work(conn)

        try:
            return await anyio.to_thread.run_sync(in_transaction)
        except WifiError as exc:
            return failure(exc)

    @router.post("/{slug}/code", status_code=202, summary="Send a sign-in code to a phone")
    async def code(slug: Key, body: PhoneIn) -> Any:
        now = runtime.now_ms()
        result = await run(
            lambda c: portal.send_code(c, slug, body.phone, runtime.personal, runtime.sms, now)
        )
        return result if isinstance(result, JSONResponse) else {"sent": True}

    @router.post("/{slug}/verify", summary="Check the code; answers the credentials for the access point")
    async def verify(slug: Key, body: VerifyIn) -> Any:
        now = runtime.now_ms()
        return await run(lambda c: portal.verify_code(c, slug, body.phone, body.code, runtime.personal, now))

    @router.post("/{slug}/voucher", summary="Check a voucher; answers the credentials for the access point")
    async def voucher(slug: Key, body: VoucherIn) -> Any:
        now = runtime.now_ms()
        return await run(lambda c: portal.check_voucher(c, slug, body.code, now))

    return router
