"""The relay push protocol and state: signatures, order, idempotence, status after events."""

from __future__ import annotations

import json

import pytest

from relay.protocol import PushRefused, encode, parse, sign, verify
from relay.state import RelayState

SECRET = b"s" * 40
OFFICE = "shirakawa-shimin"


def event(seq: int) -> str:
    return json.dumps({"type": "event", "seq": seq, "event": {"type": "ticket.issued", "seq": seq}})


def status(waiting: int) -> str:
    return json.dumps({"categories": [{"id": "a", "waiting": waiting}]})


def snapshot(seq: int = 5, waiting: int = 3) -> bytes:
    return encode(
        OFFICE,
        seq,
        0.0,
        snapshot=True,
        status=status(waiting),
        status_seq=seq,
        tickets={"p1": {"number": "A-001"}},
        documents={"/api/v1/office": {"id": OFFICE}},
    )


def test_a_signature_from_a_configured_secret_verifies_and_others_do_not() -> None:
    body = snapshot()
    verify([b"old" * 11, SECRET], "1000.0", sign(SECRET, "1000.0", body), body, 1010.0)
    with pytest.raises(PushRefused) as forged:
        verify([SECRET], "1000.0", sign(b"x" * 40, "1000.0", body), body, 1000.0)
    assert forged.value.code == "bad_signature"
    with pytest.raises(PushRefused) as tampered:
        verify([SECRET], "1000.0", sign(SECRET, "1000.0", body), body + b" ", 1000.0)
    assert tampered.value.code == "bad_signature"
    with pytest.raises(PushRefused) as replayed:
        verify([SECRET], "1000.0", sign(SECRET, "1000.0", body), body, 1000.0 + 301)
    assert replayed.value.code == "stale"
    with pytest.raises(PushRefused) as unsigned:
        verify([SECRET], None, None, body, 1000.0)
    assert unsigned.value.code == "unsigned"


def test_a_snapshot_then_deltas_in_order_stream_events_before_their_status() -> None:
    state = RelayState(OFFICE)
    first = state.apply(parse(snapshot()))
    assert [json.loads(m)["type"] for m in first] == ["snapshot"]
    delta = encode(
        OFFICE, 7, 0.0, snapshot=False, events=[event(6), event(7)], status=status(5), status_seq=7
    )
    messages = [json.loads(m) for m in state.apply(parse(delta))]
    assert [(m["type"], m["seq"]) for m in messages] == [("event", 6), ("event", 7), ("status", 7)]
    assert state.seq == 7 and json.loads(state.status.data)["categories"][0]["waiting"] == 5
    assert state.tickets["p1"].data == b'{"ticket":{"number":"A-001"}}'


def test_the_same_push_twice_changes_nothing_the_second_time() -> None:
    state = RelayState(OFFICE)
    state.apply(parse(snapshot()))
    delta = encode(
        OFFICE, 6, 0.0, snapshot=False, events=[event(6)], status=status(4), status_seq=6
    )
    assert state.apply(parse(delta))
    assert state.apply(parse(delta)) == []
    assert state.seq == 6


def test_a_gap_asks_for_a_snapshot_and_a_status_ahead_of_events_is_held_back() -> None:
    state = RelayState(OFFICE)
    state.apply(parse(snapshot(seq=5)))
    gap = encode(OFFICE, 8, 0.0, snapshot=False, events=[event(8)])
    with pytest.raises(PushRefused) as refused:
        state.apply(parse(gap))
    assert (refused.value.status, refused.value.code) == (409, "need_snapshot")
    ahead = encode(OFFICE, 5, 0.0, snapshot=False, status=status(9), status_seq=6)
    assert state.apply(parse(ahead)) == []
    assert json.loads(state.status.data)["categories"][0]["waiting"] == 3


def test_another_office_and_malformed_pushes_are_refused() -> None:
    state = RelayState(OFFICE)
    with pytest.raises(PushRefused) as other:
        state.apply(parse(encode("other", 1, 0.0, snapshot=True, status=status(1), status_seq=1)))
    assert other.value.status == 403
    for body in (
        b"[]",
        b"{",
        b'{"office_id": "x"}',
        encode(OFFICE, 1, 0.0, snapshot=False, events=[event(1), event(3)]),
        json.dumps(
            {"office_id": OFFICE, "seq": 1, "documents": {"/api/v1/admin/staff": {}}}
        ).encode(),
    ):
        with pytest.raises(PushRefused) as malformed:
            parse(body)
        assert malformed.value.status == 400


def test_an_older_snapshot_never_takes_the_streams_back() -> None:
    state = RelayState(OFFICE)
    state.apply(parse(snapshot(seq=9, waiting=2)))
    assert state.apply(parse(snapshot(seq=7, waiting=8))) == []
    assert state.seq == 9 and json.loads(state.status.data)["categories"][0]["waiting"] == 2


def test_a_snapshot_keeps_the_documents_that_come_with_the_pull_only() -> None:
    state = RelayState(OFFICE)
    state.apply(parse(snapshot()))
    pulled = {
        "/api/v1/notify/channels": {"channels": ["email"]},
        "/api/v1/reserve/availability": {"procedures": []},
    }
    state.apply(parse(encode(OFFICE, 5, 0.0, snapshot=False, documents=pulled)))
    state.apply(parse(snapshot(seq=6)))
    # The channels come only with pulls: kept. Availability comes with snapshots: replaced.
    assert set(state.documents) == {"/api/v1/office", "/api/v1/notify/channels"}
    assert json.loads(state.documents["/api/v1/notify/channels"].data) == {"channels": ["email"]}


def test_documents_alone_do_not_make_the_figures_look_fresher() -> None:
    state = RelayState(OFFICE)
    state.apply(parse(snapshot()))
    before = state.updated_at
    channels = {"/api/v1/notify/channels": {"channels": []}}
    state.apply(parse(encode(OFFICE, 5, 0.0, snapshot=False, documents=channels)))
    assert state.updated_at == before


def test_the_signer_of_a_call_is_the_secret_that_verifies_it() -> None:
    body = b"{}"
    old, new = b"o" * 40, b"n" * 40
    assert verify([old, new], "1000.0", sign(new, "1000.0", body), body, 1000.0) == new
