"""Request dependencies: the service container and who is calling."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from queue_server.adapters.accounts import Accounts, Device, Staff
from queue_server.adapters.audit import AuditLog
from queue_server.adapters.sql_writer import SqlStoreFactory
from queue_server.adapters.throttle import LoginThrottle
from queue_server.api.errors import ApiError
from queue_server.api.guard import SocketGuard
from queue_server.api.realtime import Hub
from queue_server.service.queue import QueueService
from queue_server.settings import ServerSettings


class TokenCache:
    """Who a bearer token belongs to, remembered for a few seconds.

    Kiosks send their token with every request; looking it up each time would cost a database
    read and a thread hop per ticket. A token revoked in this process is forgotten at once
    (`clear`); one revoked elsewhere (the CLI, another server process) stops working within
    `seconds`, under the one second the security review asks for.
    """

    def __init__(self, seconds: float = 0.5, size: int = 10_000) -> None:
        self._seconds = seconds
        self._size = size
        self._items: dict[str, tuple[float, Caller | None]] = {}

    def get(self, token: str) -> tuple[Caller | None] | None:
        found = self._items.get(token)
        if found is None or found[0] < time.monotonic():
            return None
        return (found[1],)

    def put(self, token: str, caller: Caller | None) -> None:
        if len(self._items) >= self._size:
            self._items.clear()  # simpler than LRU; a refill costs one read per token
        self._items[token] = (time.monotonic() + self._seconds, caller)

    def clear(self) -> None:
        """Forget every token (after a revocation: the next request of each reads again)."""
        self._items.clear()


@dataclass
class Container:
    settings: ServerSettings
    service: QueueService
    accounts: Accounts
    stores: SqlStoreFactory
    hub: Hub
    guard: SocketGuard
    audit: AuditLog
    throttle: LoginThrottle
    tokens: TokenCache = field(default_factory=TokenCache)

    def revoked(self) -> None:
        """A token, user or device was revoked here: stop trusting what is remembered now."""
        self.tokens.clear()
        self.guard.check_soon()


async def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


ContainerDep = Annotated[Container, Depends(container)]
_bearer = HTTPBearer(
    auto_error=False, description="Staff token from /api/v1/auth/token, or a device token"
)


@dataclass(frozen=True)
class Caller:
    staff: Staff | None = None
    device: Device | None = None

    @property
    def name(self) -> str:
        if self.staff is not None:
            return f"staff:{self.staff.name}"
        if self.device is not None:
            return f"device:{self.device.name}"
        return "anonymous"


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, "認証が必要です。", headers={"WWW-Authenticate": "Bearer"}
    )


def identify(token: str, accounts: Accounts) -> Caller | None:
    """Staff session or device token, or None when the token is unknown or expired."""
    if token.startswith("mdg_"):
        staff = accounts.staff_for_token(token)
        found = Caller(staff=staff) if staff else None
    else:
        device = accounts.device_for_token(token)
        found = Caller(device=device) if device else None
    return found


async def caller(
    c: ContainerDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None:
        raise _unauthorized("missing bearer token")
    token = credentials.credentials
    known = c.tokens.get(token)  # recently checked: no database read, no thread hop
    if known is not None:
        found = known[0]
    else:
        found = await run_in_threadpool(identify, token, c.accounts)
        c.tokens.put(token, found)
    if found is None:
        raise _unauthorized("invalid or expired token")
    return found


CallerDep = Annotated[Caller, Depends(caller)]


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The bearer token itself (to end the session it opened)."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    return credentials.credentials


TokenDep = Annotated[str, Depends(bearer_token)]


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message, "この操作の権限がありません。")


async def clerk(who: CallerDep) -> Caller:
    if who.staff is None or who.staff.role not in ("clerk", "admin"):
        raise _forbidden("this needs a clerk or admin account")
    return who


async def admin(who: CallerDep) -> Caller:
    if who.staff is None or who.staff.role != "admin":
        raise _forbidden("this needs an admin account")
    return who


async def issuer(who: CallerDep) -> Caller:
    if who.staff is None and (who.device is None or who.device.kind != "kiosk"):
        raise _forbidden("tickets are issued by kiosks and staff only")
    return who


ClerkDep = Annotated[Caller, Depends(clerk)]
AdminDep = Annotated[Caller, Depends(admin)]
IssuerDep = Annotated[Caller, Depends(issuer)]
