"""`POST /v1/animate`: prompt in, MP4 (or GIF, or JSON motion) out."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from app import deps, validation
from app.problems import problem_responses, unavailable
from app.schemas import AnimateRequest
from jobcore.cleanup import temp_prefix
from jobcore.settings import Settings

if TYPE_CHECKING:
    from stickgen.serving import ModelCache

router = APIRouter(prefix="/v1", tags=["animate"])

MEDIA_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "json": "application/json"}
ENGINE_HEADER = "X-StickGen-Engine"
UNDERSTOOD_HEADER = "X-StickGen-Understood"


@cache
def loaded_models() -> ModelCache:
    """The checkpoints this process keeps loaded, shared by every request (bounded; concurrent
    requests for one checkpoint are batched into one forward pass), imported on first use."""
    from stickgen.serving import ModelCache

    return ModelCache()


def understood_header(report: dict | None) -> str:
    """The parse report as compact JSON, percent-encoded (UTF-8) so any prompt fits a header:
    `JSON.parse(decodeURIComponent(value))` reads it back."""
    text = json.dumps(report, separators=(",", ":"), ensure_ascii=False)
    return quote(text, safe=" ,:{}[]\"'")


@router.post(
    "/animate",
    response_class=Response,
    responses={
        200: {
            "description": f"The animation; the `{ENGINE_HEADER}` header says which engine drew "
            "it: `model` (the checkpoint's predictions) or `procedural` (no checkpoint)",
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "headers": {
                ENGINE_HEADER: {"description": "model or procedural", "schema": {"type": "string"}},
                UNDERSTOOD_HEADER: {
                    "description": "What the story engine made of the prompt (the JSON "
                    "format's `scene.understanding`): percent-encoded UTF-8 JSON with "
                    "`understood` (false: nothing said what to animate, the figure stands), "
                    "`recognised` [{text, kind, meaning}], `guessed` [{text, kind, meaning, "
                    "score}] and `ignored` [words]",
                    "schema": {"type": "string"},
                },
            },
        },
        **problem_responses(400, 401, 413, 422, 503),
    },
    dependencies=[Depends(deps.disk_space)],
)
def animate(
    request: Request,
    body: AnimateRequest,
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> Response:
    """Animate a prompt. With `checkpoint` (an id from GET /v1/checkpoints, or its first 8+
    characters) the trained model draws the motion; without one, the procedural engine does.
    What the prompt was understood as comes back in every answer: the `X-StickGen-Understood`
    header, and `scene.understanding` in the JSON format."""
    from stickgen.animate import animate as run_animation

    validation.animate_request(body, settings)
    checkpoint, text_model = None, None
    if body.checkpoint is not None:
        row = validation.existing_checkpoint(session, body.checkpoint)
        checkpoint, text_model = Path(row.path), settings.text_model_dir(row.embedding_model)
    session.close()  # no DB connection held while rendering
    slots: threading.BoundedSemaphore = request.app.state.render_slots
    if not slots.acquire(timeout=settings.render_wait_s):
        raise unavailable(
            "busy",
            "Busy",
            f"{settings.render_slots} animation(s) are being rendered, the most this server "
            "renders at once; try again shortly",
            retry_after_s=2,
        )
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("animate"), dir=settings.temp_dir))
    try:
        output = folder / f"animation.{body.format}"
        started = time.perf_counter()
        result = run_animation(
            body.prompt.strip(),
            output,
            duration=body.duration,
            seed=body.seed,
            checkpoint=checkpoint,
            text_model=text_model,
            device=settings.device,
            width=body.width,
            height=body.height,
            fmt=body.format,
            loader=loaded_models().get if checkpoint is not None else None,
        )
        elapsed = time.perf_counter() - started
        request.app.state.animate_seconds.labels(str(result.engine)).observe(elapsed)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        slots.release()
    scene = getattr(result, "scene", None)
    report = getattr(scene, "understanding", None)
    headers = {
        ENGINE_HEADER: str(result.engine),
        UNDERSTOOD_HEADER: understood_header(None if report is None else report.to_json()),
    }
    # streamed from the file (the answer is never held in memory), removed once sent
    return FileResponse(
        output,
        media_type=MEDIA_TYPES[body.format],
        headers=headers,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
