"""The MyNumber card protocol and PIN rules against the simulator, through pyscard's transmit."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_app.devices.card import apdu
from kiosk_app.devices.card.apdu import (
    CARD_FACE_AID,
    EF_INDIVIDUAL_NUMBER,
    JPKI_AID,
    parse_basic_four,
)
from kiosk_app.devices.card.readers import SimCardConnection, open_channel
from kiosk_app.devices.card.session import (
    CardProtocolError,
    CardRemoved,
    MyNumberSession,
    NotMyNumberCard,
    PinLocked,
    WrongPin,
)
from kiosk_app.devices.card.sim import SAMPLE, SimulatedMyNumberCard

REFERENCE_VECTOR = bytes.fromhex(
    "ff205cdf2108000e00200050005bdf220fe8a9a6e9a893e38080e88ab1e5ad90df232de69db1e4baace983bde58d83"
    "e4bba3e794b0e58cbae99c9ee3818ce996a2efbc91efbc8defbc92efbc8defbc93df24083139393030343031df250132"
)


def session(card: SimulatedMyNumberCard) -> MyNumberSession:
    return MyNumberSession(open_channel("sim://", card))


def never_sent_forbidden(card: SimulatedMyNumberCard) -> None:
    for command in card.log:
        assert not (command.header[:2] == b"\x00\xa4" and command.data == EF_INDIVIDUAL_NUMBER)
        assert command.data not in (JPKI_AID, CARD_FACE_AID)


class TestBasicFourFile:
    def test_reference_vector_with_padding(self) -> None:
        items = parse_basic_four(REFERENCE_VECTOR + b"\xff" * 40).as_items()
        assert items == {
            "name": "試験　花子",
            "address": "東京都千代田区霞が関１－２－３",
            "birth": "19900401",
            "sex": "2",
        }

    def test_builder_reproduces_the_reference_vector(self) -> None:
        assert apdu.build_basic_four(*SAMPLE) == REFERENCE_VECTOR

    @pytest.mark.parametrize(
        "broken",
        [
            REFERENCE_VECTOR[:40],  # truncated
            REFERENCE_VECTOR[:6] + b"\x00\x0f" + REFERENCE_VECTOR[8:],  # offset table wrong
            b"\x6f\x20" + REFERENCE_VECTOR[2:],  # not the FF20 template
            REFERENCE_VECTOR.replace(b"\xdf\x25\x01\x32", b"\xdf\x25\x01\x35"),  # sex "5"
        ],
    )
    def test_malformed_files_are_refused(self, broken: bytes) -> None:
        with pytest.raises(apdu.ApduError):
            parse_basic_four(broken)

    def test_repr_never_shows_the_items(self) -> None:
        assert "花子" not in repr(parse_basic_four(REFERENCE_VECTOR))


class TestSession:
    def test_tries_query_costs_nothing_and_pin_unlocks_the_items(self) -> None:
        card = SimulatedMyNumberCard()
        s = session(card)
        assert s.tries_left() == 3
        assert s.tries_left() == 3
        s.verify("1234")
        assert s.read_basic_four().as_items()["address"] == "東京都千代田区霞が関１－２－３"
        assert sum(1 for c in card.log if c.header[:2] == b"\x00\x20" and c.has_data) == 1
        never_sent_forbidden(card)

    def test_long_address_needs_long_ber_lengths_and_chunked_reads(self) -> None:
        address = "北海道" + "１２３番地の" * 60
        card = SimulatedMyNumberCard(items=("長い　住所", address, "19800101", "1"))
        s = session(card)
        s.tries_left()
        s.verify("1234")
        assert s.read_basic_four().address == address
        reads = [c for c in card.log if c.header[:2] == b"\x00\xb0"]
        assert len(reads) >= 3  # header, then at most 256 bytes a read

    def test_wrong_pins_count_down_then_lock_without_any_automatic_retry(self) -> None:
        card = SimulatedMyNumberCard()
        s = session(card)
        assert s.tries_left() == 3
        with pytest.raises(WrongPin) as first:
            s.verify("0000")
        assert first.value.tries_left == 2
        with pytest.raises(WrongPin) as second:
            s.verify("1111")
        assert second.value.tries_left == 1  # the kiosk shows its last-try warning now
        with pytest.raises(PinLocked):  # 63 C0: that was the last try
            s.verify("2222")
        assert s.tries_left() == 0  # 69 84 from now on
        verifies = [c for c in card.log if c.header[:2] == b"\x00\x20" and c.has_data]
        assert len(verifies) == 3  # exactly one per call
        with pytest.raises(PinLocked):
            s.verify("1234")  # even the right PIN: blocked

    def test_try_counter_persists_across_sessions_and_processes(self, tmp_path: Path) -> None:
        state = tmp_path / "card.json"
        card = SimulatedMyNumberCard(state_file=state)
        first = session(card)
        assert first.tries_left() == 3
        with pytest.raises(WrongPin):
            first.verify("9999")
        card.power_off()  # the visitor pulls the card out and tries again later
        assert session(card).tries_left() == 2
        reborn = SimulatedMyNumberCard(state_file=state)
        assert session(reborn).tries_left() == 2

    def test_read_before_verify_is_refused_by_the_card(self) -> None:
        card = SimulatedMyNumberCard()
        s = session(card)
        s.tries_left()
        with pytest.raises(CardProtocolError, match="PIN first"):
            s.read_basic_four()

    def test_other_cards_are_recognised(self) -> None:
        with pytest.raises(NotMyNumberCard):
            session(SimulatedMyNumberCard(is_mynumber_card=False)).tries_left()

    def test_card_removed_mid_read(self) -> None:
        card = SimulatedMyNumberCard()
        s = session(card)
        s.tries_left()
        s.verify("1234")
        original = card.transmit

        def remove_on_read(command: bytes) -> bytes:
            if command[:2] == b"\x00\xb0":
                card.remove()
            return original(command)

        card.transmit = remove_on_read  # type: ignore[method-assign]
        with pytest.raises(CardRemoved):
            s.read_basic_four()

    def test_logs_hold_step_names_and_status_words_only(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        s = session(SimulatedMyNumberCard(pin="4321"))
        s.tries_left()
        s.verify("4321")
        s.read_basic_four()
        text = caplog.text
        assert "verify -> 9000" in text
        for secret in ("4321", "34333231", "花子", "霞が関", "19900401"):
            assert secret not in text

    def test_the_pyscard_transmit_path_is_used(self) -> None:
        from smartcard.CardConnection import CardConnection

        connection = SimCardConnection(SimulatedMyNumberCard())
        assert isinstance(connection, CardConnection)
        data, sw1, sw2 = connection.transmit(list(apdu.SELECT_AP))
        assert (data, sw1, sw2) == ([], 0x90, 0x00)


def test_diag_command_shows_state_not_data() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", "card", "diag", "--reader", "sim://?tries=1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert "1 tries left" in result.stdout and "last try" in result.stdout
    assert "花子" not in result.stdout
