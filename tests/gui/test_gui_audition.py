"""The audition transport: takes, playhead, loop, stop, MIDI output (fake sink and port)."""

from __future__ import annotations

import numpy as np
import pytest
from fake_audio import FakeMidiOut, FakeSink

from gui.audition import Audition, ClockSink
from gui.clip import ClipNote
from gui.synth import SAMPLE_RATE

NOTES = (ClipNote(0.0, 1.0, 60, 100), ClipNote(2.0, 1.0, 64, 100), ClipNote(6.0, 1.0, 67, 100))


@pytest.fixture
def audition(qtbot) -> Audition:
    return Audition(sink=FakeSink())


def test_play_renders_the_window_and_moves_the_playhead(qtbot, audition: Audition) -> None:
    with qtbot.waitSignal(audition.playing_changed, timeout=0) as blocker:
        audition.play(NOTES, tempo=120.0, start_beat=0.0, end_beat=4.0)
    assert blocker.args == [True] and audition.playing
    (buffer,) = audition.sink.buffers
    assert buffer.shape == (2 * SAMPLE_RATE,) and np.abs(buffer).max() > 0
    audition.sink.elapsed = 0.5  # s: one beat at 120 BPM
    audition.tick()
    assert audition.position == pytest.approx(1.0)
    audition.sink.elapsed = 2.0
    with qtbot.waitSignal(audition.playing_changed, timeout=0) as blocker:
        audition.tick()
    assert blocker.args == [False] and not audition.playing and audition.position is None


def test_loop_starts_again_at_the_window_start(audition: Audition) -> None:
    audition.play(NOTES, tempo=120.0, start_beat=4.0, end_beat=8.0, loop=True, from_beat=6.0)
    assert audition.position == 6.0 and audition.sink.buffers[0].shape == (SAMPLE_RATE,)
    audition.sink.elapsed = 1.0
    audition.tick()
    assert audition.playing and audition.position == 4.0
    assert len(audition.sink.buffers) == 2 and audition.sink.buffers[1].shape == (2 * SAMPLE_RATE,)
    audition.stop()
    assert not audition.sink.running and audition.position is None


def test_midi_output_gets_the_notes_instead_of_the_synth(audition: Audition) -> None:
    port = FakeMidiOut()
    audition.set_midi_output(port)
    audition.play(NOTES, tempo=120.0, start_beat=0.0, end_beat=4.0)
    assert not audition.sink.buffers[0].any()  # the synth is silent
    audition.sink.elapsed = 1.25  # beat 2.5
    audition.tick()
    played = [(m.type, m.note) for m in port.sent if m.type.startswith("note")]
    assert played == [("note_on", 60), ("note_off", 60), ("note_on", 64)]
    audition.stop()
    assert port.sent[-1].type == "control_change" and port.sent[-1].control == 123


def test_an_empty_window_is_refused(audition: Audition) -> None:
    with pytest.raises(ValueError, match="nothing to play"):
        audition.play(NOTES, tempo=120.0, start_beat=4.0, end_beat=4.0)


def test_clock_sink_counts_time_from_start() -> None:
    now = [10.0]
    sink = ClockSink(clock=lambda: now[0])
    sink.start(np.zeros(1, dtype=np.float32), SAMPLE_RATE)
    now[0] = 11.5
    assert sink.elapsed_s() == 1.5
    sink.stop()
    assert sink.elapsed_s() == 0.0
