"""Service settings, read from `STICKGEN_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="More accepted keys, comma separated (rotation: add the new key, move the "
        "clients to it, then drop the old one)",
    )
    allow_public_without_key: bool = Field(
        False,
        description="Insecure: let the API listen on a non-loopback address without a key "
        "(logged as a warning at start); without it, such a start is refused",
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
    keep_epoch_checkpoints: int = Field(
        3,  # the library's default, TrainConfig.keep_epoch_checkpoints
        ge=0,
        description="How many of the newest checkpoint_epoch_N.pt files a train job keeps "
        "(best and last always stay; a job may ask for another number)",
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
    page_limit: int = Field(200, gt=0, le=1000, description="Most rows a list returns")
    max_body_bytes: int = Field(
        1 << 20, gt=0, description="Largest request body; refused (413) before it is read"
    )
    max_concurrent_renders: int | None = Field(
        None,
        gt=0,
        description="Animations rendered at once by one API process (default: half the cores); "
        "beyond it /v1/animate answers 503 with Retry-After",
    )
    render_wait_s: float = Field(
        1.0, ge=0, description="How long an animation waits for a free render slot"
    )
    min_free_disk_mb: int = Field(
        256, ge=0, description="Below this much free space in data_dir the API refuses new work"
    )

    # job machinery
    heartbeat_interval_s: float = Field(5.0, gt=0)
    stale_after_s: float = Field(60.0, gt=0, description="Heartbeat age that marks a lost worker")
    reaper_interval_s: float = Field(15.0, ge=0, description="0 disables the API's sweep")
    cleanup_interval_s: float = Field(
        300.0,
        ge=0,
        description="Between clean-ups of ended jobs' scratch files, stale render folders and "
        "stale broker entries (run by the API's sweep; 0: only at start)",
    )
    progress_interval_s: float = Field(1.0, ge=0, description="Least time between progress writes")
    claim_timeout_s: float | None = Field(
        None,
        gt=0,
        description="A queued job no worker claimed within this long is sent again, then after "
        "doubling waits (default: twice the heartbeat interval)",
    )
    redispatch_after_s: float = Field(
        3600.0, gt=0, description="Longest wait between two sends of a still-queued job"
    )
    db_timeout_s: float = Field(
        2.0, gt=0, description="Database connect and statement deadline (PostgreSQL)"
    )
    db_retry_s: float = Field(
        30.0, ge=0, description="How long a worker retries a state write through database errors"
    )
    broker_timeout_s: float = Field(2.0, gt=0, description="Broker connect and publish deadline")
    max_attempts: int = Field(3, gt=0, description="Runs of a job before a lost worker fails it")
    job_soft_time_limit_s: int = Field(12 * 3600, gt=0)
    job_time_limit_s: int = Field(12 * 3600 + 600, gt=0)
    worker_concurrency: int = Field(2, gt=0)

    @field_validator("api_key", "database_url", "broker_url", "mocap_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty variable (compose passes unset ones so: `STICKGEN_API_KEY=`) means unset."""
        return None if value == "" else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """`STICKGEN_API_KEYS=new,old`: a comma-separated list; blanks are ignored."""
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

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
    def accepted_keys(self) -> tuple[bytes, ...]:
        """Every API key a request may send (UTF-8); empty: the API needs none."""
        keys = [self.api_key, *self.api_keys] if self.api_key else self.api_keys
        return tuple(key.get_secret_value().encode("utf-8") for key in keys)

    @property
    def claim_wait_s(self) -> float:
        """How long a sent job may stay unclaimed before its message counts as lost."""
        return self.claim_timeout_s or 2 * self.heartbeat_interval_s

    @property
    def render_slots(self) -> int:
        from stickgen.compute import available_cores

        return self.max_concurrent_renders or max(1, available_cores() // 2)

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
    def public_roots(self) -> tuple[Path, ...]:
        """Folders whose paths clients see only relative to them (`jobcore.public`)."""
        return (self.mocap_path, self.data_path)

    @property
    def temp_dir(self) -> Path:
        """Scratch files of the API (animations being rendered)."""
        return self.data_path / "tmp"

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
