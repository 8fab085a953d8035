"""`madoguchi install-kiosk` / `install-board`: the files that make a Debian touch PC or a display
into an appliance, for a given server. They are printed (or written with `--write DIR`) for the
administrator to review and install; nothing is installed and apt is never run from here.

The kiosk and the board run full screen under cage (a Wayland compositor that shows one
application and nothing else: no desktop, no task bar, no way out), are started at boot on tty1
by systemd, come back two seconds after a crash, and never blank the screen. Device tokens go in
an environment file readable by the service's user only, never on a command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

_UNIT = """\
# {what}: full screen under cage on tty1, started at boot, restarted after a crash.
# Install: apt-get install cage xwayland (cage does not start without Xwayland);
# adduser --disabled-password {user}; copy this file to
# /etc/systemd/system/, {env_file_name} to /etc/madoguchi/ (mode 0600, owner {user}), then
#   systemctl daemon-reload && systemctl enable --now {name}
[Unit]
Description={what}
After=network-online.target systemd-user-sessions.service
Wants=network-online.target
Conflicts=getty@tty1.service
After=getty@tty1.service

[Service]
User={user}
PAMName=login
TTYPath=/dev/tty1
TTYReset=yes
TTYVHangup=yes
StandardInput=tty
StandardOutput=journal
StandardError=journal
UtmpIdentifier=tty1
EnvironmentFile=-/etc/madoguchi/{env_file_name}
{environment}\
# cage shows this one program and nothing else; without -s there is no switching to a console.
ExecStart={cage} -d -- {command}
Restart=always
RestartSec=2
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=/var/lib/madoguchi-{role}
StateDirectory=madoguchi-{role}
PrivateTmp=true

[Install]
WantedBy=graphical.target
"""

_UDEV = """\
# /etc/udev/rules.d/60-madoguchi.rules: the kiosk's devices for its own user, without root.
# USB thermal printers (ESC/POS, python-escpos talks to them through libusb): Epson, Star,
# Bixolon, Citizen, Sewoo; add your model's vendor id if it is not here (lsusb shows it).
SUBSYSTEM=="usb", ATTR{{idVendor}}=="04b8", {perm}
SUBSYSTEM=="usb", ATTR{{idVendor}}=="0519", {perm}
SUBSYSTEM=="usb", ATTR{{idVendor}}=="1504", {perm}
SUBSYSTEM=="usb", ATTR{{idVendor}}=="1d90", {perm}
SUBSYSTEM=="usb", ATTR{{idVendor}}=="0525", {perm}
# Printer-class USB interfaces of any vendor (bInterfaceClass 07).
SUBSYSTEM=="usb", ENV{{DEVTYPE}}=="usb_device", ATTRS{{bInterfaceClass}}=="07", {perm}
# Serial printers and barcode scanners in serial mode (USB CDC-ACM and USB-serial adapters).
SUBSYSTEM=="tty", KERNEL=="ttyACM[0-9]*", {perm}
SUBSYSTEM=="tty", KERNEL=="ttyUSB[0-9]*", {perm}
# Cameras for QR codes.
SUBSYSTEM=="video4linux", {perm}
# Card readers (PC/SC, CCID) are opened by pcscd, which runs as its own service: nothing here.
"""


def _files(args: argparse.Namespace, role: str) -> dict[str, str]:
    executable = args.executable
    # The kiosk (Qt) is a Wayland client of cage. The board's Chromium runs through cage's
    # Xwayland: with XDG_SESSION_TYPE=wayland it picks its Wayland backend, which under
    # headless cage never loaded the page (tests/integration/test_units_under_cage.py).
    environment = ""
    if role == "kiosk":
        environment = "Environment=XDG_SESSION_TYPE=wayland QT_QPA_PLATFORM=wayland\n"
        what = "Madoguchi kiosk"
        command = f"{executable} kiosk --fullscreen"
        env = (
            "# /etc/madoguchi/kiosk.env (mode 0600): the kiosk's server and device token.\n"
            f"MADOGUCHI_KIOSK_SERVER_URL={args.server}\n"
            "MADOGUCHI_KIOSK_TOKEN=\n"
            "# MADOGUCHI_KIOSK_PRINTER_URL=usb://04b8:0e28\n"
        )
    else:
        what = "Madoguchi display board"
        command = f"{executable} board --server {args.server} --profile /var/lib/madoguchi-board"
        env = (
            "# /etc/madoguchi/board.env (mode 0600): the board's device token.\n"
            "MADOGUCHI_BOARD_TOKEN=\n"
        )
    name = f"madoguchi-{role}.service"
    files = {
        name: _UNIT.format(
            what=what,
            user=args.user,
            env_file_name=f"{role}.env",
            name=name,
            cage=args.cage,
            command=command,
            role=role,
            environment=environment,
        ),
        f"{role}.env": env,
    }
    if role == "kiosk":
        files["60-madoguchi.rules"] = _UDEV.format(perm=f'MODE="0660", GROUP="{args.user}"')
    return files


def _install(args: argparse.Namespace, role: str) -> int:
    files = _files(args, role)
    if args.write:
        target = Path(args.write)
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = target / name
            path.write_text(text, encoding="utf-8")
            path.chmod(0o600 if name.endswith(".env") else 0o644)
        print(f"wrote {', '.join(files)} to {target}")
        print("next: review them, put the device token in the .env file, then install as each")
        print("file's header says (apt-get install cage; systemctl enable --now ...).")
        return 0
    for name, text in files.items():
        print(f"# ===== {name} =====")
        print(text)
    return 0


def register(sub: Any) -> None:
    for role, help_text in (
        ("kiosk", "print (or --write) the systemd unit, env file and udev rules of a kiosk PC"),
        ("board", "print (or --write) the systemd unit and env file of a display board"),
    ):
        parser = sub.add_parser(f"install-{role}", help=help_text)
        parser.add_argument("--server", required=True, help="the queue server's URL")
        parser.add_argument("--user", default=f"madoguchi-{role}", help="the service's user")
        parser.add_argument("--write", metavar="DIR", help="write the files here instead")
        parser.add_argument(
            "--executable",
            default=str(Path(sys.executable).with_name("madoguchi")),
            help="the madoguchi command to run (default: the one beside this Python)",
        )
        parser.add_argument("--cage", default="/usr/bin/cage", help="the cage compositor")
        parser.set_defaults(handler=lambda args, role=role: _install(args, role))
