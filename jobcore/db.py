"""Database engine, sessions and schema version checks (Alembic).

On PostgreSQL every wait is bounded: connecting (`connect_timeout`), each statement, commit,
rollback and pool ping (a client-side deadline: a watchdog shuts the socket of a call that runs
past it, so even a server that stops answering mid-query cannot hold a thread), a checkout from
the pool, and server side `statement_timeout`, `lock_timeout` and
`idle_in_transaction_session_timeout`.
"""

from __future__ import annotations

import itertools
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_timeout_s: float | None = 2.0  # the deadline of engines made from now on (`configure`)


def configure(timeout_s: float | None) -> None:
    """Set the connect and statement deadline of the engines this process makes from now on
    (None: no deadline); the API and the worker pass `Settings.db_timeout_s`."""
    global _timeout_s
    _timeout_s = timeout_s


class _Watchdog:
    """Shuts the socket of a DBAPI call that outlives its deadline, so the blocked thread gets
    an error (the connection is then discarded) instead of waiting forever."""

    def __init__(self) -> None:
        self._calls: dict[int, tuple[float, int]] = {}
        self._tokens = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def arm(self, dbapi_connection: Any, timeout_s: float) -> int | None:
        try:
            fd = int(dbapi_connection.pgconn.socket)
        except Exception:  # closed or not a psycopg connection: nothing to guard
            return None
        with self._lock:
            token = next(self._tokens)
            if self._thread is None or self._pid != os.getpid():  # none yet, or forked
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()
            self._calls[token] = (time.monotonic() + timeout_s, fd)
        self._wake.set()
        return token

    def disarm(self, token: int | None) -> bool:
        """Stop watching a call; True when its deadline had passed (the watchdog shut it)."""
        if token is None:
            return False
        with self._lock:
            return self._calls.pop(token, None) is None

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                late = [(t, fd) for t, (end, fd) in self._calls.items() if end <= now]
                for token, _ in late:
                    self._calls.pop(token, None)
                nearest = min((end for end, _ in self._calls.values()), default=now + 1.0)
            for _, fd in late:
                _shut(fd)
            self._wake.wait(max(0.01, min(nearest - time.monotonic(), 1.0)))
            self._wake.clear()


def _shut(fd: int) -> None:
    try:
        copy = os.dup(fd)
    except OSError:
        return
    try:
        sock = socket.socket(fileno=copy)
    except OSError:
        os.close(copy)
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)  # acts on the socket, so the blocked call wakes up
    except OSError:
        pass
    finally:
        sock.close()  # only the duplicate descriptor


_watchdog = _Watchdog()


class _Silence:
    """When the server last failed to answer a connect, or a ping within its deadline: for
    `window_s` after, or until a connect succeeds, new connects fail at once, so a burst of
    requests queued for the pool fails within one deadline instead of each waiting out its own
    connect in turn."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._since = -math.inf

    def mark(self) -> None:
        self._since = time.monotonic()

    def clear(self) -> None:
        self._since = -math.inf

    @property
    def recent(self) -> bool:
        return time.monotonic() - self._since < self.window_s


def _guard(engine: Engine, timeout_s: float, silence: _Silence) -> None:
    """Put a client-side deadline on the dialect calls that wait for the server: `timeout_s`
    on statements, commits and rollbacks, a quarter of it on the pool's ping. A pooled
    connection that fails its ping is replaced by a new one; when the ping ran out of time the
    server is not answering, so that connect fails at once (`silence`)."""
    dialect = engine.dialect

    def bounded(method: Any, connection_of: Any, seconds: float, ping: bool = False) -> Any:
        def call(first: Any, *args: Any, **kwargs: Any) -> Any:
            token = _watchdog.arm(connection_of(first), seconds)
            try:
                return method(first, *args, **kwargs)
            finally:
                if _watchdog.disarm(token) and ping:
                    silence.mark()

        return call

    def of_cursor(cursor: Any) -> Any:
        return cursor.connection

    def itself(connection: Any) -> Any:
        return connection

    for name in ("do_execute", "do_executemany", "do_execute_no_params"):
        setattr(dialect, name, bounded(getattr(dialect, name), of_cursor, timeout_s))
    for name in ("do_commit", "do_rollback"):
        setattr(dialect, name, bounded(getattr(dialect, name), itself, timeout_s))
    dialect.do_ping = bounded(dialect.do_ping, itself, max(0.25, timeout_s / 4), ping=True)


class SchemaOutOfDate(RuntimeError):
    """The database is not at the migration head this code expects."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, timeout_s: float | None = None) -> Engine:
    """A new engine; SQLite gets WAL, a busy timeout and foreign keys (API and worker share it);
    PostgreSQL gets `timeout_s` as its connect, statement and pool deadline."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if timeout_s is None or not url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True)
    ms = max(1, int(timeout_s * 1000))
    options = (
        f"-c statement_timeout={ms} -c lock_timeout={ms} "
        f"-c idle_in_transaction_session_timeout={max(10_000, 5 * ms)}"
    )
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=timeout_s,
        connect_args={"connect_timeout": max(1, math.ceil(timeout_s)), "options": options},
    )
    # long enough for the requests queued for the pool behind a failed connect to meet it, short
    # enough that a worker's heartbeat gets through soon after the server answers again
    silence = _Silence(max(0.5, timeout_s / 2))
    _guard(engine, timeout_s + 0.25, silence)  # the server's own timeout answers first when it can
    _fail_connects_fast(engine, silence)
    return engine


def _fail_connects_fast(engine: Engine, silence: _Silence) -> None:
    """While the server was silent just now (`_Silence`), new connects fail at once."""

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        if silence.recent:
            raise dialect.loaded_dbapi.OperationalError("the database did not answer just now")
        try:
            connection = dialect.connect(*cargs, **cparams)
        except Exception:
            silence.mark()
            raise
        silence.clear()
        return connection


def get_engine(url: str) -> Engine:
    """The process-wide engine for `url` (created on first use)."""
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url, _timeout_s)
        return _engines[url]


def dispose_engines() -> None:
    """Drop pooled connections inherited from a parent process (call after fork)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose(close=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str) -> str | None:
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(url: str) -> None:
    """Apply every pending migration (on an engine without statement deadlines: a migration
    may take longer than a request)."""
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def require_head(url: str) -> None:
    """Raise SchemaOutOfDate unless the database is at the code's migration head."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at revision {current or 'none (empty database)'}, this code "
            f"needs {head}: run `alembic upgrade head` (the compose `migrate` service) first"
        )


def ping(url: str) -> None:
    """Raise if the database cannot run a trivial query."""
    with get_engine(url).connect() as connection:
        connection.execute(text("SELECT 1"))
