"""Back up, destroy, restore: numbering continues and statistics match (both databases)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from support.server import app_client, bearer

from queue_server.api.app import create_app
from queue_server.settings import ServerSettings


def madoguchi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args], capture_output=True, text=True, timeout=120
    )


def _destroy(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def test_backup_destroy_restore_keeps_numbers_and_statistics(
    database_url: str, tmp_path: Path
) -> None:
    with app_client(database_url, data_dir=tmp_path / "data") as (client, tokens, _):
        for _ in range(5):
            client.post(
                "/api/v1/tickets", json={"category_id": "tax"}, headers=bearer(tokens.kiosk)
            )
        for _ in range(2):
            called = client.post("/api/v1/counters/c7/call-next", headers=bearer(tokens.clerk))
            assert called.status_code == 200, called.text
            ticket = called.json()["ticket"]["id"]
            client.post(f"/api/v1/tickets/{ticket}/finish", headers=bearer(tokens.clerk))
        before = client.get("/api/v1/admin/stats?by=category", headers=bearer(tokens.admin)).json()
        assert any(row["category"] == "tax" and row["issued"] == 5 for row in before["rows"])

    made = madoguchi("backup", str(tmp_path / "backups"), "--database-url", database_url)
    assert made.returncode == 0, made.stderr
    folder = next((tmp_path / "backups").iterdir())
    assert (folder / "offices" / "shirakawa-shimin.toml").exists()
    assert not (folder / "secret.key").exists()  # secrets only when asked

    _destroy(database_url)
    restored = madoguchi("restore", str(folder), "--database-url", database_url)
    assert restored.returncode == 0, restored.stderr
    again = madoguchi("restore", str(folder), "--database-url", database_url)
    assert again.returncode == 2 and "--replace" in again.stderr

    settings = ServerSettings(database_url=database_url, data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        after = client.get("/api/v1/admin/stats?by=category", headers=bearer(tokens.admin)).json()
        assert after == before
        next_ticket = client.post(
            "/api/v1/tickets", json={"category_id": "tax"}, headers=bearer(tokens.kiosk)
        ).json()["ticket"]
        assert next_ticket["number"] == "E-006"


def test_a_damaged_backup_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert madoguchi("db", "upgrade", "--database-url", url).returncode == 0
    assert madoguchi("backup", str(tmp_path / "b"), "--database-url", url).returncode == 0
    folder = next((tmp_path / "b").iterdir())
    with (folder / "database.sqlite3").open("ab") as damaged:
        damaged.write(b"x")
    refused = madoguchi("restore", str(folder), "--database-url", url, "--replace")
    assert refused.returncode == 2 and "checksum" in refused.stderr
