"""Kiosk fixtures: a real queue server process, the fake TCP printer, the Qt kiosk offscreen."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kiosk_helpers import SECRET, Server, closed_office, open_office
from support.server import prepare, server_process

from kiosk_app.client import KioskClient
from kiosk_app.devices.printing import SlipPrinter
from kiosk_app.devices.scanners import FolderFrames, FrameScanner
from kiosk_app.flow import Flow, Timeouts
from printer.fake import FakePrinter
from queue_server.service.ports import SystemClock

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="session", autouse=True)
def _code_secret() -> Iterator[None]:
    # The server processes inherit it, and tests sign codes with it.
    old = os.environ.get("MADOGUCHI_SECRET_KEY")
    os.environ["MADOGUCHI_SECRET_KEY"] = SECRET
    yield
    if old is None:
        os.environ.pop("MADOGUCHI_SECRET_KEY", None)
    else:
        os.environ["MADOGUCHI_SECRET_KEY"] = old


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_gui_thread() -> Iterator[None]:
    """Each test's kiosks (controllers, windows, queued callbacks) form reference cycles; left
    to the cyclic collector they may be freed from whatever thread allocates next — a worker
    of the next kiosk — and a QObject destroyed off its thread crashes Qt. Collect them here,
    on the GUI thread, after every fixture (qtbot included) has let go of them."""
    yield
    gc.collect()


def _start(tmp: Path, raw: dict[str, Any]) -> Iterator[Server]:
    db_url = f"sqlite:///{tmp / 'madoguchi.db'}"
    engine, tokens = prepare(db_url, SystemClock(), raw=raw)
    engine.dispose()
    with server_process(db_url) as url:
        yield Server(url, tokens, db_url)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, _code_secret: None) -> Iterator[Server]:
    """One open server for the whole kiosk session."""
    yield from _start(tmp_path_factory.mktemp("server"), open_office())


@pytest.fixture(scope="session")
def closed_server(tmp_path_factory: pytest.TempPathFactory, _code_secret: None) -> Iterator[Server]:
    yield from _start(tmp_path_factory.mktemp("closed"), closed_office())


@pytest.fixture
def fake_printer(tmp_path: Path) -> Iterator[FakePrinter]:
    with FakePrinter(port=0, out_dir=tmp_path / "slips") as printer:
        yield printer


class FakeTime:
    """Monotonic time the test moves by hand (idle timeouts)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Kiosk:
    controller: Any
    window: Any
    time: FakeTime
    scans: Path
    printer: FakePrinter | None

    def click(self, qtbot: Any, name: str) -> None:
        """Tap the button with this object name (it must be on screen)."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QPushButton

        button = self.window.findChild(QPushButton, name)
        assert button is not None, f"no button {name!r} on {self.controller.flow.state.screen}"
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def text(self, name: str) -> str:
        from PySide6.QtWidgets import QLabel

        label = self.window.findChild(QLabel, name)
        assert label is not None, f"no label {name!r} on {self.controller.flow.state.screen}"
        return str(label.text())

    @property
    def state(self) -> Any:
        return self.controller.flow.state


KioskFactory = Callable[..., Kiosk]


@pytest.fixture
def make_kiosk(qtbot: Any, tmp_path: Path) -> Iterator[KioskFactory]:
    """Build a started kiosk against `server` (a base URL) with the given printer URL."""
    from kiosk_app.ui.controller import KioskController
    from kiosk_app.ui.window import KioskWindow

    made: list[Any] = []

    def make(
        server: Server,
        printer: FakePrinter | None = None,
        printer_url: str | None = None,
        size: tuple[int, int] = (1280, 800),
        wait_ready: bool = True,
        card: Any = None,  # a CardStation: the kiosk offers the MyNumber card
    ) -> Kiosk:
        fake_time = FakeTime()
        scans = tmp_path / f"scans-{len(made)}"
        url = printer_url or (printer.url if printer else f"virtual://{tmp_path / 'virtual'}")
        controller = KioskController(
            Flow(
                Timeouts(idle=60, ticket=30, notice=30),
                now=fake_time(),
                card_reader=card is not None,
            ),
            KioskClient(server.url, server.tokens.kiosk, timeout_s=3),
            SlipPrinter(url, office_name="", timeout_s=0.5),
            FrameScanner(lambda: FolderFrames(scans), on_frame=None, idle_pause_s=0.05),
            clock=fake_time,
            office_retry_s=0.3,
            card=card,
        )
        controller.scanner.on_frame = controller.frame_seen  # type: ignore[union-attr]
        window = KioskWindow(controller, dpi=96)
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        controller.start()
        made.append(controller)
        kiosk = Kiosk(controller, window, fake_time, scans, printer)
        if wait_ready:
            qtbot.waitUntil(
                lambda: kiosk.state.office_loaded and kiosk.state.connected, timeout=10_000
            )
            qtbot.waitUntil(
                lambda: any(c.waiting is not None for c in kiosk.state.categories), timeout=10_000
            )
        return kiosk

    yield make
    for controller in made:
        controller.stop()
