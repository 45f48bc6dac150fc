"""Command line entry point: `stick-gen`."""

from __future__ import annotations

import sys

from stickgen.cli.app import app, fail
from stickgen.errors import StickGenError


def _register_commands() -> None:
    """Import the command modules; each one adds its commands to `app`."""
    import importlib
    import pkgutil

    import stickgen.cli as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in ("app", "__main__"):
            importlib.import_module(f"stickgen.cli.{info.name}")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors print a one-line message and exit non-zero, never a traceback."""
    _register_commands()
    try:
        app(args=argv if argv is not None else sys.argv[1:], standalone_mode=True)
    except StickGenError as exc:
        raise SystemExit(fail(str(exc)).exit_code) from None
