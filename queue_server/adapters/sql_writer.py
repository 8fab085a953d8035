"""The office's writer: one thread per process that owns one connection and commits in groups.

A request hands its use case over as a job and waits for the result (or awaits it). The writer
takes every job that is waiting, opens one transaction holding the office lock, runs each job in
its own savepoint (a job that fails rolls back alone, so numbers stay gap-free), stores the seq
once, commits, and only then answers the jobs and publishes their events. Under load one commit
pays for many tickets (group commit); alone, a job is committed at once.

Several processes on one SQLite file serialise their transactions with an exclusive `flock` on a
lock file beside the database: a waiting writer sleeps in the kernel until the lock is free,
where SQLite's busy handler would poll with growing sleeps. On PostgreSQL the office row's
`FOR UPDATE` does the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.engine import make_url

from queue_server.adapters import tables as t
from queue_server.adapters.database import is_sqlite, reader, scrub_wal, writer
from queue_server.adapters.event_bus import EventBus
from queue_server.adapters.sql_store import SqlQueueStore, StoreMark

logger = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_BATCH = 64  # jobs per transaction: bounds the latency one commit adds to the first job
_STOP = object()


class _FileLock:
    """An exclusive lock shared by every process that writes one SQLite file."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def held(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


def _file_lock(engine: Engine) -> _FileLock | None:
    if not is_sqlite(engine):
        return None
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        return None
    return _FileLock(Path(f"{database}.writelock"))


class _Job:
    __slots__ = ("future", "work")

    def __init__(self, work: Callable[[SqlQueueStore], Any]) -> None:
        self.work = work
        self.future: Future[Any] = Future()


class SqlStoreFactory:
    """Runs write jobs on the office's writer thread; opens read transactions."""

    def __init__(self, engine: Engine, office_id: str, bus: EventBus) -> None:
        self.engine = engine
        self.office_id = office_id
        self.bus = bus
        self._writer_engine = writer(engine)
        self._reader = reader(engine)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = _file_lock(engine)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._connection: Connection | None = None
        self._closed = False

    # -- writing ----------------------------------------------------------------------------

    def submit(self, work: Callable[[SqlQueueStore], T]) -> Future[T]:
        """Run `work` in a write transaction on the writer thread; its result once committed."""
        job = _Job(work)
        with self._start_lock:
            if self._closed:
                raise RuntimeError("the writer is closed (the server is stopping)")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="madoguchi-writer", daemon=True
                )
                self._thread.start()
            self._jobs.put(job)
        return job.future

    def run(self, work: Callable[[SqlQueueStore], T]) -> T:
        """`submit` and wait."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("a write job cannot wait for another write job")
        return self.submit(work).result()

    def close(self) -> None:
        """Stop the writer thread after the jobs already submitted."""
        with self._start_lock:
            self._closed = True
            thread = self._thread
            self._jobs.put(_STOP)  # after every job already submitted
        if thread is not None:
            thread.join(10)
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < _MAX_BATCH:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            with self._locked():
                connection = self._open()
                with connection.begin() as transaction:
                    store = SqlQueueStore(connection, self.office_id, locked=True)
                    store.office()  # take the office lock before anything else is read
                    if len(batch) == 1:
                        # Alone, a job needs no savepoint: the transaction is its own.
                        outcomes.append(self._run_alone(store, batch[0]))
                    else:
                        for job in batch:
                            outcomes.append(self._run_job(connection, store, job))
                    if outcomes[0][2] is not None and len(batch) == 1:
                        transaction.rollback()
                    else:
                        store.flush()
                        if store.notices:
                            self.bus.publish_in_transaction(connection, store.notices)
                        transaction.commit()
        except BaseException as exc:  # the commit or the connection failed: nothing was kept
            self._discard_connection()
            logger.warning("writer: transaction failed (%s)", type(exc).__name__)
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        if store.notices:
            self.bus.publish_after_commit(store.notices)
        if store.purged and self._connection is not None:
            scrub_wal(self._connection)
        for job, result, error in outcomes:
            if error is None:
                job.future.set_result(result)
            else:
                job.future.set_exception(error)

    @staticmethod
    def _run_alone(store: SqlQueueStore, job: _Job) -> tuple[_Job, Any, BaseException | None]:
        try:
            return job, job.work(store), None
        except Exception as exc:
            store.reset(StoreMark(None, 0, None, 0, 0))
            return job, None, exc

    @staticmethod
    def _run_job(
        connection: Connection, store: SqlQueueStore, job: _Job
    ) -> tuple[_Job, Any, BaseException | None]:
        # The savepoint is set on the driver's connection directly: one per ticket, and
        # SQLAlchemy's nested-transaction bookkeeping cost more than SQLite's savepoint itself.
        # It is always released before the next job, so SQLAlchemy's own view stays right.
        driver = connection.connection.driver_connection
        assert driver is not None
        mark = store.mark()
        driver.execute("SAVEPOINT madoguchi_job")
        try:
            result = job.work(store)
        except Exception as exc:
            driver.execute("ROLLBACK TO SAVEPOINT madoguchi_job")
            driver.execute("RELEASE SAVEPOINT madoguchi_job")
            store.reset(mark)
            return job, None, exc
        driver.execute("RELEASE SAVEPOINT madoguchi_job")
        return job, result, None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock is None:
            yield
            return
        with self._lock.held():
            yield

    def _open(self) -> Connection:
        if self._connection is None or self._connection.closed:
            self._connection = self._writer_engine.connect()
        return self._connection

    def _discard_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.invalidate()
                self._connection.close()
        self._connection = None

    # -- reading ----------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[SqlQueueStore]:
        with self._reader.connect() as connection, connection.begin():
            yield SqlQueueStore(connection, self.office_id, locked=False)

    def events_after(self, seq: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Committed events with a higher seq, in order (to fill gaps in a stream)."""
        e = t.office_events.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(e.payload)
                .where(e.office_id == self.office_id, e.seq > seq)
                .order_by(e.seq)
                .limit(limit)
            )
            return [dict(r.payload) for r in rows]

    def current_seq(self) -> int:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(t.offices.c.seq).where(t.offices.c.id == self.office_id)
            ).scalar_one_or_none()
            return int(value or 0)
