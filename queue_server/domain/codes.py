"""Signed, expiring codes a visitor scans at the kiosk (reservations, online pre-applications).

Envelope: `MDG1.<payload>.<signature>`, both parts base64url without padding. The payload is
compact JSON `{"k": kind, "c": category_id, "r": reference, "x": expiry (unix seconds)}`; the
signature is HMAC-SHA256 over `MDG1.<payload>` with the server's secret. The code carries no
personal data: the reference points to a record the server keeps.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from queue_server.domain.errors import DomainError

PREFIX = "MDG1"
KINDS = ("reservation", "preapplication")
#: The longest validity a code may have (a reservation months ahead is not taken at a kiosk).
MAX_VALIDITY = timedelta(days=400)


class CodeUnknown(DomainError):
    code = "code_unknown"
    status = 422
    message_ja = "このコードは読み取れません。職員にお声がけください。"


class CodeTampered(DomainError):
    code = "code_tampered"
    status = 422
    message_ja = "このコードは無効です。職員にお声がけください。"


class CodeExpired(DomainError):
    code = "code_expired"
    status = 422
    message_ja = "このコードは有効期限が切れています。職員にお声がけください。"


class CodeUsed(DomainError):
    code = "code_used"
    status = 409
    message_ja = "このコードはすでに使われています。職員にお声がけください。"


@dataclass(frozen=True)
class VisitCode:
    kind: str
    category_id: str
    reference: str
    expires_at: datetime

    @property
    def priority(self) -> str:
        """Reservations are served at their time slot ahead of walk-ins."""
        return "reservation" if self.kind == "reservation" else "normal"


@dataclass(frozen=True)
class RetiredKey:
    """A signing key replaced by a newer one, still verifying codes until `until` (aware)."""

    secret: bytes
    until: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, signed_part: str) -> str:
    return _b64(hmac.new(secret, signed_part.encode("ascii"), hashlib.sha256).digest())


def make_code(secret: bytes, code: VisitCode) -> str:
    """The text to put in a QR code."""
    if code.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if code.expires_at.year > 9000:
        raise ValueError("the expiry is out of range")
    payload = json.dumps(
        {
            "k": code.kind,
            "c": code.category_id,
            "r": code.reference,
            "x": int(code.expires_at.timestamp()),
        },
        separators=(",", ":"),
    )
    signed_part = f"{PREFIX}.{_b64(payload.encode())}"
    return f"{signed_part}.{_sign(secret, signed_part)}"


def read_code(
    secret: bytes, text: str, now: datetime, retired: Sequence[RetiredKey] = ()
) -> VisitCode:
    """Verify a scanned code: format, then signature, then expiry. A code signed with a
    `retired` key is still accepted until that key's `until` (after a key rotation)."""
    parts = text.strip().split(".")
    if not text.isascii() or len(parts) != 3 or parts[0] != PREFIX:
        raise CodeUnknown("this is not a Madoguchi code")
    signed_part = f"{parts[0]}.{parts[1]}"
    keys = [secret, *(key.secret for key in retired if now < key.until)]
    if not any(hmac.compare_digest(_sign(key, signed_part), parts[2]) for key in keys):
        raise CodeTampered("the code's signature does not match")
    try:
        body = json.loads(_unb64(parts[1]))
        code = VisitCode(
            kind=str(body["k"]),
            category_id=str(body["c"]),
            reference=str(body["r"]),
            expires_at=datetime.fromtimestamp(int(body["x"]), UTC),
        )
    except (ValueError, KeyError, TypeError, OverflowError, OSError, binascii.Error) as exc:
        raise CodeUnknown("the code's content is not readable") from exc
    if code.kind not in KINDS:
        raise CodeUnknown(f"unknown code kind {code.kind!r}")
    if now >= code.expires_at:
        raise CodeExpired("the code has expired")
    if code.expires_at - now > MAX_VALIDITY:
        raise CodeUnknown("the code's expiry is out of range")
    return code


def fingerprint(text: str) -> str:
    """What is stored to refuse a second use; the code itself is not kept."""
    return hashlib.sha256(text.strip().encode()).hexdigest()
