"""Growing lock-outs after failed staff logins, per account and per client address.

The check comes before the password is hashed, so a locked account or address costs no argon2
time. While locked, even the right password is refused (the answer says so, in Japanese and
English) and the caller is told when to try again (`Retry-After`). The counts live in the database,
so every server process shares them. A successful login clears the account's count, not the
address's: an address's count fades after `WINDOW` without failures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from queue_server.adapters import tables as t
from queue_server.adapters.database import writer
from queue_server.domain.errors import DomainError
from queue_server.service.ports import Clock

#: Failures allowed before the first lock-out; then each failure doubles it, up to `LONGEST`.
FREE_PER_ACCOUNT = 3
FREE_PER_ADDRESS = 20  # a city's clerks may share one address behind NAT
FIRST = timedelta(seconds=2)
LONGEST = timedelta(minutes=15)
#: A key without failures for this long starts again from zero.
WINDOW = timedelta(hours=1)


class LoginLocked(DomainError):
    code = "login_locked"
    status = 429

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"too many failed logins: try again in {seconds} s; until then even the right"
            " password is refused"
        )
        self.message_ja = (
            f"ログインの失敗が続いたため、あと{seconds}秒間はログインできません。"
            "その間は正しいパスワードでもログインできません。"
        )
        self.retry_after = seconds
        self.headers = {"Retry-After": str(seconds)}


@dataclass(frozen=True)
class _Key:
    key: str
    free: int


def _keys(user: str, address: str) -> tuple[_Key, _Key]:
    return (
        _Key("user:" + user.strip().lower()[:180], FREE_PER_ACCOUNT),
        _Key("addr:" + address[:180], FREE_PER_ADDRESS),
    )


def lock_for(failures: int, free: int) -> timedelta | None:
    """How long `failures` failures in a row lock a key (None: not yet)."""
    if failures <= free:
        return None
    doublings = min(failures - free - 1, 20)
    longer: timedelta = FIRST * (2**doublings)
    return min(longer, LONGEST)


class LoginThrottle:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._clock = clock

    def check(self, user: str, address: str) -> None:
        """Raise `LoginLocked` while the account or the address is locked out."""
        now = self._clock.now()
        keys = [k.key for k in _keys(user, address)]
        with self._engine.connect() as c:
            until = c.execute(
                select(t.login_throttle.c.locked_until).where(
                    t.login_throttle.c.key.in_(keys), t.login_throttle.c.locked_until > now
                )
            ).scalars()
            latest = max(until, default=None)
        if latest is not None:
            raise LoginLocked(max(1, math.ceil((latest - now).total_seconds())))

    def failed(self, user: str, address: str) -> None:
        """Count a failure for both keys and lock them when it is one too many."""
        now = self._clock.now()
        lt = t.login_throttle.c
        for key in _keys(user, address):
            for _ in range(2):  # a concurrent first failure may insert the row first
                try:
                    with self._writer.begin() as c:
                        row = c.execute(
                            select(lt.failures, lt.updated_at).where(lt.key == key.key)
                        ).first()
                        if row is None or now - row.updated_at > WINDOW:
                            failures = 1
                        else:
                            failures = int(row.failures) + 1
                        lock = lock_for(failures, key.free)
                        values = {
                            "failures": failures,
                            "locked_until": now + lock if lock else None,
                            "updated_at": now,
                        }
                        if row is None:
                            c.execute(insert(t.login_throttle).values(key=key.key, **values))
                        else:
                            c.execute(
                                update(t.login_throttle).where(lt.key == key.key).values(**values)
                            )
                    break
                except IntegrityError:
                    continue
        with self._writer.begin() as c:
            c.execute(delete(t.login_throttle).where(lt.updated_at < now - WINDOW * 24))

    def succeeded(self, user: str) -> None:
        """The account's failures are forgotten (the address's fade with time)."""
        key = _keys(user, "")[0].key
        with self._writer.begin() as c:
            c.execute(delete(t.login_throttle).where(t.login_throttle.c.key == key))
