"""The one visitor catalogue: every language has every sentence; the counter rule reads right."""

from __future__ import annotations

import pytest

import visitor_text
from visitor_text import LANGUAGES, MissingText, minutes, missing_keys, text


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "ja"])
def test_every_language_has_every_sentence_japanese_has(lang: str) -> None:
    assert missing_keys(lang) == set(), f"{lang} lacks {sorted(missing_keys(lang))}"


@pytest.mark.parametrize(
    ("n", "reading"),
    [
        (1, "1ぷん"),
        (2, "2ふん"),
        (3, "3ぷん"),
        (4, "4ぷん"),
        (5, "5ふん"),
        (6, "6ぷん"),
        (7, "7ふん"),
        (8, "8ぷん"),
        (9, "9ふん"),
        (10, "10ぷん"),
        (12, "12ふん"),
        (20, "20ぷん"),
        (45, "45ふん"),
        (100, "100ぷん"),
    ],
)
def test_easy_japanese_reads_minutes_by_the_last_digit(n: int, reading: str) -> None:
    assert minutes("ja-easy", n) == f"だいたい {reading}"


def test_japanese_and_english_minutes() -> None:
    assert minutes("ja", 6) == "約6分"
    assert minutes("en", 6) == "about 6 min"


def test_a_missing_sentence_fails_loudly() -> None:
    with pytest.raises(MissingText):
        text("en", "common.no_such_sentence")
    with pytest.raises(MissingText):
        visitor_text.catalog("xx")


class TestFormWords:
    """The request forms take every word from the catalogue: a gap in any language fails."""

    @staticmethod
    def needed() -> set[str]:
        from queue_server.domain.forms import FORMS, PROBLEMS

        keys = {key for spec in FORMS.values() for key in spec.text_keys()}
        keys |= {f"forms.errors.{code}" for code in PROBLEMS if code != "unknown_field"}
        # The page's own checks and the kind-specific readings of `required`.
        return keys | {"forms.errors.choose", "forms.errors.date", "forms.errors.invalid"}

    @pytest.mark.parametrize("lang", list(LANGUAGES))
    def test_every_title_label_hint_choice_and_message_exists_in_every_language(
        self, lang: str
    ) -> None:
        missing = sorted(k for k in self.needed() if k not in visitor_text.flat_keys(lang))
        assert not missing, f"{lang} lacks form words: {missing}"
        for key in self.needed():
            assert text(lang, key, min=1, max=10).strip(), f"{lang}: {key} is empty"

    def test_the_catalogue_has_no_form_words_no_form_asks_for(self) -> None:
        # A misspelt key would leave its question without words and its text unused.
        stored = {k for k in visitor_text.flat_keys("ja") if k.startswith("forms.")}
        assert stored - self.needed() == set()

    @pytest.mark.parametrize("lang", list(LANGUAGES))
    def test_the_schema_speaks_each_language_with_its_own_words(self, lang: str) -> None:
        from queue_server.domain.forms import FORMS
        from queue_server.service.form_words import form_schema

        juminhyo = form_schema(FORMS["juminhyo"])
        assert juminhyo["labels"][lang] == text(lang, "forms.juminhyo.title")
        fields = {f["name"]: f for f in juminhyo["fields"]}
        assert fields["copies"]["labels"][lang] == text(lang, "forms.shared.copies")
        assert fields["members"]["hints"][lang] == text(lang, "forms.juminhyo.members_hint")
        proxy = next(c for c in fields["relation"]["choices"] if c["value"] == "proxy")
        assert proxy["labels"][lang] == text(lang, "forms.choices.relation.proxy")
        if lang != "en":  # nothing falls back to English
            english = {text("en", key) for key in self.needed()}
            shown = {text(lang, key) for key in self.needed()}
            assert not shown & english - {"Reiwa", "Heisei", "Showa", "Taisho"}

    def test_validation_speaks_in_codes_the_catalogue_has_messages_for(self) -> None:
        from queue_server.domain.forms import PROBLEMS, FormInvalid, validate

        with pytest.raises(FormInvalid) as refused:
            validate(
                "juminhyo",
                {
                    "requester_name": "x" * 101,
                    "requester_address": "a\x01b",
                    "requester_birth_date": "1990-02-30",
                    "relation": "proxy",
                    "scope": "some",
                    "copies": 11,
                    "purpose": "fun",
                    "include_individual_number": True,
                    "colour": "blue",
                },
            )
        assert refused.value.problems == {
            "colour": "unknown_field",
            "requester_name": "too_long",
            "requester_address": "characters",
            "requester_birth_date": "date",
            "copies": "number",
            "purpose": "choose",
            "subject_name": "subject_required",
            "include_individual_number": "not_for_proxy",
            "members": "members_required",
        }
        assert set(refused.value.problems.values()) <= set(PROBLEMS)
