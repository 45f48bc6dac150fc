"""Files that belong to a checkpoint, served by the checkpoint's id (the path is looked up
server-side, never taken from the request)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from app import deps
from app.problems import ProblemError, problem_responses
from app.routes.artifacts import checkpoint_or_404

router = APIRouter(prefix="/v1", tags=["checkpoints"])


@router.get(
    "/checkpoints/{checkpoint_id}/loss-curve.png",
    response_class=FileResponse,
    responses={
        200: {"description": "The training run's loss curve", "content": {"image/png": {}}},
        **problem_responses(401, 404),
    },
)
def loss_curve(
    checkpoint_id: str, session: Annotated[Session, Depends(deps.session)]
) -> FileResponse:
    """Loss per epoch of the run that wrote this checkpoint (train and validation), up to its
    latest finished epoch: a run cancelled (or between two drawings of the curve) is drawn from
    its per-epoch metrics."""
    from stickgen.train.curves import CURVE, METRICS, plot_loss_curve, read_metrics

    row = checkpoint_or_404(session, checkpoint_id)
    folder = Path(row.path).parent
    path, metrics = folder / CURVE, folder / METRICS
    stale = metrics.is_file() and (
        not path.is_file() or path.stat().st_mtime_ns < metrics.stat().st_mtime_ns
    )
    history = read_metrics(folder) if stale else []
    if history:
        plot_loss_curve(folder, history)
    if not path.is_file():
        raise ProblemError(
            404, "no-loss-curve", "No loss curve", f"checkpoint {checkpoint_id!r} has no loss curve"
        )
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-cache"})
