"""Request-scoped dependencies: settings, a DB session, the job dispatcher."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from jobcore.db import session_scope
from jobcore.settings import Settings

LIMIT_HELP = "Rows per page, at most the server's page_limit (the schema's maximum)"


def check_page_limit(limit: int, settings_: Settings) -> None:
    from app.problems import ProblemError

    if limit > settings_.page_limit:
        raise ProblemError(
            422,
            "invalid-request",
            "Invalid request",
            f"limit: at most {settings_.page_limit} rows per page",
        )


def settings(request: Request) -> Settings:
    return request.app.state.settings


class Breaker:
    """Fails requests fast while the database is failing: after a transient database error,
    for `cooldown_s` every request gets a 503 at once instead of each waiting out the deadline;
    then one request at a time tries the database, and its success closes the breaker."""

    def __init__(self, cooldown_s: float) -> None:
        self.cooldown_s = cooldown_s
        self._open_until = 0.0
        self._failing = False
        self._probing = False
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return self._failing and (time.monotonic() < self._open_until or self._probing)

    def enter(self) -> bool:
        """True when this request may use the database (and probes it if it was failing)."""
        with self._lock:
            if not self._failing:
                return True
            if time.monotonic() < self._open_until or self._probing:
                return False
            self._probing = True
            return True

    def leave(self, error: BaseException | None) -> None:
        from jobcore.retry import transient

        with self._lock:
            self._probing = False
            if error is not None and transient(error):
                self._failing, self._open_until = True, time.monotonic() + self.cooldown_s
            elif error is None:
                self._failing = False


def session(request: Request) -> Iterator[Session]:
    """A database session for the request; a 503 at once while the breaker is open."""
    from app.problems import unavailable

    breaker: Breaker = request.app.state.db_breaker
    if not breaker.enter():
        raise unavailable(
            "database-unavailable",
            "Database unavailable",
            "the database cannot be reached; try again later",
        )
    error: BaseException | None = None
    try:
        with session_scope(request.app.state.settings.db_url) as db:
            yield db
    except BaseException as exc:
        error = exc
        raise
    finally:
        breaker.leave(error)


def disk_space(request: Request) -> None:
    """Refuse new work (503 with Retry-After) while the data folder is nearly full."""
    from app.problems import unavailable
    from app.routes.health import disk_free_mb

    settings_ = request.app.state.settings
    free = disk_free_mb(settings_)
    if free < settings_.min_free_disk_mb:
        raise unavailable(
            "disk-full",
            "Disk full",
            f"the server has {free} MB of disk space left (needs {settings_.min_free_disk_mb} "
            "MB to take new work); try again later",
        )
