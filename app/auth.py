"""Optional API keys: when `STICKGEN_API_KEY` or `STICKGEN_API_KEYS` is set, requests need one
of them in `X-API-Key`.

`app.guard` checks it before any body is read; this dependency checks it again and puts the
scheme in the OpenAPI document."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from app.guard import key_matches
from app.problems import ProblemError

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")


def require_api_key(request: Request, key: str | None = Depends(api_key_header)) -> None:
    """Dependency of every versioned route."""
    keys = request.app.state.settings.accepted_keys
    if not keys:
        return
    given = None if key is None else key.encode("latin-1", "replace")  # the header's bytes
    if not key_matches(given, keys):
        raise ProblemError(401, "unauthorized", "Unauthorized", "missing or wrong X-API-Key")
