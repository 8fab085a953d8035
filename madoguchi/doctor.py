"""`madoguchi doctor`: check an installation and explain each problem, in Japanese (or English).

Each check says what it looked at; a problem comes with the error code the kiosk and console
screens show for the same fault (E-PRN-xx from printer/errors.py, E-CARD-xx from the card
session) or one of the codes below, and what to do about it. Exit status: 0 all fine, 1 at
least one problem, 2 bad usage. Nothing personal is read: the card check asks only for the PIN
tries left, and the relay check sends a probe the relay refuses by design.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import shutil
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# code -> (ja problem, ja fix, en problem, en fix); printer and card codes come from their parts.
CODES: dict[str, tuple[str, str, str, str]] = {
    "E-DB-01": (
        "データベースに接続できません",
        "PostgreSQL が動いているか、MADOGUCHI_DATABASE_URL の設定を確認してください",
        "cannot connect to the database",
        "check that PostgreSQL runs and MADOGUCHI_DATABASE_URL is right",
    ),
    "E-DB-02": (
        "データベースの更新(移行)が済んでいません",
        "サーバーを止めて madoguchi db upgrade を実行してください",
        "the database schema is behind this version",
        "stop the server and run `madoguchi db upgrade`",
    ),
    "E-CLK-01": (
        "タイムゾーン情報(Asia/Tokyo)が読めません",
        "tzdata パッケージを入れてください (apt-get install tzdata)",
        "the Asia/Tokyo time zone data is missing",
        "install tzdata (apt-get install tzdata)",
    ),
    "E-CLK-02": (
        "時刻が同期されていません",
        "NTP (systemd-timesyncd など) を有効にしてください: 番号の日付切替と統計が時刻に依存します",
        "the clock is not synchronised",
        "enable NTP (systemd-timesyncd): day rollover and statistics depend on the clock",
    ),
    "E-DSK-01": (
        "データ用ディスクの空きが少なくなっています",
        "古いバックアップやログを整理するか、ディスクを増やしてください",
        "the data disk is nearly full",
        "remove old backups or logs, or add disk space",
    ),
    "E-BUS-01": (
        "イベント配信(PostgreSQL/Redis)に接続できません",
        "MADOGUCHI_EVENT_BUS の設定と、Redis/PostgreSQL が動いているかを確認してください",
        "cannot reach the event bus",
        "check MADOGUCHI_EVENT_BUS and that Redis/PostgreSQL runs",
    ),
    "E-CARD-07": (
        "カードリーダーのサービス (pcscd) に接続できません",
        "pcscd を起動してください (systemctl start pcscd)。リーダーのUSBも確認してください",
        "the card reader service (pcscd) is not available",
        "start pcscd (systemctl start pcscd) and check the reader's USB cable",
    ),
    "E-CAM-01": (
        "カメラ(QRコード読取)を開けません",
        "カメラのUSB接続と、ほかのアプリが使っていないかを確認してください",
        "cannot open the camera (QR scanner)",
        "check the camera's USB cable and that no other program holds it",
    ),
    "E-RLY-01": (
        "公開用中継サーバーに届きません",
        "MADOGUCHI_RELAY_PUSH_URL、ファイアウォール、中継サーバーの稼働を確認してください",
        "cannot reach the public relay",
        "check MADOGUCHI_RELAY_PUSH_URL, the firewall and that the relay runs",
    ),
    "E-RLY-02": (
        "中継サーバーが署名を受け付けません (共有シークレット不一致)",
        "キュー・サーバーと中継サーバーの共有シークレットを揃えてください (docs/relay.md)",
        "the relay refuses our signature (push secret mismatch)",
        "give the queue server and the relay the same push secret (docs/relay.md)",
    ),
    "E-TLS-01": (
        "サーバー証明書の有効期限が近づいています",
        "証明書を更新してください",
        "the server certificate expires soon",
        "renew the certificate",
    ),
    "E-TLS-02": (
        "サーバー証明書の有効期限が切れているか、検証できません",
        "証明書を更新し、証明書チェーンを確認してください",
        "the server certificate has expired or cannot be verified",
        "renew the certificate and check its chain",
    ),
}
_PRINTER_FIX = (
    "プリンターの表示を確認し、用紙・カバー・電源・ケーブルを直してから再確認してください",
    "check the printer (paper, cover, power, cable), then run the check again",
)
_CARD_FIX = (
    "カードをリーダーに置き直すか、リーダーを確認してください",
    "put the card on the reader again, or check the reader",
)


@dataclass(frozen=True)
class Finding:
    """One check: what was looked at, and a problem code (None when fine)."""

    what_ja: str
    what_en: str
    code: str | None = None
    detail: str = ""
    problem: tuple[str, str] | None = None  # (ja, en) for codes owned by other parts
    fix: tuple[str, str] | None = None

    def lines(self, lang: str) -> list[str]:
        what = self.what_ja if lang == "ja" else self.what_en
        if self.code is None:
            ok = "正常" if lang == "ja" else "ok"
            return [f"[OK] {what}: {ok}" + (f" ({self.detail})" if self.detail else "")]
        known = CODES.get(self.code)
        problem = self.problem or ((known[0], known[2]) if known else ("", ""))
        fix = self.fix or ((known[1], known[3]) if known else ("", ""))
        index = 0 if lang == "ja" else 1
        fix_label = "対処" if lang == "ja" else "fix"
        detail = f" ({self.detail})" if self.detail else ""
        return [
            f"[NG] {what}: {self.code} {problem[index]}{detail}",
            f"     {fix_label}: {fix[index]}",
        ]


def check_database(url: str) -> list[Finding]:
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from queue_server.adapters.database import MIGRATIONS, create_database_engine

    what = ("データベース", "database")
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:
        return [Finding(*what, code="E-DB-01", detail=type(exc).__name__)]
    finally:
        engine.dispose()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if current != head:
        return [Finding(*what, code="E-DB-02", detail=f"{current} -> {head}")]
    return [Finding(*what, detail=f"schema {current}")]


def check_clock() -> list[Finding]:
    import subprocess
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    what = ("時刻とタイムゾーン", "clock and time zone")
    try:
        now = dt.datetime.now(ZoneInfo("Asia/Tokyo"))
    except ZoneInfoNotFoundError:
        return [Finding(*what, code="E-CLK-01")]
    synced: str | None = None
    if shutil.which("timedatectl"):
        done = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
        )
        synced = done.stdout.strip() if done.returncode == 0 else None
    if synced == "no":
        return [Finding(*what, code="E-CLK-02", detail=f"{now:%Y-%m-%d %H:%M} JST")]
    note = "NTP ok" if synced == "yes" else "NTP unknown"
    return [Finding(*what, detail=f"{now:%Y-%m-%d %H:%M} JST, {note}")]


def check_disk(path: Path, minimum_bytes: int = 1 << 30) -> list[Finding]:
    what = ("ディスクの空き", "disk space")
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    free = f"{usage.free / (1 << 30):.1f} GiB free at {probe}"
    if usage.free < minimum_bytes or usage.free < usage.total * 0.05:
        return [Finding(*what, code="E-DSK-01", detail=free)]
    return [Finding(*what, detail=free)]


def check_bus(bus_url: str, database_url: str) -> list[Finding]:
    what = ("イベント配信", "event bus")
    scheme = bus_url.split(":", 1)[0]
    try:
        if scheme in ("redis", "rediss"):
            import redis

            redis.Redis.from_url(bus_url, socket_timeout=3).ping()
        elif scheme in ("postgresql", "postgres"):
            import psycopg
            from sqlalchemy.engine import make_url

            target = database_url if bus_url in ("postgresql", "postgresql://") else bus_url
            dsn = make_url(target).set(drivername="postgresql").render_as_string(False)
            with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as connection:
                connection.execute("LISTEN madoguchi_doctor")
        else:
            return [Finding(*what, detail="memory (one server process)")]
    except Exception as exc:
        return [Finding(*what, code="E-BUS-01", detail=f"{scheme}: {type(exc).__name__}")]
    return [Finding(*what, detail=scheme)]


def check_printer(url: str) -> list[Finding]:
    from printer.errors import REASON_CODES, PrinterError, message_en, message_ja
    from printer.transports import open_printer

    what = (f"プリンター {url}", f"printer {url}")
    try:
        status = open_printer(url, None, timeout_s=3).status()
    except PrinterError as exc:
        return [
            Finding(
                *what, code=exc.code, problem=(exc.message_ja, exc.message_en), fix=_PRINTER_FIX
            )
        ]
    reason = status.blocking_reason()
    if reason is None:
        detail = "用紙残り少 / paper near end" if status.warnings() else ""
        return [Finding(*what, detail=detail)]
    code = REASON_CODES[reason]
    return [
        Finding(*what, code=code, problem=(message_ja(code), message_en(code)), fix=_PRINTER_FIX)
    ]


def check_reader(url: str) -> list[Finding]:
    from kiosk_app.devices.card.readers import open_channel, pcsc_readers
    from kiosk_app.devices.card.session import CardError, MyNumberSession, NoCard

    what = (f"カードリーダー {url}", f"card reader {url}")
    if url.startswith("pcsc"):
        try:
            names = pcsc_readers()
        except Exception as exc:
            return [Finding(*what, code="E-CARD-07", detail=type(exc).__name__)]
        if not names:
            return [Finding(*what, code="E-CARD-07", detail="no reader connected")]
    try:
        session = MyNumberSession(open_channel(url))
    except NoCard:
        return [Finding(*what, detail="カードなし / no card on the reader")]
    except CardError as exc:
        return [Finding(*what, code=exc.code, problem=(str(exc), str(exc)), fix=_CARD_FIX)]
    except ValueError as exc:
        return [Finding(*what, code="E-CARD-07", detail=str(exc))]
    try:
        tries = session.tries_left()
    except CardError as exc:
        return [Finding(*what, code=exc.code, problem=(str(exc), str(exc)), fix=_CARD_FIX)]
    finally:
        session.close()
    return [Finding(*what, detail=f"MyNumber card, PIN {tries} tries left")]


def check_camera(index: int) -> list[Finding]:
    what = (f"カメラ {index}", f"camera {index}")
    try:
        import cv2

        capture = cv2.VideoCapture(index)
        ok = capture.isOpened() and capture.read()[0]
        capture.release()
    except Exception as exc:
        return [Finding(*what, code="E-CAM-01", detail=type(exc).__name__)]
    if not ok:
        return [Finding(*what, code="E-CAM-01")]
    return [Finding(*what)]


def check_relay(url: str, secret: bytes | None) -> list[Finding]:
    import httpx

    from relay.protocol import SIGNATURE_HEADER, TIMESTAMP_HEADER, encode, sign

    what = (f"公開用中継サーバー {url}", f"public relay {url}")
    base = url.rstrip("/")
    try:
        health = httpx.get(f"{base}/healthz", timeout=5)
    except httpx.HTTPError as exc:
        return [Finding(*what, code="E-RLY-01", detail=type(exc).__name__)]
    findings = []
    if secret is not None:
        # A push for an office no relay serves: a relay that knows our secret refuses it as
        # "wrong office" (403) and changes nothing; a wrong secret gives 401.
        body = encode("__doctor__", 0, time.time(), snapshot=False)
        stamp = f"{time.time():.3f}"
        headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body)}
        try:
            answer = httpx.post(f"{base}/push", content=body, headers=headers, timeout=5)
        except httpx.HTTPError as exc:
            return [Finding(*what, code="E-RLY-01", detail=type(exc).__name__)]
        if answer.status_code == 401:
            findings.append(Finding(*what, code="E-RLY-02"))
    if not findings:
        state = (
            health.json()
            if health.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        findings.append(
            Finding(*what, detail=f"ready={state.get('ready')}, online={state.get('online')}")
        )
    if urlsplit(url).scheme == "https":
        findings += check_certificate(url)
    return findings


def check_certificate(url: str, warn_days: int = 21) -> list[Finding]:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    what = (f"証明書 {host}", f"certificate {host}")
    context = ssl.create_default_context()
    try:
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            certificate = tls.getpeercert()
    except (OSError, ssl.SSLError) as exc:
        return [Finding(*what, code="E-TLS-02", detail=type(exc).__name__)]
    if not certificate:
        return [Finding(*what, code="E-TLS-02", detail="no certificate")]
    expires = dt.datetime.fromtimestamp(
        ssl.cert_time_to_seconds(str(certificate["notAfter"])), dt.UTC
    )
    days = (expires - dt.datetime.now(dt.UTC)).days
    if days < warn_days:
        return [Finding(*what, code="E-TLS-01", detail=f"{days} days left")]
    return [Finding(*what, detail=f"{days} days left")]


def run(args: argparse.Namespace) -> int:
    from queue_server.settings import ServerSettings

    settings = ServerSettings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    url = settings.resolved_database_url()
    checks: list[Callable[[], list[Finding]]] = [
        lambda: check_database(url),
        check_clock,
        lambda: check_disk(Path(settings.data_dir)),
        lambda: check_bus(settings.event_bus, url),
    ]
    checks += [functools.partial(check_printer, printer) for printer in args.printer or ()]
    checks += [functools.partial(check_reader, reader) for reader in args.reader or ()]
    checks += [functools.partial(check_camera, camera) for camera in args.camera or ()]
    relay_url = args.relay or settings.relay_push_url
    if relay_url:
        checks.append(lambda: check_relay(relay_url, settings.relay_secret()))
    elif settings.public_base_url.startswith("https://"):
        checks.append(lambda: check_certificate(settings.public_base_url))
    problems = 0
    title = "Madoguchi 診断" if args.lang == "ja" else "Madoguchi doctor"
    print(title)
    for check in checks:
        for finding in check():
            problems += finding.code is not None
            for line in finding.lines(args.lang):
                print(line)
    if args.lang == "ja":
        print("問題はありません" if not problems else f"問題が {problems} 件あります")
    else:
        print("no problems found" if not problems else f"{problems} problem(s) found")
    sys.stdout.flush()
    return 1 if problems else 0


def register(sub: Any) -> None:
    doctor = sub.add_parser(
        "doctor", help="check the installation and explain each problem (Japanese; --lang en)"
    )
    doctor.add_argument("--lang", choices=("ja", "en"), default="ja")
    doctor.add_argument("--database-url", help="default: env MADOGUCHI_DATABASE_URL")
    doctor.add_argument("--printer", action="append", metavar="URL", help="a printer to check")
    doctor.add_argument("--reader", action="append", metavar="URL", help="pcsc:// or sim://")
    doctor.add_argument("--camera", action="append", type=int, metavar="INDEX")
    doctor.add_argument("--relay", metavar="URL", help="default: MADOGUCHI_RELAY_PUSH_URL")
    doctor.set_defaults(handler=run)
