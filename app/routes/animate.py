"""`POST /v1/animate`: prompt in, MP4 (or GIF, or JSON motion) out."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app import deps, validation
from app.problems import problem_responses
from app.schemas import AnimateRequest
from jobcore.settings import Settings

router = APIRouter(prefix="/v1", tags=["animate"])

MEDIA_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "json": "application/json"}
ENGINE_HEADER = "X-StickGen-Engine"


@router.post(
    "/animate",
    response_class=Response,
    responses={
        200: {
            "description": f"The animation; the `{ENGINE_HEADER}` header says which engine drew "
            "it: `model` (the checkpoint's predictions) or `procedural` (no checkpoint)",
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "headers": {
                ENGINE_HEADER: {"description": "model or procedural", "schema": {"type": "string"}}
            },
        },
        **problem_responses(400, 401, 422),
    },
)
def animate(
    body: AnimateRequest,
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> Response:
    """Animate a prompt. With `checkpoint` (an id from GET /v1/checkpoints) the trained model
    draws the motion; without one, the procedural engine does."""
    from stickgen.animate import animate as run_animation

    validation.animate_request(body, settings)
    checkpoint, text_model = None, None
    if body.checkpoint is not None:
        row = validation.existing_checkpoint(session, body.checkpoint)
        checkpoint, text_model = Path(row.path), settings.text_model_dir(row.embedding_model)
    session.close()  # no DB connection held while rendering
    with tempfile.TemporaryDirectory(prefix="stickgen-animate-") as tmp:
        output = Path(tmp) / f"animation.{body.format}"
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
        )
        content = output.read_bytes()
    headers = {ENGINE_HEADER: str(result.engine)}
    return Response(content, media_type=MEDIA_TYPES[body.format], headers=headers)
