"""Callback data round-trips, stays within Telegram's 64 bytes and refuses forged data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.callbacks import decode, encode
from dialogues import events as ev
from dialogues.model import Position

AT = Position("ZU3", "measures")
EVENTS = [
    ev.Choose("unknown", AT),
    ev.Keep(AT),
    ev.Back(AT),
    ev.Skip(AT),
    ev.Hint(AT),
    ev.Jump("ZU1"),
    ev.CarryMeasure(123456789012, AT),  # the largest id the decoder takes
    ev.Resume(),
    ev.Show(),
    ev.Pause(),
    ev.Overview(),
    ev.Review(),
    ev.Submit(),
    ev.Confirm(),
    ev.Cancel(),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_round_trip_within_64_bytes(event: ev.Event) -> None:
    data = encode(event)
    assert 1 <= len(data.encode()) <= 64
    assert decode(data) == event


@pytest.mark.parametrize(
    "data",
    ["", "zz", "c:K1.9:full", "c:K1:full", "c:K1.0:<b>", "j:", "j:K 1", "r:extra", "k:x.y"]
    + ["m:K1.2:", "m:K1.2:x", "m:K1.2:²", "m:K1.2:-1", "m:K1.2:1234567890123", "m:K1:5"],
)
def test_forged_data_is_refused(data: str) -> None:
    assert decode(data) is None


@given(st.text(max_size=64))
def test_decode_never_raises(data: str) -> None:
    event = decode(data)
    assert event is None or decode(encode(event)) == event
