"""The page's HTTP side without a browser: `/` and its assets are served without the API key,
and `GET /v1/checkpoints/{id}/loss-curve.png` serves the run's curve looked up by id."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from jobcore.db import session_scope
from jobcore.models import CheckpointRow
from jobcore.settings import Settings
from stickgen.schema import FacialExpression
from stickgen.train.curves import plot_loss_curve

WEB_DIR = Path(__file__).resolve().parents[2] / "app" / "web"
KEY = "secret-key"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", reaper_interval_s=0, api_key=KEY)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def add_checkpoint(settings: Settings, folder: Path) -> str:
    """A checkpoint row whose file lives in `folder` (the file itself is never read here)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "best.pt").write_bytes(b"not read")
    with session_scope(settings.db_url) as session:
        row = CheckpointRow(path=str(folder / "best.pt"), epoch=2, kind="best", metrics={})
        session.add(row)
        session.flush()
        return row.id


def test_page_and_assets_are_served_without_the_api_key(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == (WEB_DIR / "index.html").read_text()
    for asset in re.findall(r'(?:src|href)="(web/[^"]+)"', page.text):
        response = client.get(f"/{asset}")
        assert response.status_code == 200, asset
    script = client.get("/web/js/main.js")
    assert "javascript" in script.headers["content-type"]
    assert client.get("/v1/jobs").status_code == 401  # the API itself still needs the key


def test_static_route_does_not_leave_the_web_folder(client: TestClient) -> None:
    for path in ("/web/../main.py", "/web/%2e%2e/main.py", "/web/..%2fsettings.py"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "create_app" not in response.text


def test_every_module_the_page_imports_exists() -> None:
    for script in (WEB_DIR / "js").glob("*.js"):
        for name in re.findall(r'from "\./([^"]+)"', script.read_text()):
            assert (WEB_DIR / "js" / name).is_file(), f"{script.name} imports missing {name}"


def test_page_names_expressions_in_the_schema_order() -> None:
    source = (WEB_DIR / "js" / "vocabulary.js").read_text()
    names = json.loads(re.search(r"EXPRESSIONS = (\[[^\]]*\])", source).group(1))
    assert names == [member.name.lower() for member in FacialExpression]


def test_loss_curve_is_served_by_checkpoint_id(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    run = settings.checkpoints_dir / "run-1"
    checkpoint_id = add_checkpoint(settings, run)
    curve = plot_loss_curve(run, [{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.5}])

    url = f"/v1/checkpoints/{checkpoint_id}/loss-curve.png"
    response = client.get(url, headers={"X-API-Key": KEY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == curve.read_bytes()

    unauthorized = client.get(url)
    assert unauthorized.status_code == 401
    assert unauthorized.headers["content-type"].startswith("application/problem+json")


def test_loss_curve_problems(client: TestClient, settings: Settings) -> None:
    headers = {"X-API-Key": KEY}
    unknown = client.get(f"/v1/checkpoints/{'0' * 32}/loss-curve.png", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "/problems/unknown-checkpoint"

    checkpoint_id = add_checkpoint(settings, settings.checkpoints_dir / "run-without-curve")
    missing = client.get(f"/v1/checkpoints/{checkpoint_id}/loss-curve.png", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["type"] == "/problems/no-loss-curve"


def test_loss_curve_route_is_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1/checkpoints/{checkpoint_id}/loss-curve.png"]["get"]
    assert "image/png" in operation["responses"]["200"]["content"]
    assert "/" not in schema["paths"]  # the page is not part of the API


def test_a_run_stopped_between_two_drawings_still_has_its_curve(
    client: TestClient, settings: Settings
) -> None:
    """A cancelled run (or one between curve drawings) keeps per-epoch metrics: the curve is
    drawn from them, up to the latest epoch, when asked."""
    from stickgen.train.curves import CURVE, write_metrics

    run = settings.checkpoints_dir / "cancelled-run"
    checkpoint_id = add_checkpoint(settings, run)
    history = [{"epoch": e, "train_loss": 2.0 / e, "val_loss": 2.5 / e} for e in (1, 2, 3)]
    write_metrics(run, history)
    assert not (run / CURVE).exists()
    url = f"/v1/checkpoints/{checkpoint_id[:8]}/loss-curve.png"
    response = client.get(url, headers={"X-API-Key": KEY})
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert (run / CURVE).read_bytes() == response.content
