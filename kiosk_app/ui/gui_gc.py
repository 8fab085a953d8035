"""Python's cyclic garbage collector, run on the kiosk's GUI thread only."""

from __future__ import annotations

import gc
import threading


class GuiThreadCollector:
    """Runs Python's cyclic garbage collector on the GUI thread only.

    Screens are rebuilt all the time, and Qt wrappers end up in reference cycles. Left to
    itself the collector runs in whichever thread allocates next (an HTTP or card worker),
    and a QWidget freed there crashes Qt (a segfault seen in the kiosk tests). While a kiosk
    runs, automatic collection is off and the controller's timer collects instead.
    """

    _users = 0
    _lock = threading.Lock()

    @classmethod
    def acquire(cls) -> None:
        with cls._lock:
            cls._users += 1
            gc.disable()

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users = max(0, cls._users - 1)
            if cls._users == 0:
                gc.enable()
        gc.collect()

    @staticmethod
    def collect() -> None:
        """Collect the generations the automatic collector would have (GUI thread)."""
        threshold = gc.get_threshold()
        count = gc.get_count()
        for generation in (2, 1, 0):
            if count[generation] > threshold[generation]:
                gc.collect(generation)
                return
