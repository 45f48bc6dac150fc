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


class MissingVariable(ValueError):
    """A `${NAME:?message}` whose NAME is unset or empty: compose refuses to start."""


def _resolve(value: str, environ: dict[str, str] | None = None) -> str:
    """Compose's interpolation of `value` with the host environment `environ`:
    `${NAME}`, `${NAME:-default}`, `${NAME:?message}` (MissingVariable), `$$` -> `$`."""
    environ = environ or {}

    def one(match: re.Match[str]) -> str:
        name, operator, word = match.group(1), match.group(2), match.group(3) or ""
        given = environ.get(name, "")
        if operator == ":?" and not given:
            raise MissingVariable(f"{name}: {word}")
        return given or (word if operator == ":-" else "")

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", one, value).replace("$$", "$")


SECRETS = {"STICKGEN_API_KEY": "k3y-from-the-host", "POSTGRES_PASSWORD": "pw-from-the-host"}


def test_services_and_images(services: dict) -> None:
    default = {name for name, service in services.items() if "profiles" not in service}
    assert default == {"postgres", "redis", "migrate", "api", "worker", "trainer"}
    assert set(services) - default == {"flower"}
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
    assert api[:3] == ["python", "-m", "app.server"]  # the entry point that checks the bind
    assert callable(importlib.import_module(api[2]).main)
    assert api[api.index("--port") + 1] == "8000"

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
    postgres_env = {key: _resolve(v, SECRETS) for key, v in _env(services["postgres"]).items()}
    assert postgres_env["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    for name in ("migrate", "api", "worker", "trainer"):
        env = {key: _resolve(value, SECRETS) for key, value in _env(services[name]).items()}
        ours = {key: value for key, value in env.items() if key.startswith("STICKGEN_")}
        fields = {f"STICKGEN_{field.upper()}" for field in Settings.model_fields}
        assert set(ours) <= fields, set(ours) - fields  # every variable is a real setting
        settings = Settings(**{key.removeprefix("STICKGEN_").lower(): v for key, v in ours.items()})
        assert settings.db_url.startswith("postgresql+psycopg://")
        assert f"{postgres_env['POSTGRES_USER']}@postgres:5432/{postgres_env['POSTGRES_DB']}" in (
            settings.db_url
        )
        assert env["PGPASSWORD"] == postgres_env["POSTGRES_PASSWORD"]  # libpq reads it
        assert settings.broker.startswith("redis://redis:6379")
        assert settings.auto_migrate is False  # the migrate service owns schema changes
        assert settings.accepted_keys == (SECRETS["STICKGEN_API_KEY"].encode(),)
        assert "stickgen-data:/data" in services[name]["volumes"]
        assert str(settings.data_dir) == "/data"


def test_secrets_come_from_the_environment_and_are_required(compose: dict) -> None:
    text = (REPO / "docker-compose.yml").read_text()
    for secret in SECRETS:
        assert re.search(rf"\$\{{{secret}:\?[^}}]+\}}", text), secret  # refused when unset
        without = {key: value for key, value in SECRETS.items() if key != secret}
        with pytest.raises(MissingVariable, match=secret):
            yaml.safe_load(_resolve(text, without))
    assert _resolve(text, SECRETS)  # with both, the file resolves
    assert "stickgen:stickgen@" not in text and "POSTGRES_PASSWORD: stickgen" not in text


def test_api_is_published_on_loopback_by_default(services: dict) -> None:
    (published,) = services["api"]["ports"]
    assert _resolve(published) == "127.0.0.1:8000:8000"
    assert _resolve(published, {"STICKGEN_PUBLISH_ADDRESS": "0.0.0.0"}) == "0.0.0.0:8000:8000"


def test_flower_is_optional_on_loopback_behind_a_password(services: dict) -> None:
    flower = services["flower"]
    assert flower["profiles"] == ["flower"]  # not started by a plain `docker compose up`
    assert flower["image"].startswith("mher/flower:")
    assert flower["ports"] == ["127.0.0.1:5555:5555"]
    assert flower["depends_on"] == {"redis": {"condition": "service_healthy"}}
    script = _resolve(flower["command"][-1])
    broker = _env(services["worker"])["STICKGEN_BROKER_URL"]
    assert f"--broker={broker}" in script and " flower " in script
    assert script.startswith('test -n "$FLOWER_BASIC_AUTH" || {')  # no password: no Flower
    assert flower["environment"] == ["FLOWER_BASIC_AUTH"]


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
