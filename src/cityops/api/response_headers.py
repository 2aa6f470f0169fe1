"""Headers every response carries, and redirects that never repeat the Host header.

- `X-Content-Type-Options: nosniff` everywhere: a browser never runs an upload or a JSON answer as a
  page or a script.
- A Content-Security-Policy on every response, HTML pages and files (the apology letter, snapshots,
  attachments) included: scripts, frames' parents, forms and connections only from this site; inline
  styles are allowed (the printable letters carry a `<style>` block), inline scripts are not. MapLibre
  needs `blob:` workers and `data:`/`blob:` images.
- A `Location` built from the request's Host header (Starlette's trailing-slash redirect does that) is
  made relative, so a forged Host never sends a visitor elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
        "form-action 'self'",
    )
)


def relative(location: str) -> str:
    """`location` without its scheme and host: the path, query and fragment on this server."""
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    # "//host" at the start of a path would read as another host.
    path = "/" + path.lstrip("/")
    return (
        path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    )


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                location = headers.get("location")
                if location is not None and urlsplit(location).netloc in (host, ""):
                    headers["Location"] = relative(location)
            await send(message)

        await self.app(scope, receive, send_with_headers)
