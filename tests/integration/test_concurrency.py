"""Many kiosks and clerks at once, over real HTTP to a separate server process."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

import httpx
import pytest
from support.server import bearer, prepare, roomy_office, server_process

from queue_server.service.ports import SystemClock

KIOSKS = 16
TICKETS_PER_KIOSK = 200
CLERK_COUNTERS = ("c1", "c2", "c3", "c7")  # together they serve certificates and koseki


@pytest.mark.slow
def test_16_kiosks_and_4_clerks_never_duplicate_skip_or_double_call(database_url: str) -> None:
    engine, tokens = prepare(
        database_url, SystemClock(), clerks=len(CLERK_COUNTERS), raw=roomy_office()
    )
    engine.dispose()
    issued: list[tuple[str, str, int]] = []
    called: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    kiosks_done = threading.Event()

    # The deterministic estimator: this test is about numbering and calls under concurrency,
    # and the Monte-Carlo estimate for a queue of thousands would take the CPU it needs.
    with server_process(database_url, estimator="replay") as base:

        def kiosk(index: int) -> None:
            category = ("certificates", "koseki")[index % 2]
            with httpx.Client(base_url=base, headers=bearer(tokens.kiosk), timeout=60) as client:
                for _ in range(TICKETS_PER_KIOSK):
                    response = client.post("/api/v1/tickets", json={"category_id": category})
                    if response.status_code != 201:
                        errors.append(response.text)
                        continue
                    ticket = response.json()["ticket"]
                    with lock:
                        issued.append((ticket["category_id"], ticket["number"], ticket["id"]))

        def clerk(index: int) -> None:
            counter = CLERK_COUNTERS[index]
            with httpx.Client(
                base_url=base, headers=bearer(tokens.clerks[index]), timeout=60
            ) as client:
                while True:
                    # "Next, please": finishes the ticket at the counter and calls the next one.
                    response = client.post(
                        f"/api/v1/counters/{counter}/call-next", json={"finish_current": True}
                    )
                    if response.status_code == 204:
                        if kiosks_done.is_set():
                            return
                        continue
                    if response.status_code != 200:
                        errors.append(response.text)
                        return
                    ticket = response.json()["ticket"]
                    with lock:
                        called.append(ticket["id"])

        kiosk_threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(KIOSKS)]
        clerk_threads = [
            threading.Thread(target=clerk, args=(i,)) for i in range(len(CLERK_COUNTERS))
        ]
        for thread in kiosk_threads + clerk_threads:
            thread.start()
        for thread in kiosk_threads:
            thread.join()
        kiosks_done.set()
        for thread in clerk_threads:
            thread.join()

    assert errors == []
    assert len(issued) == KIOSKS * TICKETS_PER_KIOSK
    by_category: dict[str, list[int]] = defaultdict(list)
    for category, number, _ in issued:
        _, digits = number.split("-")
        by_category[category].append(int(digits))
    for category, numbers in by_category.items():
        # Unique and gap-free: exactly 1..n.
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), category
    assert len({ticket_id for *_, ticket_id in issued}) == len(issued)
    # Every ticket called exactly once.
    counts = Counter(called)
    assert set(counts) == {ticket_id for *_, ticket_id in issued}
    assert max(counts.values()) == 1
