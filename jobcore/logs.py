"""Logging of the API and the workers, set up once per process by `configure`.

One line per record on stderr: JSON when stderr is not a terminal (a container, a file, a log
collector), readable text on a terminal. A line logged while a request is handled carries its
`request_id` (set by the API's request-id middleware); one logged while a job runs carries its
`job_id` (`job_context`).
"""

from __future__ import annotations

import logging
import logging.config
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from asgi_correlation_id.context import correlation_id

REQUEST_ID_HEADER = "X-Request-ID"
CONTEXT_FIELDS = ("request_id", "job_id")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s%(tags)s: %(message)s"
JSON_FIELDS = "{asctime}{levelname}{name}{message}"
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}

current_job: ContextVar[str | None] = ContextVar("current_job", default=None)
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def sane_request_id(value: str) -> bool:
    """Whether a client's `X-Request-ID` may be used as is (short, no spaces or controls);
    otherwise the API makes a new one."""
    return _SANE_REQUEST_ID.fullmatch(value) is not None


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Every line logged inside (in this thread or task) carries `job_id`."""
    token = current_job.set(job_id)
    try:
        yield
    finally:
        current_job.reset(token)


class ContextFilter(logging.Filter):
    """Puts the current request id and job id, where there is one, on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id, job_id = correlation_id.get(), current_job.get()
        if request_id is not None:
            record.request_id = request_id
        if job_id is not None:
            record.job_id = job_id
        return True


class TextFormatter(logging.Formatter):
    """`time level logger [request_id=... job_id=...]: message`, for people."""

    def format(self, record: logging.LogRecord) -> str:
        tags = [
            f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)
        ]
        record.tags = f" [{' '.join(tags)}]" if tags else ""
        return super().format(record)


def configure(level: int | str = "INFO", *, json_lines: bool | None = None) -> None:
    """Route every logger to one stderr handler; `json_lines` None: JSON unless a terminal.
    Loggers made before keep working (they propagate to the root's handler)."""
    if json_lines is None:
        json_lines = not (sys.stderr is not None and sys.stderr.isatty())
    formatters = {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "style": "{",
            "rename_fields": JSON_NAMES,
        },
        "text": {"()": TextFormatter, "fmt": TEXT_FORMAT},
    }
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"context": {"()": ContextFilter}},
            "formatters": formatters,
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stderr",
                    "formatter": "json" if json_lines else "text",
                    "filters": ["context"],
                }
            },
            "root": {"level": level, "handlers": ["stderr"]},
            # SQLAlchemy logs every statement at INFO unless told otherwise
            "loggers": {"sqlalchemy.engine": {"level": "WARNING"}},
        }
    )
