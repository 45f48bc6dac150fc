"""Files that belong to a checkpoint, served by the checkpoint's id (the path is looked up
server-side, never taken from the request)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from app import deps
from app.problems import ProblemError, problem_responses
from app.routes.artifacts import checkpoint_or_404
from jobcore.cleanup import temp_prefix
from jobcore.models import DatasetRow
from jobcore.settings import Settings

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


@router.get(
    "/checkpoints/{checkpoint_id}/export",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The inference export as a zip: model.safetensors, config.json and "
            "a README.md model card",
            "content": {"application/zip": {}},
        },
        **problem_responses(401, 404),
    },
)
def export_checkpoint(
    checkpoint_id: str,
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> FileResponse:
    """The checkpoint as an inference export (`stickgen.export`), written now so its model card
    holds the latest evaluation; unzipped, `stick-gen animate --checkpoint FOLDER` loads it."""
    from stickgen.export import export_checkpoint as write_export

    row = checkpoint_or_404(session, checkpoint_id)
    dataset = session.get(DatasetRow, row.dataset_id) if row.dataset_id else None
    name = f"stickgen-{row.id[:8]}-{row.kind}"
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("export"), dir=settings.temp_dir))
    try:
        out = write_export(
            row.path,
            folder / name,
            dataset={**(dataset.manifest or {}), "name": dataset.name} if dataset else None,
            evaluation=row.evaluation,
            title=f"Stick-Gen model {row.id[:8]} ({row.kind}, epoch {row.epoch})",
        )
        archive = folder / f"{name}.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in sorted(out.iterdir()):
                zipped.write(path, f"{name}/{path.name}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=archive.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
