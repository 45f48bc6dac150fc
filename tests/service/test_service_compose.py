"""The compose deployment, checked without a Docker engine: the compose file's services,
dependencies, health checks and environment, and the Dockerfile's install order."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml

from jobcore.broker import QUEUE_DEFAULT, QUEUE_TRAIN
from jobcore.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _resolve(value: str) -> str:
    """`${NAME:-default}` -> default, as compose does with NAME unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_services_and_images(services: dict) -> None:
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker", "trainer"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("migrate", "api", "worker", "trainer"):
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["api"]["image"]  # one image, four roles


def test_health_checks(services: dict) -> None:
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/readyz" in api_check
    for name in ("worker", "trainer"):
        worker_check = " ".join(services[name]["healthcheck"]["test"])
        assert "inspect ping" in worker_check and "worker.celery_app:celery_app" in worker_check


def test_startup_order(services: dict) -> None:
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker", "trainer"):
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}
        assert depends["migrate"] == {"condition": "service_completed_successfully"}


def test_commands_point_at_real_entry_points(services: dict) -> None:
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert (REPO / "alembic.ini").exists() and (REPO / "migrations" / "env.py").exists()

    api = services["api"]["command"]
    assert api[:2] == ["uvicorn", api[1]] and "--factory" in api
    module, _, name = api[1].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    assert api[api.index("--port") + 1] == "8000"
    assert any(port.endswith(":8000") for port in services["api"]["ports"])

    queues = {}
    for name in ("worker", "trainer"):
        command = services[name]["command"]
        assert command[:4] == ["celery", "-A", "worker.celery_app:celery_app", "worker"]
        queues[name] = command[command.index("-Q") + 1]
    # every queue is served; training on its own, one job at a time
    assert queues == {"worker": QUEUE_DEFAULT, "trainer": QUEUE_TRAIN}
    trainer = services["trainer"]["command"]
    assert trainer[trainer.index("--concurrency") + 1] == "1"


def test_environment_configures_postgres_redis_and_compose_mode(services: dict) -> None:
    postgres_env = _env(services["postgres"])
    for name in ("migrate", "api", "worker", "trainer"):
        env = {key: _resolve(value) for key, value in _env(services[name]).items()}
        fields = {f"STICKGEN_{field.upper()}" for field in Settings.model_fields}
        assert set(env) <= fields, set(env) - fields  # every variable is a real setting
        settings = Settings(**{key.removeprefix("STICKGEN_").lower(): v for key, v in env.items()})
        assert settings.db_url.startswith("postgresql+psycopg://")
        assert f"@postgres:5432/{postgres_env['POSTGRES_DB']}" in settings.db_url
        assert f"{postgres_env['POSTGRES_USER']}:{postgres_env['POSTGRES_PASSWORD']}@" in (
            settings.db_url
        )
        assert settings.broker.startswith("redis://redis:6379")
        assert settings.auto_migrate is False  # the migrate service owns schema changes
        assert settings.api_key is None  # unless STICKGEN_API_KEY is set on the host
        assert "stickgen-data:/data" in services[name]["volumes"]
        assert str(settings.data_dir) == "/data"


def _pip_installs(lines: list[str]) -> list[list[str]]:
    """The argument lists of every `pip install` in shell lines."""
    installs = []
    for line in lines:
        for part in re.split(r"&&|;", line):
            words = shlex.split(part.replace("\\\n", " "))
            if "pip" in words and "install" in words:
                installs.append(words[words.index("install") + 1 :])
    return installs


def _dockerfile_runs() -> list[str]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    return [line[4:] for line in text.splitlines() if line.startswith("RUN ")]


def test_dockerfile_installs_like_scripts_setup() -> None:
    docker = [args for args in _pip_installs(_dockerfile_runs()) if "--upgrade" not in args]
    setup_lines = (REPO / "scripts" / "setup").read_text().splitlines()
    setup = [args for args in _pip_installs(setup_lines) if "--upgrade" not in args]

    def torch_pin(args: list[str]) -> str | None:
        return next((a for a in args if a.startswith("torch==")), None)

    assert torch_pin(setup[0]) and torch_pin(docker[0]) == torch_pin(setup[0])  # torch first
    assert docker[0][docker[0].index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    package = [a for a in docker[1] if not a.startswith("-") or a == "-e"]
    setup_package = [a for a in setup[1] if not a.startswith("-") or a == "-e"]
    assert package == ["-e", "."]
    assert setup_package[0] == "-e" and setup_package[1].startswith(".")  # then the package


def test_dockerfile_base_user_and_contents() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    for path in (
        "stickgen",
        "app",
        "worker",
        "jobcore",
        "migrations",
        "alembic.ini",
        "pyproject.toml",
    ):
        assert re.search(rf"^COPY .*\b{re.escape(path)}\b", text, re.M), path
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "data", ".git"} <= set(ignored)
