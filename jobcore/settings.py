"""Service settings, read from `STICKGEN_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stickgen.schema import MAX_DURATION, MIN_DURATION
from stickgen.story.parse import MAX_PROMPT_CHARS
from stickgen.textmodels import BUNDLED_MODEL, PRODUCTION_MODEL, local_dir


class Settings(BaseSettings):
    """Everything the API and the worker need to know; both read the same variables."""

    model_config = SettingsConfigDict(env_prefix="STICKGEN_", env_file=None, extra="ignore")

    data_dir: Path = Field(Path("data"), description="Datasets, checkpoints, SQLite DB, broker")
    mocap_dir: Path | None = Field(
        None,
        description="Motion-capture files a generate job may name, by a path relative to this "
        "folder (default: data_dir/mocap)",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file inside data_dir"
    )
    broker_url: str | None = Field(
        None, description="Celery broker URL; default: the serverless filesystem transport"
    )
    redis_key_prefix: str = Field(
        "", description="Prefix of every Redis key (lets several deployments share one Redis)"
    )
    auto_migrate: bool = Field(
        True, description="Upgrade the DB to head at start (embedded); false: refuse if behind"
    )
    api_key: SecretStr | None = Field(
        None, description="When set, every route but health needs the X-API-Key header"
    )

    # models
    embedding_model: str = Field(
        BUNDLED_MODEL,
        description=f"Default text model: {BUNDLED_MODEL} (installed with Stick-Gen, works "
        f"offline), a hub name such as {PRODUCTION_MODEL} (compose names it), or a local "
        "sentence-transformers folder",
    )
    allowed_embedding_models: list[str] = Field(
        default_factory=list, description="Extra text models a job may name"
    )
    device: str = Field(
        "auto", description="Where jobs and /v1/animate compute: auto, cpu, cuda or cuda:N"
    )
    train_processes: int = Field(
        1, gt=0, description="Data-parallel processes per training job (torch.distributed)"
    )
    train_threads: int | None = Field(
        None, gt=0, description="torch threads per training process (default: a fair share)"
    )

    # limits
    max_prompt_chars: int = Field(
        MAX_PROMPT_CHARS,
        gt=0,
        le=MAX_PROMPT_CHARS,
        description="Longest prompt; at most the story engine's own limit (the CLI's)",
    )
    min_duration_s: float = Field(MIN_DURATION, ge=MIN_DURATION)
    max_duration_s: float = Field(
        MAX_DURATION, gt=0, le=MAX_DURATION, description="At most the library's own limit"
    )
    min_frame_size: int = Field(64, gt=0)
    max_frame_size: int = Field(1920, gt=0)
    max_base_samples: int = Field(200_000, gt=0)
    max_epochs: int = Field(1000, gt=0)
    max_batch_size: int = Field(4096, gt=0)
    max_shards: int = Field(16, gt=0)
    shard_size: int = Field(2000, gt=0, description="Base samples per generate shard (auto)")
    page_limit: int = Field(200, gt=0)

    # job machinery
    heartbeat_interval_s: float = Field(5.0, gt=0)
    stale_after_s: float = Field(60.0, gt=0, description="Heartbeat age that marks a lost worker")
    reaper_interval_s: float = Field(15.0, ge=0, description="0 disables the API's sweep")
    progress_interval_s: float = Field(1.0, ge=0, description="Least time between progress writes")
    redispatch_after_s: float = Field(
        3600.0, gt=0, description="Resend a still-queued job's message after this long"
    )
    max_attempts: int = Field(3, gt=0, description="Runs of a job before a lost worker fails it")
    job_soft_time_limit_s: int = Field(12 * 3600, gt=0)
    job_time_limit_s: int = Field(12 * 3600 + 600, gt=0)
    worker_concurrency: int = Field(2, gt=0)

    @field_validator("api_key", "database_url", "broker_url", "mocap_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (compose passes unset ones so: `STICKGEN_API_KEY=`) means unset."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _check_ranges(self) -> Settings:
        if self.min_duration_s > self.max_duration_s:
            raise ValueError("min_duration_s exceeds max_duration_s")
        if self.min_frame_size > self.max_frame_size:
            raise ValueError("min_frame_size exceeds max_frame_size")
        if self.job_soft_time_limit_s >= self.job_time_limit_s:
            raise ValueError("job_soft_time_limit_s must be under job_time_limit_s")
        return self

    @property
    def data_path(self) -> Path:
        return self.data_dir.resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'stickgen.db'}"

    @property
    def broker(self) -> str:
        return self.broker_url or "filesystem://localhost/"

    @property
    def broker_dir(self) -> Path:
        """Folder of the serverless filesystem transport."""
        return self.data_path / "broker"

    @property
    def datasets_dir(self) -> Path:
        return self.data_path / "datasets"

    @property
    def checkpoints_dir(self) -> Path:
        return self.data_path / "checkpoints"

    @property
    def mocap_path(self) -> Path:
        """Root of the motion-capture files jobs may import (nothing outside it is read)."""
        return (self.mocap_dir or self.data_dir / "mocap").resolve()

    @property
    def work_dir(self) -> Path:
        """Scratch space of running jobs (generate shards)."""
        return self.data_path / "work"

    @property
    def visibility_timeout_s(self) -> int:
        """Redis redelivery delay: longer than the longest job, so no job is delivered twice."""
        return self.job_time_limit_s + 3600

    def text_model_dir(self, model_id: str | None) -> Path | None:
        """The configured text model's folder when `embedding_model` is a local folder holding
        the model `model_id` names (the id a checkpoint records); None otherwise, and the
        checkpoint's own record says where its text model is."""
        folder = local_dir(self.embedding_model) if model_id is not None else None
        if folder is None:
            return None
        from stickgen.embed.embedder import local_model_id

        return folder.resolve() if local_model_id(folder) == model_id else None

    def embedding_models(self) -> list[str]:
        """Text models a job may ask for (never a free path)."""
        return [self.embedding_model, *self.allowed_embedding_models]

    def ensure_dirs(self) -> None:
        for path in (self.datasets_dir, self.checkpoints_dir, self.work_dir):
            path.mkdir(parents=True, exist_ok=True)
        if self.broker.startswith("filesystem://"):
            for name in ("queue", "processed", "control"):
                (self.broker_dir / name).mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
