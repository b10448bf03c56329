"""Whole songs in the panel against the fake engine (offscreen Qt): the request, the
stage progress, the result by part with its phrases and chords, audition and export, and
engines that cannot write songs."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pytest
from conftest import CONNECT_TIMEOUT_MS, count_pixels, make_client
from fake_audio import FakeSink
from fake_engine import BASS, CHORD, MELODY, FakeEngine

import smf
from gui.panel import PanelWindow, song_support
from gui.qt import QSettings
from gui.rollview import ROLE_COLORS
from wire.protocol import RequestParams, Status

WAIT = CONNECT_TIMEOUT_MS


def test_a_song_is_sent_shown_by_part_and_saved(
        qtbot, panel: PanelWindow, fake_engine: FakeEngine, tmp_path: Path) -> None:
    panel.form_editor.set_text("i1A2B1A2")
    panel.set_key("A minor")
    panel.seed_spin.setValue(7)
    panel.chords_editor.set_text("Am F")
    fake_engine.hold = True
    assert panel.write_song() is not None
    assert panel.task == "song"
    qtbot.waitUntil(lambda: panel.progress_bar.text() == "lead sheet 40%", timeout=WAIT)
    with qtbot.waitSignal(panel.client.result_ready, timeout=WAIT):
        fake_engine.finish_held()
    (params,) = [json.loads(args[1]) for args in fake_engine.messages("/diffjam/song")]
    assert params["form"] == "i1A2B1A2" and params["key"] == "A minor"
    assert params["seed"] == 7 and params["chords"] == "Am F"
    assert not {"bars", "n_bars", "variations", "steps", "sampler"} & set(params)
    assert panel.progress_bar.format() == "done"
    assert "Done: a 6-bar song (i1 A2 B1 A2)" in panel.status_area.text()
    assert "(seed 7)" in panel.status_area.text()
    roll = panel.roll
    assert roll.n_bars == 6 and [p.letter for p in roll.phrases] == list("iABA")
    assert roll.chords_at(3) == ("C",)
    roles = {note.pitch: roll.role_of(note) for note in roll.notes}
    assert roles[MELODY] == "melody" and roles[BASS] == "accompaniment"
    assert {roles[pitch] for pitch in CHORD} == {"chords"}
    image = roll.grab().toImage()
    for role in ("melody", "chords", "accompaniment"):
        assert count_pixels(image, ROLE_COLORS[role]) > 20, role
    assert len(panel.play_notes()) == 6 * 5  # audition: the three parts together
    assert panel.play()
    panel.audition.stop()
    path = tmp_path / "song.mid"
    panel.save_result(str(path))
    midi = mido.MidiFile(path)
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Chords", "Accompaniment"]
    ticks = zip(smf.absolute_ticks(midi.tracks[0]), midi.tracks[0], strict=True)
    assert [(tick // (4 * midi.ticks_per_beat), m.text) for tick, m in ticks
            if m.type == "marker"] == [(0, "i"), (1, "A"), (3, "B"), (4, "A")]
    assert [n.pitch for n in smf.track_notes(midi.tracks[1])] == [MELODY] * 6
    assert panel.drag_mime().urls()
    panel.set_task("generate")  # a clip task afterwards: its own lane and colours again
    panel.chords_editor.set_text("G")
    assert roll.chords_at(1) == ("C",)  # the song's chords stay while it is shown


def test_a_bad_form_from_the_engine_is_one_error_in_place(qtbot, panel: PanelWindow) -> None:
    with qtbot.waitSignal(panel.client.request_failed, timeout=WAIT):
        panel.submit_request("song", RequestParams(form="A8B"), ())
    assert panel.status_area.text().startswith("The engine refused a setting: 'form'")
    assert panel.generate_button.isEnabled()


@pytest.mark.parametrize(("tasks", "lead_sheet", "words"), [
    (["infill", "accompany", "generate", "song"], False, "no lead-sheet model"),
    (None, True, "older diffjam"),
])
def test_the_panel_says_when_the_engine_cannot_write_songs(
        qtbot, settings: QSettings, tasks, lead_sheet: bool, words: str) -> None:
    engine = FakeEngine()
    engine.tasks, engine.lead_sheet = tasks, lead_sheet
    engine.start()
    client = make_client(engine.port)
    window = PanelWindow(client=client, settings=settings, audio_sink=FakeSink())
    qtbot.addWidget(window)
    client.start()
    try:
        qtbot.waitUntil(lambda: client.connected, timeout=WAIT)
        qtbot.waitUntil(lambda: not window.form_editor.engine_note.isHidden(), timeout=WAIT)
        assert words in window.form_editor.engine_note.text()
        assert not window.song_button.isEnabled()
        window.form_editor.set_text("A4B4")
        window.set_task("song")
        assert window.generate() is None
        assert words in window.status_area.text()
        assert "/diffjam/song" not in engine.addresses()
    finally:
        client.close()
        engine.stop()


def test_song_support_in_words() -> None:
    base = Status(1, "v", "m", "cpu", 0, 8, False, None)
    assert "older diffjam" in song_support(base)
    songs = Status(1, "v", "m", "cpu", 0, 8, False, None,
                   tasks=("infill", "accompany", "generate", "song"), lead_sheet=True)
    assert song_support(songs) == ""
