"""`python -m app.server [--host H] [--port P]`: the API under uvicorn, with the service's
logging (`jobcore.logs`) and a secure default: it refuses to listen on an address other hosts
can reach unless the server has an API key (`STICKGEN_API_KEY` / `STICKGEN_API_KEYS`), or
`STICKGEN_ALLOW_PUBLIC_WITHOUT_KEY=true` says to, which it warns about at every start. The story
engine's text model loads in the background while the server starts."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import socket
import threading

import uvicorn

from jobcore import logs
from jobcore.settings import Settings, get_settings

log = logging.getLogger("app.server")


class OpenBindRefused(RuntimeError):
    """The API would listen beyond loopback with no key."""


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback one (only this machine reaches it)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses
    )


def check_bind(host: str, settings: Settings) -> None:
    """Refuse (OpenBindRefused) to listen beyond loopback without a key, unless allowed."""
    if settings.accepted_keys or is_loopback(host):
        return
    if not settings.allow_public_without_key:
        raise OpenBindRefused(
            f"refusing to listen on {host}, which other machines can reach, without an API "
            "key: set STICKGEN_API_KEY (or STICKGEN_API_KEYS), listen on 127.0.0.1, or set "
            "STICKGEN_ALLOW_PUBLIC_WITHOUT_KEY=true to serve anyone who can connect"
        )
    log.warning(
        "INSECURE: listening on %s without an API key (STICKGEN_ALLOW_PUBLIC_WITHOUT_KEY): "
        "anyone who can connect may start jobs and read every artefact",
        host,
    )


def warm_up() -> threading.Thread:
    """Load the story engine's meaning reader (its text model) in a background thread, so the
    first prompt with words the rules do not know does not wait for it."""

    def load() -> None:
        from stickgen.story.meaning import reader

        try:
            reader()
        except Exception as exc:  # a prompt that needs it will load it, or say why not
            log.warning("the story engine's text model did not load in advance: %s", exc)

    thread = threading.Thread(target=load, name="warm-story-reader", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ...")
    args = parser.parse_args(argv)
    logs.configure(args.log_level.upper())
    try:
        check_bind(args.host, get_settings())
    except OpenBindRefused as refused:
        log.critical("%s", refused)
        raise SystemExit(2) from None
    warm_up()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,  # keep the logging configured above
        server_header=False,
    )


if __name__ == "__main__":
    main()
