"""Checks made before any of a request's body is read (an ASGI middleware, outermost):

1. the API key, on every `/v1/` route and `/metrics` when the server has keys (401), compared
   as bytes with each accepted key, so a key of any characters is a 401 and never an error;
   `/metrics` also takes it as `Authorization: Bearer <key>` (what Prometheus sends);
2. the body size: a declared `Content-Length` over `max_body_bytes` is refused (413) at once;
   a body sent without one is counted as it arrives and refused when it passes the limit.

Nothing is buffered here: a refused body is never read, whatever its size.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import MEDIA_TYPE, PROBLEM_BASE

SECURED_PREFIX = "/v1/"
METRICS_PATH = "/metrics"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body passes the limit (an HTTPException, so the framework's
    body parsing passes it on as a 413 instead of a parse error)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")


def key_matches(given: bytes | None, keys: Sequence[bytes]) -> bool:
    """Whether the raw header bytes are one of the accepted keys; each key is compared in
    constant time, and all of them always are."""
    if given is None:
        return False
    found = False
    for key in keys:
        found |= secrets.compare_digest(given, key)
    return found


def secured(path: str) -> bool:
    """Routes that need a key when the server has one (health checks and the page do not)."""
    return path.startswith(SECURED_PREFIX) or path == METRICS_PATH


def presented_key(headers: dict[bytes, bytes], path: str) -> bytes | None:
    """The key a request sends: `X-API-Key`, or on `/metrics` a bearer token."""
    key = headers.get(b"x-api-key")
    if key is None and path == METRICS_PATH:
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        key = token.strip() if scheme.lower() == b"bearer" else None
    return key


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Any) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        keys, path = self.settings.accepted_keys, scope["path"]
        if keys and secured(path) and not key_matches(presented_key(headers, path), keys):
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
