"""Request-scoped dependencies: settings, a DB session, the job dispatcher."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from jobcore.db import session_scope
from jobcore.settings import Settings


def settings(request: Request) -> Settings:
    return request.app.state.settings


def session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.settings.db_url) as db:
        yield db
