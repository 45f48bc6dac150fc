"""Checks made before any of a request's body is read (an ASGI middleware, outermost):

1. the API key, on every `/v1/` route when the server has one (401), compared as bytes, so a
   key of any characters is a 401 and never an error;
2. the body size: a declared `Content-Length` over `max_body_bytes` is refused (413) at once;
   a body sent without one is counted as it arrives and refused when it passes the limit.

Nothing is buffered here: a refused body is never read, whatever its size.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import MEDIA_TYPE, PROBLEM_BASE

SECURED_PREFIX = "/v1/"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body passes the limit (an HTTPException, so the framework's
    body parsing passes it on as a 413 instead of a parse error)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")


def key_matches(given: bytes | None, expected: str) -> bool:
    """Constant-time comparison of the raw header bytes with the configured key (UTF-8)."""
    return given is not None and secrets.compare_digest(given, expected.encode("utf-8"))


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Any) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        expected = self.settings.api_key
        secured = expected is not None and scope["path"].startswith(SECURED_PREFIX)
        if secured and not key_matches(headers.get(b"x-api-key"), expected.get_secret_value()):
            await _problem(send, 401, "unauthorized", "Unauthorized", "missing or wrong X-API-Key")
            return
        limit = self.settings.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _problem(send, 400, "bad-request", "Bad request", "invalid Content-Length")
                return
            if too_big:
                await _refuse_size(send, limit)
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await _refuse_size(send, limit)


async def _refuse_size(send: Send, limit: int) -> None:
    await _problem(send, 413, "request-body-too-large", "Request body too large",
                   f"the request body exceeds the limit of {limit} bytes")  # fmt: skip


async def _problem(send: Send, status: int, slug: str, title: str, detail: str) -> None:
    body = json.dumps(
        {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
