"""The kiosk's slip: what the fake printer receives from a kanji-mode profile, read back."""

from __future__ import annotations

import pytest

from kiosk_app.devices.printing import SlipPrinter
from kiosk_app.flow import Category
from printer.fake import FakePrinter

AREA = {
    "ja": "2階 マイナンバーカード窓口前",
    "en": "2F, in front of the My Number Card counter",
    "ja-easy": "2かい マイナンバーカードの まどぐちの まえ",
}
TICKET = {
    "number": "F-003",
    "issued_at": "2026-11-27T09:31:00+09:00",
    "status_url": "https://e.example/t/abc",
    "ahead": 1,
    "estimated_wait_minutes": 6,
    "estimate_low_minutes": 3,
    "estimate_high_minutes": 10,
}


@pytest.mark.parametrize(
    ("language", "place", "wait"),
    [
        ("en", "Please wait at: 2F, in front of the My Number Card counter", "about 6 min"),
        ("ja-easy", "まつ ところ：2かい マイナンバーカードの まどぐちの まえ", "だいたい 6ぷん"),
    ],
)
def test_the_slip_names_the_waiting_area_and_minutes_in_the_visitors_language(
    fake_printer: FakePrinter, language: str, place: str, wait: str
) -> None:
    category = Category("mynumber", {"ja": "マイナンバーカード", "en": "My Number Card"}, AREA)
    printer = SlipPrinter(fake_printer.url, office_name="白川市役所", profile="tm-t20-j")
    assert printer.print_ticket(TICKET, category, language).ok
    assert fake_printer.wait_for_slips(1)
    lines = fake_printer.printed[0].job.text.splitlines()
    joined = " ".join(line.strip() for line in lines)
    assert place in joined
    assert wait in joined
    assert "お待ちの場所：2階 マイナンバーカード窓口前" in lines
