"""The MyNumber card steps of the flow (書かない窓口): which form, insert, consent, PIN, read,
then the request form answered by touch. A part of `Flow`, kept apart because it is most of it.

Card data lives only in the prefill and is wiped on completion, timeout and card removal; the
PIN passes straight into one command and is never kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from kiosk_app.flow.model import (
    CARD_FAILURES,
    CARD_SCREENS,
    NOT_AT_KIOSK,
    TOUCH_KINDS,
    TYPED_RELATIONS,
    CheckCard,
    Command,
    FormChoice,
    FormField,
    Prefill,
    ReadCardTries,
    ReleaseCard,
    RequestForm,
    Screen,
    State,
    VerifyAndReadCard,
    fiscal_year,
)


class CardSteps:
    """The card and request-form methods of `Flow`; `Flow` supplies the visit's state."""

    state: State

    def touch(self, now: float) -> None:
        raise NotImplementedError

    def prefilled(self, prefill: Prefill, now: float) -> list[Command]:
        raise NotImplementedError

    def card_forms(self) -> tuple[RequestForm, ...]:
        """The selected procedure's forms a visitor can complete by card and touch alone."""
        category = self.state.category()
        if category is None or not self.state.card_reader:
            return ()
        forms = (self.state.form(form_id) for form_id in category.forms)
        return tuple(f for f in forms if f is not None and self._fits_kiosk(f))

    def _fits_kiosk(self, form: RequestForm) -> bool:
        # Only forms whose required answers come from the card or a touch: the 印鑑登録証
        # number (inkan) is typed, so that form stays with the clerk.
        if not any(f.from_card for f in form.fields):
            return False
        for item in form.fields:
            if item.from_card or not item.required:
                continue
            if item.kind not in TOUCH_KINDS or item.name in NOT_AT_KIOSK:
                return False
            if item.kind == "choice" and not self.choices(item, form):
                return False
        return True

    def touch_fields(self, form: RequestForm | None = None) -> tuple[FormField, ...]:
        """The questions the visitor answers on the request form, in the form's order."""
        form = form or self.state.form()
        if form is None:
            return ()
        return tuple(
            f
            for f in form.fields
            if f.kind in TOUCH_KINDS and not f.from_card and f.name not in NOT_AT_KIOSK
        )

    def choices(self, item: FormField, form: RequestForm | None = None) -> tuple[FormChoice, ...]:
        """The answers offered for a choice: none that would need a typed name."""
        form = form or self.state.form()
        offered = []
        for choice in item.choices:
            if item.name == "relation":
                if choice.value in TYPED_RELATIONS:
                    continue
                # Someone else in the household is named unless the whole household is asked
                # for; without a scope question that name would have to be typed.
                if choice.value == "household" and (form is None or form.field("scope") is None):
                    continue
            offered.append(choice)
        return tuple(offered)

    def bounds(self, item: FormField) -> tuple[int, int]:
        """The stepper's range: the form's, and no fiscal year that has not started."""
        low = item.minimum if item.minimum is not None else 1
        high = item.maximum if item.maximum is not None else max(low, 99)
        if item.name.endswith("_year") and self.state.fiscal_year is not None:
            high = min(high, self.state.fiscal_year)
        return low, max(low, high)

    def request_missing(self) -> tuple[str, ...]:
        """Required answers not given yet (the issue button waits for them)."""
        prefill = self.state.prefill
        form = self.state.form()
        if prefill is None or form is None:
            return ()
        missing = [
            f.name
            for f in form.fields
            if f.required and prefill.fields.get(f.name) in (None, "", [])
        ]
        return tuple(missing)

    def start_card(self, now: float) -> list[Command]:
        """ "Make the request with my MyNumber card", from the confirm screen."""
        self.touch(now)
        forms = self.card_forms()
        if self.state.screen is not Screen.CONFIRM or not forms or self.state.card_unusable:
            return []
        taps = self.state.taps + 1
        if len(forms) > 1:
            self.state = replace(self.state, screen=Screen.CARD_FORMS, taps=taps, message=None)
            return []
        self.state = replace(self.state, taps=taps)
        return self.choose_form(forms[0].id, now)

    def choose_form(self, form_id: str, now: float) -> list[Command]:
        """The request form to prefill; then the card is asked for."""
        self.touch(now)
        if self.state.screen not in (Screen.CONFIRM, Screen.CARD_FORMS):
            return []
        if form_id not in {f.id for f in self.card_forms()}:
            return []
        self.state = replace(
            self.state,
            screen=Screen.CARD_INSERT,
            form_id=form_id,
            prefill=None,
            card_tries=None,
            message=None,
        )
        return [CheckCard()]

    def card_present(self, present: bool, now: float) -> list[Command]:
        """The reader's answer to `CheckCard`: a card arrived, or it was taken away."""
        screen = self.state.screen
        if screen is Screen.CARD_INSERT and self.state.card_swap:
            # The card that failed is still there: no loop back into the same failure.
            if not present:
                self.state = replace(self.state, card_swap=False)
            return []
        if screen is Screen.CARD_INSERT and present:
            self.touch(now)  # placing the card is the visitor's action
            self.state = replace(self.state, screen=Screen.CARD_CONSENT, message=None)
            return []
        if screen in (Screen.CARD_CONSENT, Screen.CARD_PIN) and not present:
            return self.card_failed("removed", None, now)
        return []

    def card_consent(self, now: float) -> list[Command]:
        """The visitor agreed to the purpose; the card is asked for its tries left first."""
        self.touch(now)
        if self.state.screen is not Screen.CARD_CONSENT:
            return []
        self.state = replace(self.state, screen=Screen.CARD_READING, message="card_checking")
        return [ReadCardTries()]

    def card_tries(self, tries_left: int, now: float) -> list[Command]:
        """Tries left, before any PIN is asked for: none left sends the visitor on."""
        if self.state.screen is not Screen.CARD_READING or self.state.card_tries is not None:
            return []
        if tries_left <= 0:
            return self._card_locked()
        self.state = replace(
            self.state, screen=Screen.CARD_PIN, card_tries=tries_left, message=None
        )
        return []

    def submit_pin(self, pin: str, now: float) -> list[Command]:
        """One VERIFY per tap on OK; the PIN passes through to the command and is not kept."""
        self.touch(now)
        if self.state.screen is not Screen.CARD_PIN:
            return []  # a second tap while the first VERIFY runs sends nothing
        if len(pin) != 4 or not pin.isascii() or not pin.isdigit():
            self.state = replace(self.state, message="pin_four_digits")
            return []
        self.state = replace(self.state, screen=Screen.CARD_READING, message="card_reading")
        return [VerifyAndReadCard(pin)]

    def card_read(self, items: Mapping[str, str], today: date, now: float) -> list[Command]:
        """The four items arrived: they fill the form's card fields (sex only if asked)."""
        form = self.state.form()
        category = self.state.category()
        if self.state.screen is not Screen.CARD_READING or form is None or category is None:
            return [ReleaseCard()]
        fields: dict[str, object] = {}
        for item in form.fields:
            value = items.get(item.from_card or "")
            if value:
                if item.kind == "date" and len(value) == 8 and value.isdigit():
                    value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
                fields[item.name] = value
        fiscal = fiscal_year(today)
        for item in self.touch_fields(form):
            if item.kind == "int":
                low, high = item.minimum or 1, item.maximum or 99
                # Year questions start at the current fiscal year; counts at their minimum.
                start = fiscal if item.name.endswith("_year") else low
                fields[item.name] = min(max(start, low), high)
            elif item.kind == "bool":
                fields[item.name] = False
            elif item.kind == "choice":
                offered = self.choices(item, form)
                if len(offered) == 1 or (item.name == "relation" and offered[:1]):
                    fields[item.name] = offered[0].value  # 本人 first; one answer needs no tap
        self.touch(now)
        prefill = Prefill(
            source="card", kind="card", category_id=category.id, form=form.id, fields=fields
        )
        self.state = replace(self.state, card_tries=None, message=None, fiscal_year=fiscal)
        return [ReleaseCard(), *self.prefilled(prefill, now)]

    def card_failed(self, failure: str, tries_left: int | None, now: float) -> list[Command]:
        """A card step failed: wrong PIN, locked, removed, not a MyNumber card, unreadable."""
        if self.state.screen not in CARD_SCREENS:
            return []
        if failure == "wrong_pin" and tries_left is not None and tries_left > 0:
            self.state = replace(
                self.state, screen=Screen.CARD_PIN, card_tries=tries_left, message="wrong_pin"
            )
            return []
        if failure in ("wrong_pin", "locked"):
            return self._card_locked()
        key = failure if failure in CARD_FAILURES else "unreadable"
        # Removed, not ours or unreadable: start the card steps again, nothing kept.
        self.state = replace(
            self.state,
            screen=Screen.CARD_INSERT,
            prefill=None,
            card_tries=None,
            message=f"card_{key}",
            card_swap=key != "removed",
        )
        return [ReleaseCard(), CheckCard()]

    def _card_locked(self) -> list[Command]:
        self.state = replace(
            self.state,
            screen=Screen.CARD_LOCKED,
            prefill=None,
            card_tries=None,
            card_unusable=True,
            message=None,
        )
        return [ReleaseCard()]

    def continue_without_card(self, now: float) -> list[Command]:
        """Locked (or any card step): a plain ticket for the same procedure instead."""
        self.touch(now)
        return self._leave_card(Screen.CONFIRM, None)

    def _leave_card(self, screen: Screen, message: str | None) -> list[Command]:
        self.state = replace(
            self.state,
            screen=screen,
            prefill=None,
            form_id=None,
            card_tries=None,
            message=message,
        )
        return [ReleaseCard()]

    def set_field(self, name: str, value: object, now: float) -> list[Command]:
        """A touch answer on the request form; anything the form does not offer is ignored."""
        self.touch(now)
        prefill, form = self.state.prefill, self.state.form()
        if self.state.screen is not Screen.REQUEST_FORM or prefill is None or form is None:
            return []
        item = next((f for f in self.touch_fields(form) if f.name == name), None)
        if item is None:
            return []
        fields = dict(prefill.fields)
        if item.kind == "choice":
            if value not in {c.value for c in self.choices(item, form)}:
                return []
        elif item.kind == "int":
            low, high = self.bounds(item)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                return []
        elif not isinstance(value, bool):
            return []
        fields[name] = value
        self._household_rules(form, fields, changed=name)
        self.state = replace(self.state, prefill=replace(prefill, fields=fields), message=None)
        return []

    @staticmethod
    def _household_rules(form: RequestForm, fields: dict[str, object], changed: str) -> None:
        # 本人のみ means the card holder's own record (scope "some", members = the card name);
        # a household member's request covers the whole household, so no name is typed.
        if form.field("scope") is None:
            return
        if changed == "relation" and fields.get("relation") == "household":
            fields["scope"] = "household"
        if changed == "scope" and fields.get("scope") == "some":
            fields["relation"] = "self"
        if fields.get("scope") == "some":
            name = next((fields.get(f.name) for f in form.fields if f.from_card == "name"), None)
            fields["members"] = [name] if isinstance(name, str) else []
        else:
            fields.pop("members", None)

    def request_fields(self) -> dict[str, object]:
        """The answers as sent to the server."""
        prefill = self.state.prefill
        return dict(prefill.fields) if prefill else {}
