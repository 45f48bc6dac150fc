"""`GET /v1/limits`: the server's limits and choices, so clients check input before sending."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from app import deps
from app.problems import problem_responses
from app.schemas import MAX_INT, TRAIN_DEFAULTS, EvaluateParams
from jobcore.settings import Settings
from stickgen.model import PRESETS

router = APIRouter(prefix="/v1", tags=["limits"])


class Range(BaseModel):
    """Allowed values of one field: `min` to `max` inclusive (null: unbounded)."""

    min: int | float | None = None
    max: int | float | None = None
    default: int | float | None = None
    integer: bool = True


class TextModels(BaseModel):
    default: str = Field(description="Used when a job names none")
    allowed: list[str] = Field(description="Every text model a job may name")


class Limits(BaseModel):
    """What the server accepts: `POST /v1/animate` fields, pipeline and train fields."""

    prompt_chars: Range = Field(description="Characters of a prompt (after trimming spaces)")
    duration_s: Range
    frame_size: Range = Field(description="Width and height in pixels")
    num_base: Range = Field(description="Base scenes of a generate job or pipeline")
    shards: Range
    epochs: Range
    batch_size: Range
    accumulate: Range
    lr: Range
    max_train_samples: Range
    max_val_samples: Range
    seed: Range
    evaluate_repeats: Range
    evaluate_pool_size: Range = Field(
        description="R-precision pool; at most the dataset's test prompts"
    )
    evaluate_epochs: Range = Field(description="Epochs of an evaluator trained for a dataset")
    presets: list[str]
    text_models: TextModels
    id_prefix_chars: int = Field(description="Shortest id prefix accepted in place of an id")


def _field(model: type[BaseModel], name: str) -> Range:
    """The static bounds of a pydantic field as a Range."""
    info = model.model_fields[name]
    bounds: dict[str, float] = {}
    for item in info.metadata:
        for key, attr in (("min", "ge"), ("max", "le")):
            if getattr(item, attr, None) is not None:
                bounds[key] = getattr(item, attr)
        if getattr(item, "gt", None) is not None:
            bounds["min"] = item.gt + 1
    default = info.default if isinstance(info.default, int | float) else None
    return Range(**bounds, default=default)


@router.get("/limits", response_model=Limits, responses=problem_responses(401))
def limits(settings: Annotated[Settings, Depends(deps.settings)]) -> Limits:
    """The limits the server checks, with the defaults it fills in."""
    from app.ids import MIN_PREFIX

    return Limits(
        prompt_chars=Range(min=1, max=settings.max_prompt_chars),
        duration_s=Range(min=settings.min_duration_s, max=settings.max_duration_s, integer=False),
        frame_size=Range(min=settings.min_frame_size, max=settings.max_frame_size, default=512),
        num_base=Range(min=1, max=settings.max_base_samples),
        shards=Range(min=1, max=settings.max_shards),
        epochs=Range(min=1, max=settings.max_epochs, default=TRAIN_DEFAULTS.epochs),
        batch_size=Range(min=1, max=settings.max_batch_size, default=TRAIN_DEFAULTS.batch_size),
        accumulate=Range(min=1, max=256, default=TRAIN_DEFAULTS.accumulate),
        lr=Range(min=0, max=1, default=TRAIN_DEFAULTS.lr, integer=False),
        max_train_samples=Range(min=1, max=MAX_INT),
        max_val_samples=Range(min=1, max=MAX_INT),
        seed=Range(min=0, max=2**32 - 1, default=0),
        evaluate_repeats=_field(EvaluateParams, "repeats"),
        evaluate_pool_size=_field(EvaluateParams, "pool_size"),
        evaluate_epochs=_field(EvaluateParams, "evaluator_epochs"),
        presets=list(PRESETS),
        text_models=TextModels(
            default=settings.embedding_model, allowed=settings.embedding_models()
        ),
        id_prefix_chars=MIN_PREFIX,
    )
