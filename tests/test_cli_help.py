"""`stick-gen X --help` for every command: each option says what it is and its default (or that
it is required), and help text is plain (a "[default: ...]" inside it is shown, not eaten)."""

from __future__ import annotations

import contextlib

import typer

from stickgen.cli import _register_commands, main
from stickgen.cli.app import app


def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


def test_every_option_describes_itself_and_its_default() -> None:
    _register_commands()
    missing = []
    for path, command in _commands(typer.main.get_command(app)):
        for param in command.params:
            if not type(param).__name__.endswith("Option") or param.name == "help":
                continue
            text = param.help or ""
            told = (
                param.required
                or param.is_flag
                or (param.default is not None and param.show_default is not False)
                or "default" in text.lower()
            )
            if not text or not told:
                missing.append(f"{' '.join(path)} {'/'.join(param.opts)}")
    assert missing == []


def test_help_shows_defaults_written_in_the_text(capsys) -> None:
    for argv in (["animate", "--help"], ["pipeline", "--help"]):
        with contextlib.suppress(SystemExit):
            main(argv)
    out = " ".join(capsys.readouterr().out.split())
    assert "Output file [default: animation.FORMAT]." in out
    assert "Seconds, 0.5 to 60 [default: from the prompt]." in out
    assert "[default: bundled:all-MiniLM-L6-v2]" in out  # pipeline's text model works offline
