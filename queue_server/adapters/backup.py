"""Backups a city's IT section can take every night and restore on a new machine.

A backup is one directory:

    madoguchi-backup-20261202T183000/
        manifest.json      what is inside: database kind, schema revision, offices, counts, sha256
        database.sqlite3   SQLite: an online copy through SQLite's backup API (consistent while
                           the server runs), or
        database.dump      PostgreSQL: `pg_dump --format=custom`
        offices/<id>.toml  each office file as loaded (to read, diff or load elsewhere)
        secret.key         only with --with-secrets: the key that signs visit codes

Restoring checks the checksums, refuses a database that already holds tickets unless told to
replace it, loads the copy, and migrates it forward when the backup is older than the code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from queue_server.adapters import tables as t
from queue_server.adapters.database import create_database_engine, is_sqlite, upgrade
from queue_server.adapters.office_toml import dumps

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            "tickets": connection.execute(select(func.count()).select_from(t.tickets)).scalar_one(),
            "events": connection.execute(
                select(func.count()).select_from(t.office_events)
            ).scalar_one(),
        }


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def backup(
    url: str, into: Path, *, data_dir: Path | None = None, with_secrets: bool = False
) -> BackupResult:
    """Write a backup of the database at `url` into a new directory under `into`."""
    engine = create_database_engine(url)
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = into / f"madoguchi-backup-{stamp}"
        path.mkdir(parents=True, mode=0o700)
        files: list[Path] = []
        if is_sqlite(engine):
            source = make_url(url).database
            if not source or source == ":memory:":
                raise BackupError("an in-memory database cannot be backed up")
            target = path / "database.sqlite3"
            with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
                live.backup(copy)  # page by page, consistent while the server keeps writing
            files.append(target)
        else:
            target = path / "database.dump"
            done = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()[-300:]}")
            files.append(target)
        offices_dir = path / "offices"
        offices_dir.mkdir()
        with engine.connect() as connection:
            rows = connection.execute(select(t.offices.c.id, t.offices.c.config)).all()
        for office_id, config in rows:
            office_file = offices_dir / f"{office_id}.toml"
            office_file.write_text(dumps(config), encoding="utf-8")
            files.append(office_file)
        if with_secrets and data_dir is not None and (data_dir / "secret.key").exists():
            secret = path / "secret.key"
            shutil.copyfile(data_dir / "secret.key", secret)
            files.append(secret)
        for written in files:
            os.chmod(written, 0o600)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": "sqlite" if is_sqlite(engine) else "postgresql",
            "schema_revision": _revision(engine),
            "offices": [office_id for office_id, _ in rows],
            "counts": _counts(engine),
            "with_secrets": any(f.name == "secret.key" for f in files),
            "files": {str(f.relative_to(path)): _sha256(f) for f in files},
        }
        (path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return BackupResult(path, manifest)
    finally:
        engine.dispose()


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup directory, after checking every file against its checksum."""
    try:
        manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} is not a Madoguchi backup (no readable manifest.json)") from exc
    for name, digest in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file() or _sha256(file) != digest:
            raise BackupError(f"{name} is missing or damaged (checksum mismatch): not restored")
    return manifest


def restore(
    path: Path, url: str, *, replace: bool = False, data_dir: Path | None = None
) -> dict[str, Any]:
    """Restore the backup at `path` into the database at `url`; returns the manifest."""
    manifest = read_manifest(path)
    engine = create_database_engine(url)
    try:
        kind = "sqlite" if is_sqlite(engine) else "postgresql"
        if manifest["database"] != kind:
            raise BackupError(
                f"this is a {manifest['database']} backup; restore it into a {manifest['database']}"
                " database (or move the data with a new load)"
            )
        if not replace and _has_tickets(engine):
            raise BackupError("the target database already holds tickets: pass --replace")
        if kind == "sqlite":
            target = make_url(url).database
            assert target
            engine.dispose()
            for suffix in ("-wal", "-shm"):
                Path(target + suffix).unlink(missing_ok=True)
            with (
                sqlite3.connect(path / "database.sqlite3") as copy,
                sqlite3.connect(target) as live,
            ):
                copy.backup(live)
            os.chmod(target, 0o600)
        else:
            done = subprocess.run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    f"--dbname={_libpq_url(url)}",
                    str(path / "database.dump"),
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed: {done.stderr.strip()[-300:]}")
        if manifest.get("with_secrets") and data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path / "secret.key", data_dir / "secret.key")
            os.chmod(data_dir / "secret.key", 0o600)
        migrated = create_database_engine(url)
        try:
            upgrade(migrated)  # a backup from an older version moves to this schema
        finally:
            migrated.dispose()
        return manifest
    finally:
        engine.dispose()


def _has_tickets(engine: Engine) -> bool:
    try:
        return _counts(engine)["tickets"] > 0
    except Exception:  # no schema yet: an empty database
        return False
