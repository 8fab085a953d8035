"""`madoguchi install-kiosk` / `install-board` write units that systemd accepts, with the token
kept out of command lines and the devices reachable without root."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def madoguchi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args], capture_output=True, text=True, timeout=60
    )


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    if not Path("/usr/bin/cage").exists():
        pytest.fail("cage is missing: apt-get install cage (make test installs it)")
    return subprocess.run(
        [analyze, "verify", "--man=no", unit.name], cwd=unit.parent, capture_output=True, text=True
    )


@pytest.mark.parametrize("role", ["kiosk", "board"])
def test_the_appliance_unit_is_valid_and_keeps_the_token_in_a_private_file(
    role: str, tmp_path: Path
) -> None:
    done = madoguchi(
        f"install-{role}", "--server", "http://10.0.0.5:8000", "--write", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    unit = tmp_path / f"madoguchi-{role}.service"
    checked = verify(unit)
    assert checked.returncode == 0, checked.stderr
    text = unit.read_text()
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert exec_start.startswith("ExecStart=/usr/bin/cage -d -- ")  # no -s: no way to a console
    assert "--token" not in exec_start and "Restart=always" in text
    env = tmp_path / f"{role}.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert f"MADOGUCHI_{role.upper()}_TOKEN=" in env.read_text()
    # The same checker refuses a unit whose program is missing: the test can fail.
    broken = tmp_path / "broken"
    madoguchi(f"install-{role}", "--server", "http://x", "--write", str(broken), "--cage", "/nope")
    assert verify(broken / unit.name).returncode != 0


def test_the_kiosk_gets_udev_rules_for_its_printer_scanner_and_camera(tmp_path: Path) -> None:
    madoguchi("install-kiosk", "--server", "http://x", "--user", "kiosk1", "--write", str(tmp_path))
    rules = (tmp_path / "60-madoguchi.rules").read_text()
    assert 'ATTR{idVendor}=="04b8", MODE="0660", GROUP="kiosk1"' in rules  # Epson
    assert 'KERNEL=="ttyACM[0-9]*"' in rules and 'SUBSYSTEM=="video4linux"' in rules
    printed = madoguchi("install-board", "--server", "http://x")
    assert "# ===== madoguchi-board.service =====" in printed.stdout
