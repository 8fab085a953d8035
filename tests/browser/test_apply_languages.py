"""/apply on a phone (390x844) in all 7 visitor languages: the forms' own words come from the
visitor catalogue like the page's, a refused answer is shown at its field in the visitor's
language (the page's checks and the server's rules alike), no English shows on a page in
another language (proper names aside), axe finds nothing, and a valid application ends with
the QR code that takes a ticket at the kiosk."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from browser_support import LiveServer
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_accessibility import axe
from test_public_languages import KANJI, LATIN_WORD, office_names, sentences

import visitor_text
from queue_server.adapters.office_file import DEMO_OFFICE, read_office_file
from queue_server.adapters.office_toml import dumps
from visitor_text import LANGUAGES, text

PHONE = {"width": 390, "height": 844}
SURFACES = ("apply", "forms")
PROPER_NAMES = {"Reiwa", "Heisei", "Showa", "Taisho", "QRコード"}  # written alike in both
#: The juminhyo's required questions and the message an empty answer gets, by kind.
REQUIRED = {
    "requester_name": "forms.errors.required",
    "requester_address": "forms.errors.required",
    "requester_birth_date": "forms.errors.date",
    "relation": "forms.errors.choose",
    "scope": "forms.errors.choose",
    "copies": "forms.errors.required",
    "purpose": "forms.errors.choose",
}


def pieces(lang: str) -> set[str]:
    """The fixed pieces of a language's /apply and form sentences, long enough to recognise."""
    out = set()
    for surface in SURFACES:
        for sentence in sentences(visitor_text.catalog(lang)[surface]):
            for piece in re.split(r"\{\w+\}", sentence):
                piece = piece.strip(" :・（）()、。…?")
                if len(re.findall(r"\w", piece)) >= 4:
                    out.add(piece)
    return out


def foreign(lang: str, other: str) -> set[str]:
    """Pieces of `other`'s sentences that must not show on a page in `lang`: all of them but
    the names both write alike (eras, 「QRコード」) and the picker's bilingual label."""
    if lang == other:
        return set()
    return pieces(other) - PROPER_NAMES - {text(other, "apply.language")}


def appears(piece: str, words: str) -> bool:
    """`piece` shows as whole words ("Form" is not in "Formulário")."""
    return re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", words) is not None


def shown_text(page: Page) -> str:
    """What the page shows and says: its text, every option of its lists, its title and
    accessible names; without the language picker (each language under its own name)."""
    return str(
        page.evaluate(
            """() => { const picker = document.getElementById("lang-picker");
                       picker.style.display = "none"; const text = document.body.innerText;
                       picker.style.display = "";
                       const options = [...document.querySelectorAll("main option")]
                         .map((o) => o.textContent);
                       const names = [...document.querySelectorAll("[aria-label]")]
                         .map((e) => e.getAttribute("aria-label"));
                       return [document.title, text, ...options, ...names].join("\\n"); }"""
        )
    )


def check_language(page: Page, live: LiveServer, lang: str) -> None:
    words = shown_text(page)
    names = " ".join(office_names(live, lang))
    if lang != "en":
        leaked = sorted(p for p in foreign(lang, "en") if appears(p, words))
        assert not leaked, f"{lang}: English on the page: {leaked}"
    if lang in ("ja", "ja-easy", "zh-Hans", "ko"):
        latin = sorted(set(LATIN_WORD.findall(words)) - set(LATIN_WORD.findall(names)))
        assert not latin, f"{lang}: Latin words on the page: {latin}"
    if lang == "ja-easy":
        leaked = sorted(p for p in foreign("ja-easy", "ja") if p in words)
        assert not leaked, f"やさしい日本語 page shows standard Japanese: {leaked}"
        kanji = set(KANJI.findall(words)) - set(KANJI.findall(names))
        assert not kanji, f"やさしい日本語 page shows kanji: {sorted(kanji)}"


@pytest.fixture(scope="module")
def phone(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live.base,
        viewport=PHONE,
        device_scale_factor=2,
        bypass_csp=True,  # axe is injected by the test
    )
    yield context
    context.close()


def open_apply(phone: BrowserContext, lang: str) -> Page:
    page = phone.new_page()
    page.goto(f"/apply?lang={lang}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=10000)
    page.select_option("#procedure", "certificates")
    page.select_option("#form-id", "juminhyo")
    return page


def birth_date(page: Page, era: str, year: str, month: str, day: str) -> None:
    page.select_option("#f-requester_birth_date", era)
    page.fill("#f-requester_birth_date-year", year)
    page.select_option("#f-requester_birth_date-month", month)
    page.select_option("#f-requester_birth_date-day", day)


def expect_error(page: Page, field: str, words: str) -> None:
    """`field` is marked invalid and described by its own message, which reads `words`."""
    control = page.locator(f"#f-{field}")
    expect(control).to_have_attribute("aria-invalid", "true")
    described = control.get_attribute("aria-describedby") or ""
    assert f"f-{field}-error" in described.split()
    expect(page.locator(f"#f-{field}-error")).to_have_text(words)
    expect(page.locator(f"#f-{field}-error")).to_be_visible()


def fill_valid(page: Page, era: str, year: str) -> None:
    page.fill("#f-requester_name", "試験　花子")
    page.fill("#f-requester_address", "東京都千代田区霞が関１－２－３")
    birth_date(page, era, year, "4", "1")
    page.select_option("#f-relation", "self")
    page.select_option("#f-scope", "household")
    page.fill("#f-copies", "1")
    page.select_option("#f-purpose", "employment")


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_refused_answers_speak_the_visitors_language_at_each_field(
    phone: BrowserContext, live: LiveServer, axe_script, lang: str
) -> None:
    page = open_apply(phone, lang)
    # The questions are the catalogue's, in this language.
    expect(page.locator("h1")).to_have_text(text(lang, "apply.title"))
    expect(page.locator("label[for=f-requester_name]")).to_contain_text(
        text(lang, "forms.shared.requester_name")
    )
    expect(page.locator("#f-members-hint")).to_have_text(text(lang, "forms.juminhyo.members_hint"))
    expect(page.locator("#f-relation option[value=proxy]")).to_have_text(
        text(lang, "forms.choices.relation.proxy")
    )
    # Sent empty: every required question says what it needs, in this language.
    page.locator("#request button[type=submit]").click()
    summary = page.locator("#errors")
    expect(summary).to_be_focused()
    expect(summary.locator("h2")).to_have_text(text(lang, "apply.error_summary", n=len(REQUIRED)))
    for field, key in REQUIRED.items():
        expect_error(page, field, text(lang, key))
    expect(summary.locator("li")).to_have_count(len(REQUIRED))
    check_language(page, live, lang)
    assert axe(page, axe_script) == []
    # Out of range and impossible answers, checked on the phone.
    page.fill("#f-copies", "20")
    birth_date(page, "heisei", "31", "2", "30")
    page.locator("#request button[type=submit]").click()
    expect_error(page, "copies", text(lang, "forms.errors.number", min=1, max=10))
    expect_error(page, "requester_birth_date", text(lang, "forms.errors.date"))
    # A rule only the server knows (a proxy names the person) comes back in this language too.
    fill_valid(page, "showa", "45")
    page.select_option("#f-relation", "proxy")
    page.locator("#request button[type=submit]").click()
    expect_error(page, "subject_name", text(lang, "forms.errors.subject_required"))
    expect(page.locator("#f-requester_name")).not_to_have_attribute("aria-invalid", "true")
    check_language(page, live, lang)
    assert axe(page, axe_script) == []
    page.close()


@pytest.mark.parametrize(
    ("lang", "era", "year"), [("en", "western", "1990"), ("ja-easy", "showa", "45")]
)
def test_a_valid_application_ends_with_a_qr_code_the_kiosk_takes(
    phone: BrowserContext, live: LiveServer, axe_script, lang: str, era: str, year: str
) -> None:
    page = open_apply(phone, lang)
    fill_valid(page, era, year)
    page.locator("#request button[type=submit]").click()
    expect(page.locator("#done")).to_be_visible(timeout=10000)
    expect(page.locator("#qr svg")).to_be_visible()
    expect(page.locator("#fee")).to_have_text(text(lang, "apply.yen", n=300))
    check_language(page, live, lang)
    assert axe(page, axe_script) == []
    code = page.get_attribute("#qr", "data-code")
    assert code
    ticket = live.post("/api/v1/tickets", live.tokens.kiosk, {"code": code}).json()["ticket"]
    assert ticket["category_id"] == "certificates"
    request = live.get(f"/api/v1/tickets/{ticket['id']}/request", live.tokens.clerk).json()
    assert (
        request["request"]["fields"]["requester_birth_date"]
        == f"{1970 if era == 'showa' else 1990}-04-01"
    )
    # The clerk reads the request in Japanese whatever language the resident used.
    assert request["request"]["form"]["labels"]["ja"] == text("ja", "forms.juminhyo.title")
    page.close()


def test_the_picker_offers_the_offices_languages_only(
    phone: BrowserContext, live: LiveServer
) -> None:
    page = open_apply(phone, "ja")
    offered = page.locator("#lang option").evaluate_all("os => os.map((o) => o.value)")
    assert offered == ["ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt"]
    page.select_option("#lang", "vi")
    expect(page.locator("h1")).to_have_text(text("vi", "apply.title"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.close()
    raw = read_office_file(DEMO_OFFICE)
    try:
        put_office(live, {**raw, "office": {**raw["office"], "languages": ["ja", "en"]}})
        page = open_apply(phone, "vi")  # asked for a language the office does not offer
        expect(page.locator("h1")).to_have_text(text("ja", "apply.title"))
        offered = page.locator("#lang option").evaluate_all("os => os.map((o) => o.value)")
        assert offered == ["ja", "en"]
        page.close()
    finally:
        put_office(live, raw)


def put_office(live: LiveServer, raw: dict) -> None:
    response = httpx.put(
        f"{live.base}/api/v1/admin/office",
        content=dumps(raw).encode("utf-8"),
        headers={"Authorization": f"Bearer {live.tokens.admin}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
