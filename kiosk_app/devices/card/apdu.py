"""APDUs of the input-support AP and the parser of its basic-four file (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

INPUT_SUPPORT_AID = bytes.fromhex("D3921000310001010408")
EF_PIN = bytes.fromhex("0011")
EF_BASIC_FOUR = bytes.fromhex("0002")
# Never to be sent by the kiosk; the simulator and tests use them to prove it.
EF_INDIVIDUAL_NUMBER = bytes.fromhex("0001")
CARD_FACE_AID = bytes.fromhex("D3921000310001010402")
JPKI_AID = bytes.fromhex("D392F000260100000001")

SELECT_AP = bytes.fromhex("00A4040C0A") + INPUT_SUPPORT_AID
SELECT_PIN_EF = bytes.fromhex("00A4020C02") + EF_PIN
SELECT_BASIC_FOUR = bytes.fromhex("00A4020C02") + EF_BASIC_FOUR
TRIES_LEFT = bytes.fromhex("00200080")  # VERIFY without data: costs no try


class ApduError(Exception):
    """A malformed answer or file; the message never contains card data."""


def verify(pin: str) -> bytes:
    """VERIFY with the 4-digit PIN (validated here, never logged anywhere)."""
    if len(pin) != 4 or not pin.isascii() or not pin.isdigit():
        raise ValueError("the PIN is 4 digits")
    return bytes.fromhex("0020008004") + pin.encode("ascii")


def read_binary(offset: int, length: int) -> bytes:
    if not 0 <= offset <= 0x7FFF or not 0 < length <= 256:
        raise ValueError("offset or length out of range")
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length & 0xFF])


def split(response: bytes) -> tuple[bytes, int]:
    """Data and status word of an R-APDU."""
    if len(response) < 2:
        raise ApduError("the card's answer is shorter than a status word")
    return response[:-2], (response[-2] << 8) | response[-1]


def describe(command: bytes) -> str:
    """A loggable step name for a command: never its data (VERIFY carries the PIN)."""
    if command.startswith(bytes.fromhex("00A404")):
        return "select-ap"
    if command.startswith(bytes.fromhex("00A402")):
        return "select-ef " + command[5:7].hex()
    if command[:2] == bytes.fromhex("0020"):
        return "verify-query" if len(command) == 4 else "verify"
    if command[:2] == bytes.fromhex("00B0"):
        return "read-binary"
    if command[:2] == bytes.fromhex("00C0"):
        return "get-response"
    return "command " + command[:2].hex()


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the BER-TLV at `pos`; private tags are two bytes."""
    if pos + 2 > len(data):
        raise ApduError("truncated tag")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        tag = (tag << 8) | data[pos]
        pos += 1
    if pos >= len(data):
        raise ApduError("truncated length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    elif first in (0x81, 0x82):
        count = first - 0x80
        if pos + count > len(data):
            raise ApduError("truncated long length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        raise ApduError("unsupported length form")
    if pos + length > len(data):
        raise ApduError("value runs past the end of the file")
    return tag, pos, pos + length


def outer_length(header: bytes) -> int:
    """Total bytes of the outer FF20 template, read from the file's first bytes."""
    if len(header) < 4 or header[:2] != b"\xff\x20":
        raise ApduError("not a basic-four file")
    first = header[2]
    if first < 0x80:
        return 3 + first
    if first == 0x81:
        return 4 + header[3]
    if first == 0x82 and len(header) >= 5:
        return 5 + int.from_bytes(header[3:5], "big")
    raise ApduError("unsupported outer length")


@dataclass(frozen=True, repr=False)
class BasicFour:
    """The four items; `repr` is redacted so an accidental log line shows nothing personal."""

    name: str
    address: str
    birth: str  # YYYYMMDD
    sex: str  # "1" male, "2" female, "9" not applicable
    _fields: tuple[str, ...] = field(default=("name", "address", "birth", "sex"), compare=False)

    def __repr__(self) -> str:
        return "BasicFour(<redacted>)"

    def as_items(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address, "birth": self.birth, "sex": self.sex}


def parse_basic_four(data: bytes) -> BasicFour:
    """Parse EF 0002 strictly: outer template, offsets checked against the TLVs, padding ignored."""
    tag, start, end = _tlv(data, 0)
    if tag != 0xFF20:
        raise ApduError("not a basic-four file")
    values: dict[int, bytes] = {}
    positions: dict[int, int] = {}
    pos = start
    while pos < end:
        item_tag, value_start, value_end = _tlv(data, pos)
        positions[item_tag] = pos
        values[item_tag] = data[value_start:value_end]
        pos = value_end
    if pos != end:
        raise ApduError("items overrun the template")
    offsets = values.get(0xDF21)
    if offsets is None or len(offsets) != 8:
        raise ApduError("offset table missing")
    for index, item_tag in enumerate((0xDF22, 0xDF23, 0xDF24, 0xDF25)):
        if item_tag not in values:
            raise ApduError("an item is missing")
        if int.from_bytes(offsets[2 * index : 2 * index + 2], "big") != positions[item_tag]:
            raise ApduError("offset table does not match the items")
    try:
        name, address = values[0xDF22].decode("utf-8"), values[0xDF23].decode("utf-8")
        birth, sex = values[0xDF24].decode("ascii"), values[0xDF25].decode("ascii")
    except UnicodeDecodeError:
        raise ApduError("an item is not valid text") from None
    if len(birth) != 8 or not birth.isdigit() or sex not in ("1", "2", "9"):
        raise ApduError("birth date or sex malformed")
    return BasicFour(name, address, birth, sex)


def build_basic_four(name: str, address: str, birth: str, sex: str) -> bytes:
    """The EF 0002 bytes for given items (the simulator's card content)."""

    def tlv(tag: int, value: bytes) -> bytes:
        if len(value) < 0x80:
            length = bytes([len(value)])
        elif len(value) < 0x100:
            length = bytes([0x81, len(value)])
        else:
            length = bytes([0x82]) + len(value).to_bytes(2, "big")
        return tag.to_bytes(2, "big") + length + value

    items = [
        (0xDF22, name.encode("utf-8")),
        (0xDF23, address.encode("utf-8")),
        (0xDF24, birth.encode("ascii")),
        (0xDF25, sex.encode("ascii")),
    ]
    encoded = [tlv(tag, value) for tag, value in items]
    body_len = 11 + sum(len(e) for e in encoded)  # DF21 08 + 8 offset bytes = 11
    outer = tlv(0xFF20, bytes(body_len))  # to learn the header size for this length
    header_len = len(outer) - body_len
    offsets, pos = b"", header_len + 11
    for item in encoded:
        offsets += pos.to_bytes(2, "big")
        pos += len(item)
    return tlv(0xFF20, tlv(0xDF21, offsets) + b"".join(encoded))
