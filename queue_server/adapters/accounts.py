"""Staff accounts (argon2-hashed passwords, bearer sessions) and device tokens."""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from queue_server.adapters import tables as t
from queue_server.adapters.database import new_id, writer
from queue_server.domain.errors import DomainError
from queue_server.service.ports import Clock

ROLES = ("clerk", "admin")
DEVICE_KINDS = ("kiosk", "board")
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing the same.
_DUMMY_HASH = _hasher.hash("not-a-password")


class AccountError(DomainError):
    code = "account_error"
    status = 409


class WeakPassword(DomainError):
    code = "weak_password"
    status = 422
    message_ja = "パスワードが短すぎるか、空白だけです。"


class LoginBusy(DomainError):
    code = "login_busy"
    status = 429
    message_ja = "ログインが集中しています。しばらくしてからもう一度お試しください。"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "2"}


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    message_ja = "ユーザー名またはパスワードが違います。"


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    kind: str


#: Password checks (argon2, ~0.4 s of CPU each) running at once per process, and how long a
#: login waits for its turn before it is told to retry (429 login_busy).
HASHING_AT_ONCE = 2
HASHING_WAIT_SECONDS = 5.0
#: Shortest password per role: administrators change the office and the staff list.
MIN_PASSWORD = {"clerk": 8, "admin": 12}


def check_password(password: str, role: str) -> None:
    """Refuse blank passwords and passwords shorter than the role's minimum."""
    if not password.strip():
        raise WeakPassword("the password must not be blank")
    shortest = MIN_PASSWORD.get(role, max(MIN_PASSWORD.values()))
    if len(password) < shortest:
        raise WeakPassword(f"the password needs at least {shortest} characters for the {role} role")


def _digest(token: str) -> str:
    # surrogatepass: a token from JSON may hold a lone surrogate; it just matches nothing.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Accounts:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        staff_token_hours: float = 12.0,
        hasher: PasswordHasher = _hasher,
    ) -> None:
        self._hasher = hasher
        self._engine = engine
        self._writer = writer(engine)
        self._seen: dict[int, datetime] = {}  # device id -> last seen, not yet written
        self._seen_lock = threading.Lock()
        self._clock = clock
        self._ttl = timedelta(hours=staff_token_hours)
        self._hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)

    def add_user(self, name: str, role: str, password: str) -> Staff:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        check_password(password, role)
        if not name or len(name) > 80:
            raise AccountError("user name must have 1 to 80 characters")
        try:
            with self._writer.begin() as c:
                result = c.execute(
                    insert(t.users).values(
                        name=name,
                        role=role,
                        password_hash=self._hasher.hash(password),
                        active=True,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError as exc:
            raise AccountError(f"user {name!r} already exists") from exc
        return Staff(new_id(result), name, role)

    def set_password(self, name: str, password: str) -> None:
        with self._engine.connect() as c:
            role = c.execute(select(t.users.c.role).where(t.users.c.name == name)).scalar()
        if role is None:
            raise AccountError(f"no user {name!r}")
        check_password(password, role)
        with self._writer.begin() as c:
            c.execute(
                update(t.users)
                .where(t.users.c.name == name)
                .values(password_hash=self._hasher.hash(password))
            )
            c.execute(
                delete(t.staff_sessions).where(
                    t.staff_sessions.c.user_id.in_(
                        select(t.users.c.id).where(t.users.c.name == name)
                    )
                )
            )

    def user_exists(self, name: str) -> bool:
        with self._engine.connect() as c:
            return c.execute(select(t.users.c.id).where(t.users.c.name == name)).first() is not None

    def log_in(self, name: str, password: str) -> tuple[str, Staff, datetime]:
        """A new bearer token for the user, or `InvalidCredentials`."""
        with self._engine.connect() as c:
            row = c.execute(
                select(t.users).where(t.users.c.name == name, t.users.c.active.is_(True))
            ).first()
        stored = row.password_hash if row is not None else _DUMMY_HASH
        # At most `HASHING_AT_ONCE` password checks at a time: a flood of logins (from many
        # addresses, before any lock-out) must not take the CPU the queue needs.
        if not self._hashing.acquire(timeout=HASHING_WAIT_SECONDS):
            raise LoginBusy("too many logins at once: try again in a moment")
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            raise InvalidCredentials("wrong user name or password") from None
        finally:
            self._hashing.release()
        if row is None:
            raise InvalidCredentials("wrong user name or password")
        token = "mdg_" + secrets.token_urlsafe(32)
        now = self._clock.now()
        expires = now + self._ttl
        with self._writer.begin() as c:
            c.execute(
                insert(t.staff_sessions).values(
                    token_hash=_digest(token), user_id=row.id, created_at=now, expires_at=expires
                )
            )
            c.execute(delete(t.staff_sessions).where(t.staff_sessions.c.expires_at < now))
        return token, Staff(row.id, row.name, row.role), expires

    def staff_for_token(self, token: str) -> Staff | None:
        s = t.staff_sessions.c
        with self._engine.connect() as c:
            row = c.execute(
                select(t.users.c.id, t.users.c.name, t.users.c.role, s.expires_at)
                .join(t.users, t.users.c.id == s.user_id)
                .where(s.token_hash == _digest(token), t.users.c.active.is_(True))
            ).first()
        if row is None or row.expires_at <= self._clock.now():
            return None
        return Staff(row.id, row.name, row.role)

    def add_device(self, name: str, kind: str) -> tuple[Device, str]:
        """Register a kiosk or board; the token is shown once and stored only as a hash."""
        if kind not in DEVICE_KINDS:
            raise AccountError(f"device kind must be one of {', '.join(DEVICE_KINDS)}")
        token = f"mdg{kind[0]}_" + secrets.token_urlsafe(32)
        try:
            with self._writer.begin() as c:
                result = c.execute(
                    insert(t.devices).values(
                        name=name,
                        kind=kind,
                        token_hash=_digest(token),
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError as exc:
            raise AccountError(f"device {name!r} already exists") from exc
        return Device(new_id(result), name, kind), token

    def rotate_device_token(self, name: str) -> str:
        """A new token for the device (the old one stops working); a revoked device is back."""
        with self._writer.begin() as c:
            row = c.execute(select(t.devices.c.kind).where(t.devices.c.name == name)).first()
            if row is None:
                raise AccountError(f"no device {name!r}")
            token = f"mdg{row.kind[0]}_" + secrets.token_urlsafe(32)
            c.execute(
                update(t.devices)
                .where(t.devices.c.name == name)
                .values(token_hash=_digest(token), revoked_at=None)
            )
        return token

    def revoke_device(self, name: str) -> Device:
        """The device's token stops working; `rotate_device_token` gives it a new one."""
        with self._writer.begin() as c:
            row = c.execute(
                select(t.devices.c.id, t.devices.c.kind).where(t.devices.c.name == name)
            ).first()
            if row is None:
                raise AccountError(f"no device {name!r}")
            # The stored hash is replaced by one of nothing anybody holds.
            c.execute(
                update(t.devices)
                .where(t.devices.c.name == name)
                .values(token_hash=_digest(secrets.token_urlsafe(32)), revoked_at=self._clock.now())
            )
        return Device(row.id, name, row.kind)

    def set_user_active(self, name: str, active: bool) -> Staff:
        """Disable (every session ends) or enable a staff account."""
        with self._writer.begin() as c:
            row = c.execute(
                select(t.users.c.id, t.users.c.role).where(t.users.c.name == name)
            ).first()
            if row is None:
                raise AccountError(f"no user {name!r}")
            c.execute(update(t.users).where(t.users.c.id == row.id).values(active=active))
            if not active:
                c.execute(delete(t.staff_sessions).where(t.staff_sessions.c.user_id == row.id))
        return Staff(row.id, name, row.role)

    def log_out(self, token: str) -> bool:
        """End one staff session; False when it was not (or no longer) open."""
        with self._writer.begin() as c:
            result = c.execute(
                delete(t.staff_sessions).where(t.staff_sessions.c.token_hash == _digest(token))
            )
        return bool(result.rowcount)

    def valid_tokens(self, tokens: set[str]) -> set[str]:
        """Which of `tokens` still identify an active staff session or an unrevoked device
        (two indexed reads, whatever the number of tokens: for open WebSockets)."""
        if not tokens:
            return set()
        by_digest = {_digest(token): token for token in tokens}
        s, u, d = t.staff_sessions.c, t.users.c, t.devices.c
        now = self._clock.now()
        with self._engine.connect() as c:
            staff = c.execute(
                select(s.token_hash)
                .join(t.users, u.id == s.user_id)
                .where(s.token_hash.in_(by_digest), u.active.is_(True), s.expires_at > now)
            ).scalars()
            found = set(staff)
            found.update(
                c.execute(
                    select(d.token_hash).where(d.token_hash.in_(by_digest), d.revoked_at.is_(None))
                ).scalars()
            )
        return {by_digest[digest] for digest in found}

    def device_for_token(self, token: str) -> Device | None:
        """The device of a token: a read; when it was last seen is kept in memory and written
        by `flush_seen`, off the request path."""
        d = t.devices.c
        with self._engine.connect() as c:
            row = c.execute(
                select(d.id, d.name, d.kind).where(
                    d.token_hash == _digest(token), d.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            return None
        with self._seen_lock:
            self._seen[row.id] = self._clock.now()
        return Device(row.id, row.name, row.kind)

    def flush_seen(self) -> int:
        """Write when each device was last seen (at most once a minute per device)."""
        with self._seen_lock:
            seen, self._seen = self._seen, {}
        if not seen:
            return 0
        with self._writer.begin() as c:
            for device_id, at in seen.items():
                c.execute(
                    update(t.devices).where(t.devices.c.id == device_id).values(last_seen_at=at)
                )
        return len(seen)
