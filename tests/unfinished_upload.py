"""A multipart upload over a real socket that never ends: the server answers it only if it decides before
the end of the body (a size limit counted while streaming, a token checked before reading)."""

from __future__ import annotations

import json
import select
import socket
import time
from typing import Any
from urllib.parse import urlsplit

BOUNDARY = "cityops-unfinished-upload"
CHUNK = 64 * 1024


def file_part(field: str, filename: str, head: bytes) -> bytes:
    """The start of a multipart body: one file part's headers and its first bytes."""
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + head


def answer_to_unfinished_upload(
    server: str, target: str, headers: dict[str, str], start: bytes, filler: int
) -> tuple[int, Any, int]:
    """POST `start` then up to `filler` zero bytes as a chunked multipart body, and never end it. Returns the
    status, the JSON (or text) answer and how many filler bytes went out before it; fails when no answer
    comes within 10 s (the server waits for the rest of the body)."""
    address = urlsplit(server)
    assert address.hostname is not None and address.port is not None
    lines = [f"POST {target} HTTP/1.1", f"Host: {address.hostname}", "Transfer-Encoding: chunked"]
    lines += [f"Content-Type: multipart/form-data; boundary={BOUNDARY}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"%x\r\n%s\r\n" % (len(start), start))
        zeros = b"\0" * CHUNK
        while sent < filler and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (CHUNK, zeros))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += CHUNK
        answer = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            answer += data
            head, _, body = answer.partition(b"\r\n\r\n")
            length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                break
    assert answer, "no answer: the server waited for the rest of the body"
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    try:
        return status, json.loads(body), sent
    except ValueError:
        return status, body.decode(errors="replace"), sent
