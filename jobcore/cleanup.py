"""Removing what ended work leaves behind (run by the API at start and every
`cleanup_interval_s` in its sweep; each step is safe to run from several processes):

- `work/<job id>` scratch folders (generate shards, unpublished datasets) of jobs that ended;
- attempt folders of training and evaluation runs that no row points to (their runs lost the
  claim or stopped);
- dataset, checkpoint and evaluation folders that no row accounts for (left by a run that lost
  its claim after its job was deleted, or by a delete whose files could not all go);
- the API's temporary render folders whose process is gone (an API killed mid-render);
- Redis `unacked` entries of messages that can never matter again: their job ended, or a newer
  message was sent for it (left by a worker killed while it held them; Redis would otherwise
  redeliver them only after the visibility timeout, hours later).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from jobcore.db import session_scope
from jobcore.models import TERMINAL, CheckpointRow, DatasetRow, Job
from jobcore.settings import Settings

log = logging.getLogger(__name__)
ATTEMPT_PREFIX = "attempt-"


# -- temporary folders of a process ---------------------------------------------------------------
def _start_ticks(pid: int) -> str | None:
    """The start time of process `pid` (clock ticks since boot), None when there is none."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return "?"
        return "?"  # alive, start time unknown (not Linux)


def temp_prefix(kind: str) -> str:
    """Prefix of a temporary folder owned by this process: `<kind>-<pid>-<start>-`, so a later
    clean-up can tell whether its process still runs (a reused pid has another start time)."""
    return f"{kind}-{os.getpid()}-{_start_ticks(os.getpid())}-"


def _owner_gone(name: str) -> bool:
    parts = name.split("-")
    if len(parts) < 4 or not parts[1].isdigit():
        return False
    ticks = _start_ticks(int(parts[1]))
    return ticks is None or (ticks != "?" and ticks != parts[2])


def remove_stale_temp(settings: Settings) -> int:
    """Delete temporary folders of processes that no longer run."""
    removed = 0
    if not settings.temp_dir.is_dir():
        return 0
    for folder in settings.temp_dir.iterdir():
        if folder.is_dir() and _owner_gone(folder.name):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


# -- job folders -----------------------------------------------------------------------------------
def _statuses(settings: Settings, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    with session_scope(settings.db_url) as session:
        rows = session.execute(select(Job.id, Job.status).where(Job.id.in_(ids)))
        return {job_id: status for job_id, status in rows}


def remove_finished_work(settings: Settings, min_age_s: float = 60.0) -> int:
    """Delete scratch folders of ended (or unknown) jobs; young folders are left alone (their
    job row may be about to commit)."""
    if not settings.work_dir.is_dir():
        return 0
    now = time.time()
    folders = {f.name: f for f in settings.work_dir.iterdir() if f.is_dir()}
    statuses = _statuses(settings, list(folders))
    removed = 0
    for name, folder in folders.items():
        status = statuses.get(name)
        old = now - folder.stat().st_mtime > min_age_s
        if status in TERMINAL or (status is None and old):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def remove_unreferenced_attempts(settings: Settings) -> int:
    """Delete attempt folders of ended jobs that no checkpoint row points into."""
    roots = [settings.checkpoints_dir, settings.data_path / "evaluations"]
    candidates = [
        job_dir for root in roots if root.is_dir() for job_dir in root.iterdir() if job_dir.is_dir()
    ]
    statuses = _statuses(settings, sorted({d.name for d in candidates}))
    ended = [d for d in candidates if statuses.get(d.name) in TERMINAL]
    if not ended:
        return 0
    with session_scope(settings.db_url) as session:
        paths = session.scalars(
            select(CheckpointRow.path).where(CheckpointRow.job_id.in_([d.name for d in ended]))
        )
        used = {str(Path(p).parent) for p in paths}
    removed = 0
    for job_dir in ended:
        for folder in job_dir.iterdir():
            if folder.name.startswith(ATTEMPT_PREFIX) and str(folder.resolve()) not in used:
                if job_dir.parent.name == "evaluations" and _newest(job_dir) == folder:
                    continue  # an evaluation's files are named by its row's JSON, not a path
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed


def remove_orphans(settings: Settings, min_age_s: float = 60.0) -> int:
    """Delete folders older than `min_age_s` that no row accounts for: a dataset folder no
    dataset row points at, a checkpoint or evaluation folder of a job that has no row and
    holds no checkpoint row's file."""
    now = time.time()

    def old(folder: Path) -> bool:
        return folder.is_dir() and now - folder.stat().st_mtime > min_age_s

    def children(root: Path) -> list[Path]:
        return [f for f in root.iterdir() if old(f)] if root.is_dir() else []

    datasets = children(settings.datasets_dir)
    job_dirs = children(settings.checkpoints_dir) + children(settings.data_path / "evaluations")
    with session_scope(settings.db_url) as session:
        dataset_paths = {str(Path(p).resolve()) for p in session.scalars(select(DatasetRow.path))}
        checkpoint_dirs = {
            str(Path(p).resolve().parent.parent)
            for p in session.scalars(select(CheckpointRow.path))
        }
    statuses = _statuses(settings, sorted({d.name for d in job_dirs}))
    orphans = [d for d in datasets if str(d.resolve()) not in dataset_paths]
    orphans += [
        d for d in job_dirs if d.name not in statuses and str(d.resolve()) not in checkpoint_dirs
    ]
    for folder in orphans:
        shutil.rmtree(folder, ignore_errors=True)
    return len(orphans)


def _newest(job_dir: Path) -> Path | None:
    attempts = [f for f in job_dir.iterdir() if f.name.startswith(ATTEMPT_PREFIX)]
    return max(attempts, key=lambda f: int(f.name.removeprefix(ATTEMPT_PREFIX) or 0), default=None)


# -- broker ----------------------------------------------------------------------------------------
def _message_ids(raw: bytes | str) -> tuple[str | None, str | None]:
    """(task id, job id) of a kombu Redis `unacked` entry."""
    try:
        payload, _exchange, _routing_key = json.loads(raw)
        task_id = payload["headers"]["id"]
        body = payload["body"]
        if payload.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return task_id, str(args[0]) if args else None
    except (ValueError, KeyError, IndexError, TypeError):
        return None, None


def remove_stale_unacked(settings: Settings, client: Any = None) -> int:
    """Delete Redis `unacked` entries older than `stale_after_s` whose job ended or was sent a
    newer message. Entries of tasks still running are kept."""
    if not settings.broker.startswith(("redis://", "rediss://")):
        return 0
    import redis

    client = client or redis.Redis.from_url(
        settings.broker,
        socket_timeout=settings.broker_timeout_s,
        socket_connect_timeout=settings.broker_timeout_s,
    )
    prefix = settings.redis_key_prefix
    hash_key, index_key = f"{prefix}unacked", f"{prefix}unacked_index"
    cutoff = time.time() - settings.stale_after_s
    tags = client.zrangebyscore(index_key, 0, cutoff)
    if not tags:
        return 0
    entries = dict(zip(tags, client.hmget(hash_key, tags), strict=True))
    ids = {tag: _message_ids(raw) for tag, raw in entries.items() if raw is not None}
    job_ids = sorted({job_id for _, job_id in ids.values() if job_id})
    with session_scope(settings.db_url) as session:
        jobs = {
            row.id: (row.status, row.task_id)
            for row in session.execute(select(Job.id, Job.status, Job.task_id).where(
                Job.id.in_(job_ids)))
        }  # fmt: skip
    stale = []
    for tag, raw in entries.items():
        task_id, job_id = ids.get(tag, (None, None))
        status, current = jobs.get(job_id, (None, None)) if job_id else (None, None)
        if (
            raw is None
            or (job_id and (status is None or status in TERMINAL))
            or (task_id and current and task_id != current)
        ):
            stale.append(tag)
    if stale:
        client.pipeline().zrem(index_key, *stale).hdel(hash_key, *stale).execute()
        log.info("removed %d stale unacked broker entries", len(stale))
    return len(stale)


def clean(settings: Settings) -> dict[str, int]:
    """Every clean-up step; a failing step is logged and the others still run."""
    counts: dict[str, int] = {}
    steps = {
        "temp": remove_stale_temp,
        "work": remove_finished_work,
        "attempts": remove_unreferenced_attempts,
        "orphans": remove_orphans,
        "unacked": remove_stale_unacked,
    }
    for name, step in steps.items():
        try:
            counts[name] = step(settings)
        except Exception:
            log.warning("clean-up step %s failed", name, exc_info=True)
    return counts
