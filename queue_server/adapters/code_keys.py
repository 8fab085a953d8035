"""The visit-code signing key in the data directory, and the keys it replaced.

`secret.key` signs new codes. `madoguchi rotate code-key` moves it to `secret.key.retired` (one
line per retired key: the ISO moment it stops verifying, a space, the key) and writes a new
one, so codes already handed out (pre-applications, reservation mails) keep working for a
while. Both files are 0600 in the 0700 data directory.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

from queue_server.domain.codes import RetiredKey

KEY_FILE = "secret.key"
RETIRED_FILE = "secret.key.retired"


def _write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically, mode 0600."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text)
    temporary.replace(path)


def retired_keys(data_dir: Path) -> tuple[RetiredKey, ...]:
    """The retired keys listed in the data directory (expired ones included: the verifier
    compares with the time of each scan)."""
    path = data_dir / RETIRED_FILE
    if not path.exists():
        return ()
    keys = []
    for line in path.read_text(encoding="ascii").splitlines():
        until, _, key = line.strip().partition(" ")
        if key:
            keys.append(RetiredKey(key.encode(), datetime.fromisoformat(until)))
    return tuple(keys)


def rotate_code_key(data_dir: Path, until: datetime, now: datetime) -> None:
    """Retire the current key (verifying until `until`), forget retired keys past their time
    at `now`, and write a new signing key."""
    current = data_dir / KEY_FILE
    kept = [key for key in retired_keys(data_dir) if key.until > now]
    if current.exists():
        kept.append(RetiredKey(current.read_text(encoding="ascii").strip().encode(), until))
    lines = "".join(f"{key.until.isoformat()} {key.secret.decode()}\n" for key in kept)
    _write_private(data_dir / RETIRED_FILE, lines)
    _write_private(current, secrets.token_urlsafe(48))
