"""Retrying database work through transient faults (a restart, a dropped connection, a lock
or statement timeout): exponential backoff with jitter, within a bounded time."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY_S = 0.1
LONGEST_DELAY_S = 2.0


def transient(error: BaseException) -> bool:
    """True for errors that another try may not meet: lost or refused connections, timeouts,
    a locked SQLite file. Integrity and programming errors are not."""
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # pool checkout timeout, ping failure
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return False


def backoff(attempt: int) -> float:
    """Delay before try `attempt + 1`: doubling from 0.1 s up to 2 s, half of it random."""
    ceiling = min(LONGEST_DELAY_S, FIRST_DELAY_S * 2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def retrying(call: Callable[[], T], *, budget_s: float, what: str) -> T:
    """`call()`, tried again after transient database errors until `budget_s` has passed since
    the first try; then the last error is raised. Non-transient errors are raised at once."""
    deadline = time.monotonic() + budget_s
    attempt = 0
    while True:
        try:
            return call()
        except Exception as error:
            left = deadline - time.monotonic()
            if not transient(error) or left <= 0:
                raise
            delay = min(backoff(attempt), left)
            attempt += 1
            log.warning(
                "%s: database unavailable (%s); try %d in %.2f s",
                what,
                type(error.__cause__ or error).__name__,
                attempt + 1,
                delay,
            )
            time.sleep(delay)
