"""The Qt binding keeps Python's reference counts: a kiosk builds screens all day long."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QLabel

pytestmark = pytest.mark.usefixtures("qapp")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_qt_calls_that_return_nothing_keep_none_alive() -> None:
    # PySide6 6.12.0 releases a reference to None on each such call; on Python 3.11 the
    # interpreter then aborts ("deallocating None") after some thousands of screen builds.
    label = QLabel("x")
    before = sys.getrefcount(None)
    for _ in range(200):
        label.setWordWrap(True)
    assert sys.getrefcount(None) - before > -100, "this PySide6 drains None: see pyproject.toml"
