"""`madoguchi devices add --server`, `rotate` and `upgrade`, run as the real command; the
effect is checked through the API, the relay and the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from support.server import app_client, bearer, relay_process
from tests_constants import OPEN_MOMENT

from madoguchi.doctor import check_relay
from queue_server.adapters.database import MIGRATIONS
from queue_server.api.app import create_app
from queue_server.service.ports import FakeClock
from queue_server.settings import ServerSettings


def madoguchi(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def issue_with(client, token: str) -> int:
    answer = client.post(
        "/api/v1/tickets", json={"category_id": "certificates"}, headers=bearer(token)
    )
    return answer.status_code


def until_status(client, token: str, wanted: int) -> int:
    """Token changes made by another process reach the server's cache within a second."""
    deadline = time.monotonic() + 5
    while (got := issue_with(client, token)) != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    return got


class TestDevices:
    def test_a_new_kiosk_gets_its_install_command_and_a_working_token(
        self, sqlite_url: str
    ) -> None:
        with app_client(sqlite_url) as (client, _, _):
            db = ("--database-url", sqlite_url)
            added = madoguchi(
                "devices", "add", "lobby-2", "--kind", "kiosk", "--server", "https://q.lg.jp", *db
            )
            assert added.returncode == 0, added.stderr
            lines = added.stdout.strip().splitlines()
            assert "  madoguchi install-kiosk --server https://q.lg.jp --write ./lobby-2" in lines
            token = lines[-1]
            assert token.startswith("mdgk_")
            assert issue_with(client, token) == 201
            rotated = madoguchi("rotate", "device", "lobby-2", *db)
            assert rotated.returncode == 0, rotated.stderr
            new = rotated.stdout.strip().splitlines()[-1]
            assert new != token and issue_with(client, new) == 201
            assert until_status(client, token, 401) == 401


class TestCodeKey:
    def test_codes_signed_before_a_rotation_verify_through_the_day(
        self, sqlite_url: str, tmp_path: Path
    ) -> None:
        env = {"MADOGUCHI_DATA_DIR": str(tmp_path / "data"), "MADOGUCHI_DATABASE_URL": sqlite_url}
        make = ("codes", "make", "--kind", "preapplication", "--category", "certificates")
        old = madoguchi(*make, "--minutes", "4320", env=env).stdout.strip()
        rotated = madoguchi("rotate", "code-key", env=env)
        assert rotated.returncode == 0, rotated.stderr
        assert "restart the server" in rotated.stdout
        new = madoguchi(*make, "--minutes", "4320", env=env).stdout.strip()
        assert old.startswith("MDG1.") and new.startswith("MDG1.") and old != new
        retired = tmp_path / "data" / "secret.key.retired"
        assert retired.stat().st_mode & 0o777 == 0o600
        until = datetime.fromisoformat(retired.read_text().split()[0])
        now = datetime.now(UTC)
        assert now < until <= now + timedelta(days=1)
        clock = FakeClock(now)
        with app_client(sqlite_url, clock, data_dir=tmp_path / "data") as (client, tokens, _):

            def verify(code: str) -> int:
                body = {"code": code}
                answer = client.post(
                    "/api/v1/codes/verify", json=body, headers=bearer(tokens.kiosk)
                )
                return answer.status_code

            assert verify(old) == 200 and verify(new) == 200
            clock.set(until + timedelta(minutes=1))
            assert verify(new) == 200
            refused = client.post(
                "/api/v1/codes/verify", json={"code": old}, headers=bearer(tokens.kiosk)
            )
            assert refused.status_code == 422
            assert refused.json()["error"]["code"] == "code_tampered"

    def test_a_key_from_the_environment_is_not_rotated_here(self, sqlite_url: str) -> None:
        env = {"MADOGUCHI_SECRET_KEY": "x" * 48, "MADOGUCHI_DATABASE_URL": sqlite_url}
        refused = madoguchi("rotate", "code-key", env=env)
        assert refused.returncode == 2 and "MADOGUCHI_SECRET_KEY" in refused.stderr


OLD_SECRET = "old-relay-secret-0123456789abcdef0123456789"


class TestRelaySecret:
    def test_three_steps_leave_the_relay_accepting_only_the_new_secret(
        self, sqlite_url: str, tmp_path: Path
    ) -> None:
        ours = tmp_path / "relay-push-secret"
        ours.write_text(OLD_SECRET + "\n")
        theirs = tmp_path / "relay-secrets"
        theirs.write_text(OLD_SECRET + "\n")
        db = ("--database-url", sqlite_url)
        step = ("rotate", "relay-secret")
        files = ("--secret-file", str(ours), "--relay-secrets", str(theirs))
        relay_options = ("--secret-file", str(theirs))
        assert madoguchi(*step, "begin", *files, *db).returncode == 0
        new = (tmp_path / "relay-push-secret.next").read_text().strip()
        assert theirs.read_text().split() == [OLD_SECRET, new]
        with relay_process(options=relay_options) as relay:
            assert madoguchi(*step, "switch", "--secret-file", str(ours), *db).returncode == 0
            assert ours.read_text().strip() == new
            assert _accepted(relay, OLD_SECRET) and _accepted(relay, new)
            finish = madoguchi(*step, "finish", *files, "--relay", relay, *db)
            assert finish.returncode == 0, finish.stderr
        assert theirs.read_text().split() == [new]
        assert not (tmp_path / "relay-push-secret.previous").exists()
        with relay_process(options=relay_options) as relay:
            assert _accepted(relay, new) and not _accepted(relay, OLD_SECRET)

    def test_switch_waits_for_a_relay_that_lacks_the_new_secret(
        self, sqlite_url: str, tmp_path: Path
    ) -> None:
        ours = tmp_path / "relay-push-secret"
        ours.write_text(OLD_SECRET + "\n")
        theirs = tmp_path / "relay-secrets"
        theirs.write_text(OLD_SECRET + "\n")
        db = ("--database-url", sqlite_url)
        with relay_process(options=("--secret-file", str(theirs))) as relay:  # not restarted
            begun = madoguchi("rotate", "relay-secret", "begin", "--secret-file", str(ours), *db)
            assert begun.returncode == 0
            switch = madoguchi(
                "rotate",
                "relay-secret",
                "switch",
                "--secret-file",
                str(ours),
                "--relay",
                relay,
                *db,
            )
        assert switch.returncode == 2 and "E-RLY-02" in switch.stderr
        assert ours.read_text().strip() == OLD_SECRET


def _accepted(relay: str, secret: str) -> bool:
    return not [f for f in check_relay(relay, secret.encode()) if f.code is not None]


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as c:
        found = MigrationContext.configure(c).get_current_revision()
    engine.dispose()
    return found


class TestUpgrade:
    def test_an_older_database_with_tickets_is_backed_up_migrated_and_continues(
        self, database_url: str, tmp_path: Path
    ) -> None:
        clock = FakeClock(OPEN_MOMENT)
        with app_client(database_url, clock) as (client, tokens, _):
            for _ in range(3):
                assert issue_with(client, tokens.kiosk) == 201
        kiosk = tokens.kiosk
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        engine = create_engine(database_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")  # the schema of an older release, tickets kept
        engine.dispose()
        assert _revision(database_url) == "0003"
        done = madoguchi(
            "upgrade",
            "--backup-dir",
            str(tmp_path / "backups"),
            "--database-url",
            database_url,
            env={"MADOGUCHI_DATA_DIR": str(tmp_path / "data")},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        head = ScriptDirectory.from_config(config).get_current_head()
        assert f"[OK] database: ok (schema {head})" in done.stdout
        backup = next((tmp_path / "backups").iterdir())
        manifest = json.loads((backup / "manifest.json").read_text())
        assert manifest["schema_revision"] == "0003" and manifest["counts"]["tickets"] == 3
        assert f"madoguchi restore {backup} --replace" in done.stdout
        assert _revision(database_url) == head
        engine = create_engine(database_url)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 3
            actions = c.execute(text("SELECT action FROM audit_log")).scalars().all()
        engine.dispose()
        assert "database.upgraded" in actions
        settings = ServerSettings(database_url=database_url, data_dir=tmp_path / "data")
        with TestClient(create_app(settings, clock=clock)) as client:
            answer = client.post(
                "/api/v1/tickets", json={"category_id": "certificates"}, headers=bearer(kiosk)
            )
            assert answer.json()["ticket"]["number"] == "A-004"  # numbering continues

    def test_a_database_that_does_not_answer_is_left_alone(self, tmp_path: Path) -> None:
        url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
        done = madoguchi("upgrade", "--backup-dir", str(tmp_path / "b"), "--database-url", url)
        assert done.returncode == 2 and "E-DB-01" in done.stderr
        assert not (tmp_path / "b").exists()
