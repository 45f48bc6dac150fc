"""A TCP proxy on loopback for fault injection: put it between a client and a real server
(PostgreSQL, Redis) and make the link hang, drop or come back.

- `hang()`: every connection stays open but no byte moves either way (a frozen server or a
  black-holed network); new connections are accepted and hang too. `restore()` lets the held
  bytes through.
- `drop()`: every open connection is reset and new ones are reset at once (a restarting
  server). `restore()` accepts connections again.
- `blip(seconds)`: drop, then restore after `seconds` (in the background).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator

OPEN, HANG, DROP = "open", "hang", "drop"


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.state = OPEN
        self.connections = 0
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        threading.Thread(target=self._accept, name="faultproxy-accept", daemon=True).start()

    # -- faults --------------------------------------------------------------------------
    def hang(self) -> None:
        self.state = HANG
        self._flowing.clear()

    def drop(self) -> None:
        self.state = DROP
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _reset(sock)
        self._flowing.set()

    def restore(self) -> None:
        self.state = OPEN
        self._flowing.set()

    def blip(self, seconds: float) -> threading.Thread:
        """Drop every connection and refuse new ones for `seconds`, in the background."""
        self.drop()

        def later() -> None:
            time.sleep(seconds)
            self.restore()

        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        return thread

    @contextlib.contextmanager
    def hanging(self) -> Iterator[None]:
        self.hang()
        try:
            yield
        finally:
            self.restore()

    def url(self, template: str) -> str:
        """`template` with `{port}` replaced by this proxy's port."""
        return template.format(port=self.port)

    def close(self) -> None:
        self._closed = True
        self.drop()
        self.listener.close()

    # -- plumbing ------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.state == DROP:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            self.connections += 1
            with self._lock:
                self._pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(src, selectors.EVENT_READ)
            while True:
                if not selector.select(timeout=0.5):
                    continue
                data = src.recv(65536)
                if not data:
                    break
                while not self._flowing.wait(0.5):  # hanging: hold the bytes
                    pass
                if self.state == DROP:
                    break
                dst.sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            selector.close()
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a crashed server's kernel would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
