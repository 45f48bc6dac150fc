"""Optional API key: when `STICKGEN_API_KEY` is set, requests need a matching `X-API-Key`."""

from __future__ import annotations

import secrets

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from app.problems import ProblemError

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")


def require_api_key(request: Request, key: str | None = Depends(api_key_header)) -> None:
    """Dependency of every versioned route."""
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    if key is None or not secrets.compare_digest(key, expected.get_secret_value()):
        raise ProblemError(401, "unauthorized", "Unauthorized", "missing or wrong X-API-Key")
