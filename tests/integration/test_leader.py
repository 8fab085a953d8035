"""One process at a time holds a singleton job's lock; it passes on when the holder lets go."""

from __future__ import annotations

from sqlalchemy import create_engine

from queue_server.adapters.leader import LeaderLock


def test_one_holder_at_a_time_on_either_database(database_url: str) -> None:
    first_engine, second_engine = create_engine(database_url), create_engine(database_url)
    first, second = LeaderLock(first_engine, "relay-push"), LeaderLock(second_engine, "relay-push")
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # held: still ours
        assert not second.try_acquire()
        other = LeaderLock(second_engine, "another-job")
        assert other.try_acquire()
        other.release()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()
