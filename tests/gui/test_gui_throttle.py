"""The throttle merging slider bursts."""

from __future__ import annotations

import pytest

from gui.throttle import Throttle


def test_first_call_passes_and_a_burst_merges_into_one(qtbot) -> None:
    calls: list[int] = []
    throttle = Throttle(calls.append, delay_ms=60_000)
    for value in range(10):
        throttle(value)
    assert calls == [0]
    assert throttle.pending
    throttle.flush()
    assert calls == [0, 9]
    assert not throttle.pending
    throttle.flush()
    assert calls == [0, 9]


def test_the_last_value_arrives_when_the_delay_ends(qtbot) -> None:
    calls: list[int] = []
    throttle = Throttle(calls.append, delay_ms=20)
    for value in range(5):
        throttle(value)
    qtbot.waitUntil(lambda: calls == [0, 4], timeout=2000)
    assert not throttle.pending


def test_cancel_forgets_the_pending_call(qtbot) -> None:
    calls: list[str] = []
    throttle = Throttle(calls.append, delay_ms=60_000)
    throttle("a")
    throttle("b")
    throttle.cancel()
    throttle.flush()
    assert calls == ["a"]
    throttle("c")  # the timer was stopped, so this passes at once
    assert calls == ["a", "c"]


def test_negative_delay_is_rejected(qtbot) -> None:
    with pytest.raises(ValueError, match="delay_ms must be >= 0"):
        Throttle(print, delay_ms=-1)
