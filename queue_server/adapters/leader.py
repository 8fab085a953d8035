"""One process among several does a singleton job (the relay push): whoever holds the lock.

PostgreSQL: a session advisory lock on a connection kept for as long as it is held. SQLite: an
exclusive `flock` on a file beside the database. Either way the operating system or the
database releases it when the holder dies, so another process takes over at its next try.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from queue_server.adapters.database import is_sqlite


class LeaderLock:
    """`try_acquire()` until it answers True; then the job is this process's until `release()`."""

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._name = name
        self._connection: Connection | None = None
        self._fd: int | None = None
        self.held = False

    def _key(self) -> int:
        digest = hashlib.sha256(f"madoguchi:{self._name}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if is_sqlite(self._engine):
            database = make_url(str(self._engine.url)).database
            if not database or database == ":memory:":
                self.held = True  # one process owns an in-memory database
                return True
            fd = os.open(Path(f"{database}.{self._name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd, self.held = fd, True
            return True
        connection = self._engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key()})
        if got.scalar():
            connection.commit()
            self._connection, self.held = connection, True
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
        if self._connection is not None:
            # The pool keeps sessions open, so unlock explicitly (a dead process's session ends
            # and PostgreSQL drops its locks by itself).
            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key()})
                self._connection.commit()
            self._connection.close()
            self._connection = None
        self.held = False
