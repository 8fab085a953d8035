"""Request dependencies: the service container and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from queue_server.adapters.accounts import Accounts, Device, Staff
from queue_server.adapters.sql_store import SqlStoreFactory
from queue_server.api.errors import ApiError
from queue_server.api.realtime import Hub
from queue_server.service.queue import QueueService
from queue_server.settings import ServerSettings


@dataclass
class Container:
    settings: ServerSettings
    service: QueueService
    accounts: Accounts
    stores: SqlStoreFactory
    hub: Hub


def container(request: Request) -> Container:
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
        return Caller(staff=staff) if staff else None
    device = accounts.device_for_token(token)
    return Caller(device=device) if device else None


def caller(
    c: ContainerDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None:
        raise _unauthorized("missing bearer token")
    found = identify(credentials.credentials, c.accounts)
    if found is None:
        raise _unauthorized("invalid or expired token")
    return found


CallerDep = Annotated[Caller, Depends(caller)]


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message, "この操作の権限がありません。")


def clerk(who: CallerDep) -> Caller:
    if who.staff is None or who.staff.role not in ("clerk", "admin"):
        raise _forbidden("this needs a clerk or admin account")
    return who


def admin(who: CallerDep) -> Caller:
    if who.staff is None or who.staff.role != "admin":
        raise _forbidden("this needs an admin account")
    return who


def issuer(who: CallerDep) -> Caller:
    if who.staff is None and (who.device is None or who.device.kind != "kiosk"):
        raise _forbidden("tickets are issued by kiosks and staff only")
    return who


ClerkDep = Annotated[Caller, Depends(clerk)]
AdminDep = Annotated[Caller, Depends(admin)]
IssuerDep = Annotated[Caller, Depends(issuer)]
