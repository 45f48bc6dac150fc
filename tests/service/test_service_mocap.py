"""Generate jobs with motion capture: sources are paths inside the server's motion-capture folder
(refused with a 4xx when absolute, through `..`, leading outside by a link, or missing), and a real
worker merges the imported capture with the synthetic scenes, tagged by source."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_harness import Service

from jobcore.settings import Settings
from stickgen.data.store import Dataset

WALK = "test_freebvh.bvh"  # the Mixamo walk of the bvhtoolbox sdist: one clip
WALK_THEN_CROUCH = "test_mocapbank.bvh"  # 15 s: two clips, both in one split


def _generate(client: TestClient, mocap: Any, **params: Any) -> Any:
    body = {"kind": "generate", "params": {"num_base": 10, **params, "mocap": mocap}}
    return client.post("/v1/jobs", json=body)


def _problem(response: Any, slug: str) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    return body["detail"]


@pytest.fixture
def mocap_root(api_settings: Settings) -> Path:
    """The server's motion-capture folder with a few files (contents do not matter here)."""
    root = api_settings.mocap_path
    (root / "walks").mkdir(parents=True)
    (root / "walks" / "walk.bvh").write_text("HIERARCHY\n")
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("not motion")
    (root / "amass.npz").write_bytes(b"")
    (root / "smplh.npz").write_bytes(b"")
    return root


@pytest.mark.parametrize(
    "sources",
    [
        ["/etc/passwd"],
        ["../secret.bvh"],
        ["walks/../../secret.bvh"],
        ["walks\\walk.bvh"],
        ["C:/mocap/walk.bvh"],
        [""],
        [],
    ],
)
def test_paths_outside_the_folder_are_refused(client, mocap_root, sources) -> None:
    detail = _problem(_generate(client, {"sources": sources}), "invalid-request")
    assert "params.mocap.sources" in detail


def test_absolute_or_escaping_body_model_and_extra_fields_are_refused(client, mocap_root) -> None:
    bad = {"sources": ["walks"], "body_model": "/srv/smplh.npz"}
    assert "params.mocap.body_model" in _problem(_generate(client, bad), "invalid-request")
    extra = {"sources": ["walks"], "path": "/etc"}
    _problem(_generate(client, extra), "invalid-request")


@pytest.mark.parametrize(
    ("mocap", "words"),
    [
        ({"sources": ["walks/missing.bvh"]}, "'walks/missing.bvh' is not in the server's"),
        ({"sources": ["notes.txt"]}, "'notes.txt' is not a motion file"),
        ({"sources": ["empty"]}, "'empty' holds no motion files"),
        ({"sources": ["amass.npz"]}, "need body_model"),
        ({"sources": ["walks"], "body_model": "notes.txt"}, "is not an .npz file"),
        ({"sources": ["walks"], "body_model": "missing.npz"}, "'missing.npz' is not in the"),
        ({"sources": ["a" * 1000]}, "not a usable file name"),
    ],
)
def test_unusable_sources_are_a_clear_422(client, mocap_root, mocap, words) -> None:
    detail = _problem(_generate(client, mocap), "invalid-mocap-source")
    assert words in detail
    assert str(mocap_root) not in detail  # the server's folder is never shown


def test_a_link_that_leads_outside_the_folder_is_refused(client, mocap_root, tmp_path) -> None:
    outside = tmp_path / "private.bvh"
    outside.write_text("HIERARCHY\n")
    (mocap_root / "link.bvh").symlink_to(outside)
    (mocap_root / "linked").symlink_to(tmp_path)
    for name in ("link.bvh", "linked/private.bvh"):
        detail = _problem(_generate(client, {"sources": [name]}), "invalid-mocap-source")
        assert "leads outside the motion-capture folder" in detail


def test_without_a_motion_capture_folder_sources_are_refused(client, api_settings) -> None:
    assert not api_settings.mocap_path.exists()
    detail = _problem(_generate(client, {"sources": ["walk.bvh"]}), "invalid-mocap-source")
    assert "no motion-capture folder" in detail


def test_pipeline_checks_its_generate_step_sources(client, mocap_root) -> None:
    params = {
        "generate": {"num_base": 10, "mocap": {"sources": ["walks/gone.bvh"]}},
        "train": {"preset": "tiny", "epochs": 1},
    }
    response = client.post("/v1/jobs", json={"kind": "pipeline", "params": params})
    assert _problem(response, "invalid-mocap-source").startswith("generate.mocap: ")


def test_accepted_sources_are_stored_relative_and_normalised(client, mocap_root) -> None:
    response = _generate(
        client, {"sources": ["./walks//walk.bvh", "walks", "."], "body_model": "smplh.npz"}
    )
    assert response.status_code == 202, response.text
    stored = response.json()["params"]["mocap"]
    assert stored == {"sources": ["walks/walk.bvh", "walks", "."], "body_model": "smplh.npz"}
    plain = client.post("/v1/jobs", json={"kind": "generate", "params": {"num_base": 10}})
    assert "mocap" not in plain.json()["params"]  # jobs without capture store what they did


# ------------------------------------------------------------------ end to end with a worker


@pytest.fixture(scope="module")
def service_mocap(service: Service, bvhtoolbox_files: Path) -> Path:
    """The bvhtoolbox BVH files placed in the service's motion-capture folder under `capture/`."""
    folder = service.settings.mocap_path / "capture"
    folder.mkdir(parents=True, exist_ok=True)
    for name in (WALK, WALK_THEN_CROUCH):
        shutil.copy(bvhtoolbox_files / name, folder / name)
    return folder


def _dataset_of(service: Service, job: dict[str, Any]) -> tuple[dict[str, Any], Dataset]:
    assert job["status"] == "succeeded", f"{job['error']}\n{service.worker.log_tail()}"
    row = service.client.get(f"/v1/datasets/{job['result']['dataset_id']}")
    assert row.status_code == 200
    assert str(service.settings.data_path) not in row.text  # no server paths in the answer
    return row.json(), Dataset(service.settings.datasets_dir / job["id"])


def _check_mixed(files: Dataset, synthetic: int, capture_files: list[str]) -> None:
    """Synthetic samples first, then the capture clips; every recording in one split."""
    assert list(files.source) == [0] * synthetic + [1] * (len(files) - synthetic)
    imported = files.manifest["merged_from"][-1]
    assert sorted({o["file"].split("/")[-1] for o in imported["origins"]}) == capture_files
    scenes = files.scene_id[synthetic:]
    assert set(scenes).isdisjoint(files.scene_id[:synthetic])
    for scene in np.unique(scenes):
        assert len(set(files.split[synthetic:][scenes == scene])) == 1
    for i in range(synthetic, len(files)):  # real capture: an upright figure on the ground
        motion = files[i]["motion"]
        assert np.all(motion[:, 1] > motion[:, 3])  # neck above hip
        assert motion[:, [15, 19]].min() > -0.02  # feet not below the ground


@pytest.mark.parametrize("service", ["sqlite"], indirect=True)
def test_generate_job_merges_capture_with_synthetic_scenes(
    service: Service, service_mocap: Path
) -> None:
    mocap = {"sources": ["capture"]}  # a folder: both files
    job = service.create("generate", {"num_base": 6, "augment": False, "seed": 3, "mocap": mocap})
    done = service.wait(job["id"], timeout_s=180)
    row, files = _dataset_of(service, done)
    assert done["result"]["sources"] == {"synthetic": 6, "mocap": 3}
    assert row["samples"] == len(files) == 9
    assert row["manifest"]["sources"] == ["synthetic", "mocap"]
    _check_mixed(files, 6, [WALK, WALK_THEN_CROUCH])
    assert files.manifest["merged_from"][0]["generator"]["num_base"] == 6
    assert not (service.settings.work_dir / job["id"]).exists()  # scratch space cleaned up


@pytest.mark.parametrize("service", ["sqlite"], indirect=True)
def test_sharded_generate_imports_capture_in_its_merge_step(
    service: Service, service_mocap: Path
) -> None:
    params = {"num_base": 256, "augment": False, "seed": 4, "shards": 2}
    job = service.create("generate", {**params, "mocap": {"sources": [f"capture/{WALK}"]}})
    done = service.wait(job["id"], timeout_s=240)
    row, files = _dataset_of(service, done)
    shards = service.client.get("/v1/jobs", params={"parent_id": job["id"]}).json()["items"]
    assert sorted(s["step"] for s in shards) == [0, 1]
    assert done["result"]["sources"] == {"synthetic": 256, "mocap": 1}
    assert done["result"]["shards"] == 2 and row["samples"] == 257
    _check_mixed(files, 256, [WALK])
