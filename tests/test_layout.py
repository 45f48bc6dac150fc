"""Import arrows between the top-level packages: app -> jobcore <- worker, all three -> stickgen.

Every import statement of every module counts, at module level or inside a function."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "worker", "jobcore", "stickgen")
WEB_AND_QUEUE = ("fastapi", "starlette", "uvicorn", "celery", "kombu", "sqlalchemy", "alembic")
FORBIDDEN = {
    "app": {"worker"},
    "worker": {"app"},
    "jobcore": {"app", "worker"},
    "stickgen": {"app", "worker", "jobcore", *WEB_AND_QUEUE},  # a plain library
}


@dataclass(frozen=True)
class Import:
    path: str  # relative to the repository
    line: int
    module: str  # absolute dotted name
    statement: str

    @property
    def top(self) -> str:
        return self.module.split(".", 1)[0]


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    """Every import in the module at `path` (relative ones made absolute)."""
    source = path.read_text() if source is None else source
    tree = ast.parse(source, filename=str(path))
    package = list(path.relative_to(REPO).parts[:-1])  # what `from . import x` means here
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            modules = [".".join([*base, node.module] if node.module else base)]
        else:
            continue
        text = ast.get_source_segment(source, node) or ast.unparse(node)
        where = str(path.relative_to(REPO))
        found += [Import(where, node.lineno, module, text) for module in modules]
    return found


def violations(package: str, found: list[Import]) -> list[str]:
    return [
        f"{imp.path}:{imp.line}: `{imp.statement}`: {package} must not import {imp.top}"
        for imp in found
        if imp.top in FORBIDDEN[package]
    ]


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


# inside the library: data files are written and checked without the text model's package
LIBRARY_FORBIDDEN = {"stickgen.data": ("stickgen.embed", "stickgen.train", "stickgen.evaluate")}


def test_imports_follow_the_arrows() -> None:
    problems = []
    for package in PACKAGES:
        for path in _modules(package):
            problems += violations(package, imports_of(path))
    assert not problems, "imports against the arrows:\n" + "\n".join(problems)


def test_the_library_s_data_package_imports_no_later_phase() -> None:
    problems = [
        f"{imp.path}:{imp.line}: `{imp.statement}`: {package} must not import {banned}"
        for package, banned_list in LIBRARY_FORBIDDEN.items()
        for path in sorted((REPO / package.replace(".", "/")).rglob("*.py"))
        for imp in imports_of(path)
        for banned in banned_list
        if imp.module == banned or imp.module.startswith(banned + ".")
    ]
    assert not problems, "imports against the arrows:\n" + "\n".join(problems)


def test_the_walk_sees_every_import() -> None:
    """The check reads function-level and relative imports too (else it would pass on nothing)."""
    path = REPO / "jobcore" / "example.py"
    source = "import os\n\ndef f():\n    from worker.tasks import train\n    from . import db\n"
    found = imports_of(path, source)
    assert [(i.line, i.module) for i in found] == [
        (1, "os"),
        (4, "worker.tasks"),
        (5, "jobcore"),
    ]
    assert violations("jobcore", found) == [
        "jobcore/example.py:4: `from worker.tasks import train`: jobcore must not import worker"
    ]
    seen = {imp.top for path in _modules("app") for imp in imports_of(path)}
    assert {"jobcore", "stickgen"} <= seen


def test_importing_the_api_builds_nothing(tmp_path: Path) -> None:
    """No Celery app, worker module or data folder comes from `import app.main`."""
    data = tmp_path / "data"
    code = (
        "import sys, app.main\n"
        "assert 'worker' not in sys.modules, 'app.main imported the worker'\n"
        "from celery import current_app\n"
        "assert current_app.main != 'stickgen', 'a Celery app was built on import'\n"
    )
    env = {**os.environ, "STICKGEN_DATA_DIR": str(data)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not data.exists()
