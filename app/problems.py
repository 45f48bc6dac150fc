"""Errors as `application/problem+json` (RFC 9457): type, title, status, detail."""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from stickgen.errors import NotFoundError, StickGenError

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


class Problem(BaseModel):
    """A machine-readable error."""

    type: str = Field(examples=["/problems/invalid-request"])
    title: str = Field(examples=["Invalid request"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["params.num_base: Input should be greater than 0"])
    errors: list[dict[str, Any]] | None = Field(
        None, description="Per-field validation errors (location and message)"
    )


class ProblemError(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self, status: int, slug: str, title: str, detail: str, *, retry_after_s: int | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.retry_after_s = retry_after_s


RETRY_AFTER_S = 5  # what a 503 asks a client to wait


def unavailable(slug: str, title: str, detail: str, retry_after_s: int = RETRY_AFTER_S):
    """A 503 with `Retry-After`: a dependency (database, broker, disk) cannot serve now."""
    return ProblemError(503, slug, title, detail, retry_after_s=retry_after_s)


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(type=PROBLEM_BASE + slug, title=title, status=status, detail=detail)
    body.errors = errors
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE,
        headers=headers,
    )  # fmt: skip


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem answers."""
    return {
        status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": "Problem"}
        for status in statuses
    }


def document_problems(schema: dict[str, Any]) -> None:
    """Document every problem answer of an OpenAPI `schema` under its true media type,
    `application/problem+json`, in place of the framework's `application/json` entries and its
    422 validation-error schema (the server never sends those). Other answers (a readiness
    report with its 503) stay as they are."""
    ref = {"$ref": "#/components/schemas/Problem"}
    replaced = {ref["$ref"], "#/components/schemas/HTTPValidationError"}
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
        Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for path in schema["paths"].values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                refs = {
                    c.get("schema", {}).get("$ref") for c in response.get("content", {}).values()
                }
                if str(status)[0] in "45" and refs & replaced:
                    response["content"] = {MEDIA_TYPE: {"schema": ref}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in raw):
        message = next(err.get("ctx", {}).get("error", "") for err in raw)
        return problem(400, "malformed-json", "Malformed JSON", f"request body: {message}")
    errors = [
        {"loc": _location(err.get("loc", ())), "msg": str(err.get("msg", "")),
         "type": str(err.get("type", ""))}
        for err in raw
    ]  # fmt: skip
    detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]) or "invalid request"
    return problem(422, "invalid-request", "Invalid request", detail, errors=errors)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {
        401: "Unauthorized",
        404: "Not found",
        405: "Method not allowed",
        413: "Request body too large",
    }
    title = titles.get(exc.status_code, "HTTP error")
    slug = title.lower().replace(" ", "-")
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, slug, title, str(exc.detail), headers=headers)


def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    headers = None if exc.retry_after_s is None else {"Retry-After": str(exc.retry_after_s)}
    return problem(exc.status, exc.slug, exc.title, exc.detail, headers=headers)


def _public(request: Request, text: str) -> str:
    from jobcore.public import public_text

    return public_text(text, request.app.state.settings.public_roots)


def _stickgen(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, NotFoundError):
        return problem(404, "not-found", "Not found", _public(request, str(exc)))
    return problem(422, "invalid-input", "Invalid input", _public(request, str(exc)))


def _disk_full(error: BaseException) -> bool:
    text = str(error).lower()
    return (
        isinstance(error, OSError) and error.errno == errno.ENOSPC
    ) or "disk is full" in text or "no space left" in text  # fmt: skip


def _database(request: Request, exc: Exception) -> JSONResponse:
    """Database errors the client cannot fix: 503 with Retry-After (out of reach, timed out,
    locked, or its disk full); anything else is a 500."""
    from jobcore.retry import transient

    where = f"{request.method} {request.url.path}"
    if _disk_full(exc):
        log.error("disk full on %s: %s", where, exc)
        detail = "the server is out of disk space; try again later"
        return _problem(request, unavailable("disk-full", "Disk full", detail))
    if transient(exc):
        cause = exc.__cause__ or exc
        first = (str(cause).strip().splitlines() or [""])[0][:200]
        log.warning("database unavailable on %s: %s: %s", where, type(cause).__name__, first)
        detail = "the database cannot be reached; try again later"
        title = "Database unavailable"
        return _problem(request, unavailable("database-unavailable", title, detail))
    return _unexpected(request, exc)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if _disk_full(exc):
        return _database(request, exc)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal-error", "Internal error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    """Route every error through a problem document."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ProblemError, _problem)
    app.add_exception_handler(StickGenError, _stickgen)
    app.add_exception_handler(SQLAlchemyError, _database)
    app.add_exception_handler(Exception, _unexpected)
