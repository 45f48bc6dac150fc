"""The browser UI: `/` serves the single page, `/web/...` its static scripts and styles.

The page is plain HTML, CSS and ES modules (no build step); it talks to the same `/v1` API
as every other client, so these routes carry no API key check."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parents[1] / "web"

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    """The single page (playground, jobs, checkpoints)."""
    return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    """Serve the page at `/` and its assets under `/web`."""
    app.include_router(router)
    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")
