"""The panel window against the fake engine (offscreen Qt)."""

from __future__ import annotations

import json
import socket
from dataclasses import astuple
from pathlib import Path

import mido
import numpy as np
import pytest
from conftest import CONNECT_TIMEOUT_MS, count_pixels, make_client
from fake_engine import ARPEGGIO, FakeEngine

import gui.panel as panel_module
import smf
from gui.client import EngineClient
from gui.clip import ClipNote, read_clip, write_clip
from gui.panel import PanelWindow, device_text, milliseconds
from gui.qt import QImage, QSettings, Qt
from gui.rollview import CONTEXT_COLOR, GENERATED_COLOR
from gui.synth import SAMPLE_RATE
from wire.protocol import RequestParams

WAIT = CONNECT_TIMEOUT_MS


def generate_and_wait(qtbot, panel: PanelWindow) -> None:
    with qtbot.waitSignal(panel.client.result_ready, timeout=WAIT):
        assert panel.generate() is not None


def write_input_clip(path: Path, *, bars: int = 8) -> Path:
    notes = [ClipNote(start=bar * 4.0 + beat, duration=1.0, pitch=48 + beat * 3, velocity=70)
             for bar in range(bars) for beat in range(4)]  # fmt: skip
    write_clip(path, notes, tempo=100.0)
    return path


def test_shows_connection_and_engine_info(panel: PanelWindow) -> None:
    assert "engine at 127.0.0.1" in panel.connection_label.text()
    assert panel.protocol_label.text() == "protocol 1"
    assert panel.model_label.text() == "model fake-arpeggio 0.0-fake"
    assert panel.device_label.text() == "device CPU"
    assert panel.latency_label.text() == "last latency 12 ms"  # 12.5 rounded


def test_connection_loss_is_shown(qtbot, settings: QSettings) -> None:
    engine = FakeEngine().start()
    client = make_client(engine.port)
    window = PanelWindow(client=client, settings=settings)
    qtbot.addWidget(window)
    client.start()
    try:
        qtbot.waitUntil(lambda: client.connected, timeout=WAIT)
        engine.stop()
        qtbot.waitUntil(lambda: "no engine at" in window.connection_label.text(), timeout=WAIT)
        assert window.model_label.text() == "model –"  # no stale engine details
        assert window.defaults_label.text() == "" and window.progress_bar.format() == "idle"
    finally:
        client.close()


def test_sampling_changes_are_sent_as_throttled_settings(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine
) -> None:
    before = len(fake_engine.messages("/diffjam/settings"))
    for value in range(21, 41):  # a slider drag: 20 moves
        panel.guidance_slider.setValue(value)
    panel.steps_spin.setValue(25)
    panel.key_combo.setCurrentIndex(panel.key_combo.findData("F#"))
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("minor"))
    qtbot.waitUntil(lambda: fake_engine.settings["key"] == "F# minor", timeout=WAIT)
    sent = fake_engine.messages("/diffjam/settings")[before:]
    assert 1 <= len(sent) < 23
    assert json.loads(sent[-1][0]) == {
        "guidance": 4.0, "in_key": True, "key": "F# minor", "steps": 25, "variations": 1,
    }  # fmt: skip
    assert fake_engine.settings["guidance"] == 4.0
    qtbot.waitUntil(lambda: "key F# minor" in panel.defaults_label.text(), timeout=WAIT)
    assert panel.guidance_value.text() == "closely (4.0)"


def test_generate_draws_the_roll_with_generated_bars_apart(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    assert panel.open_clip(str(write_input_clip(tmp_path / "in.mid")))
    assert panel.bars_spin.value() == 8
    panel.set_task("infill")
    panel.first_bar_spin.setValue(3)
    panel.last_bar_spin.setValue(4)
    panel.variations_spin.setValue(3)
    panel.seed_spin.setValue(7)
    generate_and_wait(qtbot, panel)
    (params,) = [json.loads(args[1]) for args in fake_engine.messages("/diffjam/infill")]
    assert params["bars"] == [3, 4] and params["clip_beats"] == 32.0
    assert params["seed"] == 7 and params["variations"] == 3 and params["tempo"] == 100.0
    assert params["notes_chunks"] == 1
    assert panel.roll.generated == (3, 4)
    generated = [note for note in panel.roll.notes if panel.roll.is_generated(note)]
    assert [note.pitch for note in generated] == list(ARPEGGIO) * 2
    assert len(panel.roll.notes) - len(generated) == 24  # the context outside bars 3-4
    assert panel.variation_label.text() == "1 / 3"
    assert panel.progress_bar.value() == 100
    image = panel.roll.grab().toImage()
    assert count_pixels(image, GENERATED_COLOR) > 50
    assert count_pixels(image, CONTEXT_COLOR) > 50
    panel.next_button.click()
    assert panel.variation_label.text() == "2 / 3"
    assert [n.pitch for n in panel.roll.notes if panel.roll.is_generated(n)][:4] == [
        p + 1 for p in ARPEGGIO
    ]
    panel.prev_button.click()
    panel.prev_button.click()
    assert panel.variation_label.text() == "3 / 3"


def test_accompany_and_generate_params(qtbot, panel: PanelWindow, fake_engine) -> None:
    panel.set_task("accompany")
    panel.bars_spin.setValue(4)
    panel.chords_editor.set_text("C G | Am F")
    generate_and_wait(qtbot, panel)
    params = json.loads(fake_engine.messages("/diffjam/accompany")[0][1])
    assert params["chords"] == "C G | Am F" and params["n_bars"] == 4
    assert 0 <= params["seed"] < 2**31 and "key" not in params  # a random seed, drawn here
    assert panel.seed_button.text() == f"seed {params['seed']} ↺"
    assert f"(seed {params['seed']})" in panel.status_area.text()
    panel.seed_button.click()
    assert panel.seed_spin.value() == params["seed"]
    panel.set_task("generate")
    generate_and_wait(qtbot, panel)
    assert panel.roll.generated == (1, 4)


def test_accompany_without_chords_is_refused_in_place(panel: PanelWindow, fake_engine) -> None:
    panel.set_task("accompany")
    panel.chords_editor.set_text("")
    assert panel.generate() is None
    assert panel.status_area.text() == "accompany needs a chord progression"
    assert "/diffjam/accompany" not in fake_engine.addresses()


def test_chord_editor_names_the_bad_symbol(panel: PanelWindow) -> None:
    panel.chords_editor.edit.setText("C G Hm7 F")
    assert panel.chords_editor.verdict.text() == "bar 3: unknown chord symbol 'Hm7'"
    assert panel.generate() is None
    assert "unknown chord symbol 'Hm7'" in panel.status_area.text()
    panel.chords_editor.edit.setText("C G Am7 F")
    assert panel.chords_editor.verdict.text() == "4 bars of chords"


def test_engine_error_is_shown_in_place(qtbot, panel: PanelWindow) -> None:
    panel.set_task("generate")
    with qtbot.waitSignal(panel.client.request_failed, timeout=WAIT):
        panel.submit_request("generate", RequestParams(n_bars=4, chords="C Hx"), ())
    assert panel.status_area.text() == (
        "The engine did not understand a chord: unknown chord symbol 'Hx'")
    assert panel.progress_bar.format() == "failed"
    assert panel.generate_button.isEnabled()


def test_form_is_drawn_and_never_sent_with_a_clip_task(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine
) -> None:
    panel.form_editor.edit.setText("i4A8B8A8o4")
    assert [p.letter for p in panel.form_editor.blocks.phrases] == ["i", "A", "B", "A", "o"]
    assert panel.form_editor.verdict.text() == "5 phrases, 32 bars"
    assert panel.form_editor.engine_note.isHidden()  # this engine writes songs
    panel.set_task("generate")
    generate_and_wait(qtbot, panel)
    assert "form" not in json.loads(fake_engine.messages("/diffjam/generate")[0][1])


def test_invalid_form_blocks_a_song(panel: PanelWindow, fake_engine: FakeEngine) -> None:
    panel.form_editor.edit.setText("A8B")
    assert panel.form_editor.phrases is None
    assert "'B' at character 3" in panel.form_editor.verdict.text()
    assert panel.write_song() is None
    assert "fix the form first" in panel.status_area.text()
    assert "/diffjam/song" not in fake_engine.addresses()


def test_save_and_drag_out_the_result(qtbot, panel: PanelWindow, tmp_path: Path) -> None:
    panel.set_task("generate")
    panel.bars_spin.setValue(2)
    generate_and_wait(qtbot, panel)
    path = tmp_path / "result.mid"
    panel.save_result(str(path))
    saved = read_clip(path)
    assert saved.notes == panel.roll.notes
    assert "Saved result.mid" in panel.status_area.text()
    mime = panel.drag_mime()
    (url,) = mime.urls()
    assert url.isLocalFile() and url.toLocalFile().endswith("diffjam-generate-v1.mid")
    dragged = mido.MidiFile(url.toLocalFile())
    assert sum(1 for m in dragged.tracks[1] if m.type == "note_on") == len(panel.roll.notes)
    assert bytes(mime.data("audio/midi")) == Path(url.toLocalFile()).read_bytes()


def test_nothing_to_save_before_a_result(panel: PanelWindow) -> None:
    with pytest.raises(ValueError, match="no result to save"):
        panel.save_result("x.mid")
    assert not panel.save_button.isEnabled()


def test_bad_midi_file_is_reported(panel: PanelWindow, tmp_path: Path) -> None:
    (tmp_path / "bad.mid").write_bytes(b"nope")
    assert not panel.open_clip(str(tmp_path / "bad.mid"))
    assert "cannot read" in panel.status_area.text()


def test_jam_ports_state_and_shortcut(qtbot, panel: PanelWindow, fake_engine) -> None:
    qtbot.waitUntil(lambda: panel.jam.output_combo.count() == 2, timeout=WAIT)
    panel.jam.output_combo.setCurrentIndex(panel.jam.output_combo.findData("Fake Synth"))
    panel.jam.clock_combo.setCurrentIndex(panel.jam.clock_combo.findData("internal"))
    panel.jam.tempo_spin.setValue(96)
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.jam.chord_label.text() == "Am7", timeout=WAIT)
    config = json.loads(fake_engine.messages("/diffjam/jam/start")[0][0])
    assert config["output"] == "Fake Synth" and config["input"] is None
    assert (config["clock"], config["tempo"]) == ("internal", 96.0)
    assert (config["guidance"], config["steps"]) == (panel.guidance, panel.steps_spin.value())
    assert "key" not in config and "variations" not in config
    assert panel.jam.bar_label.text() == "1"
    assert panel.jam.running_label.text() == "running (internal clock, 96 BPM)"
    assert panel.jam.button.text().startswith("Stop jam")
    qtbot.keyClick(panel, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.jam.running_label.text() == "stopped", timeout=WAIT)
    assert not fake_engine.jam_running


def test_ctrl_return_generates(qtbot, panel: PanelWindow, fake_engine) -> None:
    panel.set_task("generate")
    panel.activateWindow()
    with qtbot.waitSignal(panel.client.result_ready, timeout=WAIT):
        qtbot.keyClick(panel, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "/diffjam/generate" in fake_engine.addresses()


def test_settings_persist_between_runs(qtbot, tmp_path: Path, fake_engine) -> None:
    path = str(tmp_path / "persist.ini")
    first = PanelWindow(client=make_client(fake_engine.port),
                        settings=QSettings(path, QSettings.Format.IniFormat))  # fmt: skip
    qtbot.addWidget(first)
    first.set_task("accompany")
    first.bars_spin.setValue(16)
    first.last_bar_spin.setValue(12)
    first.first_bar_spin.setValue(9)
    first.chords_editor.set_text("Am F C G")
    first.form_editor.set_text("A8B8")
    first.set_guidance(3.5)
    first.in_key_check.setChecked(False)
    first.key_combo.setCurrentIndex(first.key_combo.findData("Bb"))
    first.mode_combo.setCurrentIndex(first.mode_combo.findData("minor"))
    first.steps_spin.setValue(30)
    first.variations_spin.setValue(4)
    first.seed_spin.setValue(1234)
    first.jam.clock_combo.setCurrentIndex(first.jam.clock_combo.findData("internal"))
    first.jam.tempo_spin.setValue(140)
    first.close()
    second = PanelWindow(client=make_client(fake_engine.port),
                         settings=QSettings(path, QSettings.Format.IniFormat))  # fmt: skip
    qtbot.addWidget(second)
    assert second.task == "accompany"
    assert (second.bars_spin.value(), second.first_bar_spin.value(),
            second.last_bar_spin.value()) == (16, 9, 12)  # fmt: skip
    assert second.chords_editor.text() == "Am F C G"
    assert second.form_editor.text() == "A8B8"
    assert second.sampling_settings().to_json() == {
        "guidance": 3.5, "in_key": False, "key": "Bb minor", "steps": 30, "variations": 4,
    }  # fmt: skip
    assert second.seed_spin.value() == -1  # a seed is per result (Reuse seed), not kept
    assert second.jam.config().clock == "internal"
    assert second.jam.tempo_spin.value() == 140


def test_layout_fits_1280_by_800(panel: PanelWindow) -> None:
    assert panel.minimumSizeHint().width() <= 1280
    assert panel.minimumSizeHint().height() <= 800
    assert panel.roll.width() >= 700
    assert panel.roll.height() >= 400


def test_screenshot_script_saves_every_state(qtbot, fake_engine, tmp_path: Path) -> None:
    from gui.screenshots import SHOTS, SIZES, capture

    paths = capture(host="127.0.0.1", port=fake_engine.port, out_dir=tmp_path, timeout_s=10)
    assert [path.name for path in paths] == list(SHOTS)
    for path in paths:
        image = QImage(str(path))
        assert (image.width(), image.height()) == SIZES.get(path.name, (1280, 800))


@pytest.mark.parametrize(
    ("device", "text"),
    [
        ("cpu", "CPU"),
        ("cuda:0", "GPU (cuda:0)"),
        ("cuda", "GPU (cuda)"),
        ("", "–"),
        ("none", "none"),
    ],
)
def test_device_text(device: str, text: str) -> None:
    assert device_text(device) == text


def test_accompanied_melody_keeps_its_context_colour(
    qtbot, panel: PanelWindow, tmp_path: Path
) -> None:
    melody = [ClipNote(start=beat * 2.0, duration=2.0, pitch=76, velocity=100) for beat in range(4)]
    write_clip(tmp_path / "melody.mid", melody)
    assert panel.open_clip(str(tmp_path / "melody.mid"))
    panel.set_task("accompany")
    panel.bars_spin.setValue(2)
    panel.chords_editor.set_text("C G")
    generate_and_wait(qtbot, panel)
    given = [n for n in panel.roll.notes if n.pitch == 76]
    generated = [n for n in panel.roll.notes if panel.roll.is_generated(n)]
    assert given == melody
    assert [n.pitch for n in generated] == list(ARPEGGIO) * 2


def test_variation_shortcuts(qtbot, panel: PanelWindow) -> None:
    panel.set_task("generate")
    panel.variations_spin.setValue(2)
    generate_and_wait(qtbot, panel)
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert panel.variation_label.text() == "2 / 2"
    qtbot.keyClick(panel, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert panel.variation_label.text() == "1 / 2"


def test_milliseconds() -> None:
    assert [milliseconds(v) for v in (5729.1, 42.0, 12.5, 0.4)] == [
        "5729 ms", "42 ms", "12 ms", "0.4 ms",
    ]  # fmt: skip


def test_jam_error_is_shown_in_the_jam_tab(qtbot, panel: PanelWindow) -> None:
    panel.jam.output_combo.addItem("Missing Synth", "Missing Synth")
    panel.jam.output_combo.setCurrentIndex(panel.jam.output_combo.count() - 1)
    panel.jam.button.click()
    qtbot.waitUntil(lambda: bool(panel.jam.error_label.text()), timeout=WAIT)
    expected = "Live jam: no MIDI output named 'Missing Synth'"
    assert panel.jam.error_label.text() == expected
    assert panel.status_area.text() == expected
    assert not panel.jam.running


def test_port_listing_errors_stay_in_the_jam_tab(qtbot, panel: PanelWindow, fake_engine) -> None:
    fake_engine.midi_ports = False
    panel.show_info("Ready.")
    panel.jam.refresh_button.click()
    qtbot.waitUntil(lambda: bool(panel.jam.error_label.text()), timeout=WAIT)
    assert panel.jam.error_label.text() == "Live jam: cannot list MIDI ports: no MIDI system"
    assert panel.status_area.text() == "Ready."


def test_infill_of_a_picked_track_is_saved_into_the_opened_file(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600_000),
                                       mido.MetaMessage("marker", text="verse", time=200)]))
    for name, channel, pitch in (("Lead", 0, 72), ("Keys", 4, 48)):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name),
                                mido.Message("program_change", channel=channel, program=5)])
        for beat in range(16):
            track += [mido.Message("note_on", channel=channel, note=pitch, velocity=60 + beat,
                                   time=3 if beat % 2 else 0),  # played, not quantised
                      mido.Message("control_change", channel=channel, control=64, value=127),
                      mido.Message("note_off", channel=channel, note=pitch, time=90)]
        midi.tracks.append(track)
    source = tmp_path / "song.mid"
    midi.save(source)
    assert panel.open_clip(str(source))
    panel.set_task("infill")
    assert panel.track_combo.isEnabled()
    panel.track_combo.setCurrentIndex(panel.track_combo.findData(2))
    panel.first_bar_spin.setValue(2)
    panel.last_bar_spin.setValue(2)
    generate_and_wait(qtbot, panel)
    sent = [args for args in fake_engine.messages("/diffjam/notes")]
    assert sum((len(args) - 3) // 4 for args in sent) == 16  # only Keys' notes
    path = tmp_path / "saved.mid"
    panel.save_result(str(path))
    assert "bars 2–2 of track 'Keys' replaced" in panel.status_area.text()
    saved, midi = mido.MidiFile(path), mido.MidiFile(source)
    assert saved.ticks_per_beat == 96
    assert [list(t) for t in saved.tracks[:2]] == [list(t) for t in midi.tracks[:2]]
    keys_before = [n for n in smf.track_notes(midi.tracks[2]) if not 384 <= n.start < 768]
    keys_after = smf.track_notes(saved.tracks[2])
    assert [astuple(n)[:5] for n in keys_after if not 384 <= n.start < 768] == [
        astuple(n)[:5] for n in keys_before]
    new = [n for n in keys_after if 384 <= n.start < 768]
    assert [n.pitch for n in new] == list(ARPEGGIO) and {n.channel for n in new} == {4}
    assert sum(m.type == "control_change" for m in saved.tracks[2]) == 16


class _EngineStub:
    """What "Start engine" starts in these tests: a fake engine on the panel's port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.engine: FakeEngine | None = None

    def start(self) -> None:
        self.engine = FakeEngine(port=self.port).start()

    def exit_code(self) -> int | None:
        return None

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()


def _free_udp_port() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_no_engine_is_said_at_once_with_a_button_that_starts_one(qtbot, settings) -> None:
    port = _free_udp_port()
    stub = _EngineStub(port)
    client = make_client(port)
    window = PanelWindow(client=client, settings=settings, engine_factory=lambda: stub)
    qtbot.addWidget(window)
    client.start()
    try:
        window.set_task("generate")
        window.bars_spin.setValue(2)
        assert window.generate() is None
        assert window.status_area.text().startswith(f"No engine is answering at 127.0.0.1:{port}.")
        assert window.generate_button.isEnabled() and not window.cancel_button.isEnabled()
        assert not window.start_engine_button.isHidden()
        window.start_engine_button.click()
        assert "Starting the engine" in window.status_area.text()
        qtbot.waitUntil(lambda: client.connected, timeout=WAIT)  # found without a restart
        assert window.start_engine_button.isHidden()
        assert window.model_label.text() == "model fake-arpeggio 0.0-fake"
        generate_and_wait(qtbot, window)
        assert window.roll.generated == (1, 2)
    finally:
        client.close()
        stub.stop()


def test_an_engine_that_never_answers_does_not_leave_the_panel_stuck(
    qtbot, settings, fake_engine: FakeEngine
) -> None:
    client = EngineClient(host="127.0.0.1", port=fake_engine.port, hello_interval_ms=100,
                          timeout_ms=600, answer_timeout_ms=300)  # fmt: skip
    window = PanelWindow(client=client, settings=settings)
    qtbot.addWidget(window)
    client.start()
    try:
        qtbot.waitUntil(lambda: client.connected, timeout=WAIT)
        fake_engine.deaf = True
        window.set_task("generate")
        with qtbot.waitSignal(client.request_failed, timeout=WAIT):
            assert window.generate() is not None
        assert window.status_area.text().startswith("No engine is answering")
        assert window.progress_bar.format() == "no answer"
        assert window.generate_button.isEnabled()
        fake_engine.deaf = False
        generate_and_wait(qtbot, window)  # a second Generate just works
    finally:
        client.close()


def test_escape_cancels_at_once_and_shows_cancelled(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine
) -> None:
    fake_engine.hold = True
    panel.set_task("generate")
    with qtbot.waitSignal(panel.client.accepted, timeout=WAIT):
        assert panel.generate() is not None
    assert panel.cancel_button.isEnabled()
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    assert panel.progress_bar.format() == "cancelled"
    assert panel.status_area.text() == "Cancelled."
    assert panel.status_area.styleSheet() == panel_module._INFO_STYLE  # not a red failure
    assert panel.generate_button.isEnabled() and not panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: "/diffjam/cancel" in fake_engine.addresses(), timeout=WAIT)
    fake_engine.hold = False
    fake_engine.finish_held()  # the engine's late result is not shown
    generate_and_wait(qtbot, panel)
    assert panel.variation_label.text() == "1 / 1"


def test_ctrl_o_opens_and_ctrl_s_saves(
    qtbot, panel: PanelWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_input_clip(tmp_path / "in.mid")
    monkeypatch.setattr(panel_module.QFileDialog, "getOpenFileName",
                        lambda *args: (str(source), ""))  # fmt: skip
    monkeypatch.setattr(panel_module.QFileDialog, "getSaveFileName",
                        lambda *args: (str(tmp_path / "out.mid"), ""))  # fmt: skip
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert panel.clip_label.text().startswith("in.mid:")
    generate_and_wait(qtbot, panel)
    qtbot.keyClick(panel, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert (tmp_path / "out.mid").exists()


def test_usable_at_800_by_600(qtbot, panel: PanelWindow, fake_engine: FakeEngine,
                              tmp_path: Path) -> None:
    write_clip(tmp_path / "long.mid", [ClipNote(bar * 4.0, 1.0, 60, 80) for bar in range(16)])
    assert panel.open_clip(str(tmp_path / "long.mid"))
    panel.set_task("infill")
    panel.last_bar_spin.setValue(16)
    panel.first_bar_spin.setValue(12)  # a two-digit bar range on the drag handle
    panel.variations_spin.setValue(3)
    panel.seed_spin.setValue(2**31 - 1)  # the widest seed
    generate_and_wait(qtbot, panel)
    panel.show_variation(1)
    # a long model name and a GPU in the header
    fake_engine.model, fake_engine.device = "my-fine-tuned-model-after-forty-epochs", "cuda:0"
    qtbot.waitUntil(lambda: "forty" in panel.model_label.text(), timeout=WAIT)
    qtbot.wait(50)  # the layouts take the new texts' sizes
    assert panel.minimumSizeHint().width() <= 800
    assert panel.minimumSizeHint().height() <= 600
    panel.resize(800, 600)
    qtbot.waitUntil(lambda: panel.width() == 800)
    for button in (panel.generate_button, panel.cancel_button, panel.save_button,
                   panel.drag_bars_handle, panel.favourite_button):  # fmt: skip
        assert not button.visibleRegion().isEmpty(), button.text()  # not scrolled away
        right = button.mapTo(panel, button.rect().topRight()).x()
        assert right < 800, button.text()
    assert panel.roll_title.text().endswith("key C major")  # whole, though cut on screen
    assert panel.model_label.text() == "model my-fine-tuned-model-after-forty-epochs 0.0-fake"
    for index in (0, 1):  # the request and jam tabs scroll only vertically: nothing cut
        panel.tabs.setCurrentIndex(index)
        area = panel.tabs.currentWidget()
        qtbot.waitUntil(area.isVisible)
        assert area.widget().minimumSizeHint().width() <= area.viewport().width(), index


def test_audition_plays_the_clip_then_a_b_between_original_and_variation(
    qtbot, panel: PanelWindow, tmp_path: Path
) -> None:
    sink = panel.audition.sink
    assert panel.open_clip(str(write_input_clip(tmp_path / "in.mid", bars=4)))
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_Space)
    assert panel.audition.playing and panel.play_button.text().startswith("■ Stop")
    assert sink.buffers[-1].shape == (round(16 * 60 / 100 * SAMPLE_RATE),)  # 4 bars at 100 BPM
    sink.elapsed = 0.6  # one beat at 100 BPM
    panel.audition.tick()
    assert panel.roll.playhead == pytest.approx(1.0)
    qtbot.keyClick(panel, Qt.Key.Key_Space)
    assert not panel.audition.playing and panel.roll.playhead is None
    panel.set_task("infill")
    panel.first_bar_spin.setValue(2)
    panel.last_bar_spin.setValue(2)
    panel.variations_spin.setValue(2)
    generate_and_wait(qtbot, panel)
    panel.loop_check.setChecked(True)
    assert panel.play_window() == (4.0, 8.0)
    assert panel.play()
    b_notes = panel.play_notes()
    assert [n.pitch for n in b_notes if 4 <= n.start < 8] == list(ARPEGGIO)
    b_buffer = sink.buffers[-1]
    sink.elapsed = 1.2  # beat 6: half-way through the looped bar
    panel.audition.tick()
    panel.ab_button.click()  # A: the original, from the same beat
    assert panel.listen_combo.currentData() == "original"
    assert panel.audition.position == pytest.approx(6.0)
    assert [n.pitch for n in panel.play_notes() if 4 <= n.start < 8] == [48, 51, 54, 57]
    assert not np.allclose(sink.buffers[-1], b_buffer[-len(sink.buffers[-1]):])
    panel.ab_button.click()
    panel.show_variation(1)  # B again, variation 2, still playing
    assert panel.audition.playing
    assert [n.pitch for n in panel.play_notes() if 4 <= n.start < 8] == [p + 1 for p in ARPEGGIO]
    sink.elapsed = 10.0  # past the end of the bar: the loop starts again at bar 2
    panel.audition.tick()
    assert panel.audition.playing and panel.audition.position == 4.0


def test_a_clamped_infill_range_is_said(panel: PanelWindow) -> None:
    panel.set_task("infill")
    panel.bars_spin.setValue(16)
    panel.last_bar_spin.setValue(12)
    panel.first_bar_spin.setValue(9)
    panel.bars_spin.setValue(8)
    assert panel.status_area.text() == (
        "The infill range was bars 9–12; the clip has 8 bars, so it is now bars 8–8.")


def test_guidance_without_chords_is_said_to_do_nothing(panel: PanelWindow) -> None:
    panel.chords_editor.set_text("")
    assert not panel.guidance_note.isHidden()
    panel.chords_editor.set_text("C G")
    assert panel.guidance_note.isHidden()


def test_use_result_as_clip_clear_and_undo(qtbot, panel: PanelWindow, tmp_path: Path) -> None:
    assert panel.open_clip(str(write_input_clip(tmp_path / "in.mid", bars=4)))
    panel.set_task("infill")
    panel.first_bar_spin.setValue(2)
    panel.last_bar_spin.setValue(2)
    assert not panel.use_result_button.isEnabled()
    generate_and_wait(qtbot, panel)
    result = panel.roll.notes
    panel.use_result_button.click()
    assert panel.clip_label.text().startswith("result v1 (seed ")
    assert panel.roll.notes == result and panel.variation_label.text() == "no result"
    panel.first_bar_spin.setValue(3)
    panel.last_bar_spin.setValue(3)
    generate_and_wait(qtbot, panel)  # builds on the first result
    assert [n.pitch for n in panel.roll.notes if 4 <= n.start < 8] == list(ARPEGGIO)
    panel.clear_clip()
    assert panel.status_area.text() == "Cleared (Ctrl+Z brings it back)."
    assert panel.roll.notes == ()
    panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.variation_label.text() == "1 / 1"  # the second result is back
    panel.undo()  # before the second result: the first result as the clip
    assert panel.roll.notes == result and panel.clip_label.text().startswith("result v1")
    panel.undo()  # the first result, on the opened file
    assert panel.clip_label.text().startswith("in.mid:") and panel.roll.notes == result
    panel.redo()
    assert panel.clip_label.text().startswith("result v1")


def test_dragging_on_the_roll_sets_the_infill_range(qtbot, panel: PanelWindow, tmp_path) -> None:
    assert panel.open_clip(str(write_input_clip(tmp_path / "in.mid", bars=8)))
    panel.set_task("generate")
    panel.roll.bars_selected.emit(6, 7)  # what a drag across bars 6-7 emits
    assert panel.task == "infill" and (panel.first_bar_spin.value(),
                                       panel.last_bar_spin.value()) == (6, 7)  # fmt: skip
    assert panel.roll.target == (6, 7)
    panel.roll.bars_selected.emit(2, 2)
    assert (panel.first_bar_spin.value(), panel.last_bar_spin.value()) == (2, 2)


def test_typed_chords_appear_on_the_roll(panel: PanelWindow) -> None:
    panel.chords_editor.set_text("Am F | C G")
    assert panel.roll.chords_at(1) == ("Am", "F") and panel.roll.chords_at(3) == ("Am", "F")
    panel.chords_editor.set_text("")
    assert panel.roll.chords_at(1) == ()


def test_accompany_follows_the_picked_melody_track(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=96)
    for name, pitch in (("Lead", 72), ("Keys", 48)):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        for _ in range(8):
            track += [mido.Message("note_on", note=pitch, velocity=80),
                      mido.Message("note_off", note=pitch, time=96)]  # fmt: skip
        midi.tracks.append(track)
    midi.save(tmp_path / "band.mid")
    assert panel.open_clip(str(tmp_path / "band.mid"))
    panel.set_task("accompany")
    panel.chords_editor.set_text("C G")
    assert panel.track_combo.isEnabled() and panel.track_label.text() == "Melody"
    panel.track_combo.setCurrentIndex(panel.track_combo.findData(0))
    generate_and_wait(qtbot, panel)
    sent = [value for args in fake_engine.messages("/diffjam/notes") for value in args[3:]]
    assert sent[2::4] == [72] * 8  # only Lead's notes, as the melody
    panel.set_task("infill")
    assert panel.track_label.text() == "Regenerate"


def test_generate_while_the_started_engine_loads_says_so(qtbot, settings) -> None:
    port = _free_udp_port()
    client = make_client(port)
    loading = _EngineStub(port)  # "started", but not answering yet
    window = PanelWindow(client=client, settings=settings, engine_process=loading)
    qtbot.addWidget(window)
    client.start()
    try:
        assert window.generate() is None
        assert "is still starting" in window.status_area.text()
    finally:
        client.close()


def test_history_of_results_with_favourites(qtbot, panel: PanelWindow) -> None:
    panel.set_task("generate")
    panel.bars_spin.setValue(1)
    assert not panel.history_combo.isEnabled() and not panel.favourite_button.isEnabled()
    panel.seed_spin.setValue(11)
    generate_and_wait(qtbot, panel)
    first = panel.roll.notes
    panel.favourite_button.click()
    panel.seed_spin.setValue(12)
    panel.variations_spin.setValue(2)
    generate_and_wait(qtbot, panel)
    items = [panel.history_combo.itemText(i) for i in range(panel.history_combo.count())]
    assert items == ["★ #1 Generate 1–1 · seed 11", "#2 Generate 1–1 · seed 12"]
    assert panel.history_combo.currentIndex() == 1 and not panel.favourite_button.isChecked()
    panel.show_history(0)
    assert panel.roll.notes == first and panel.favourite_button.text() == "★"
    assert [r.request.params.seed for r in panel.favourites] == [11]
    panel.undo()  # back to the second result
    assert panel.history_combo.currentIndex() == 1


def test_controls_follow_the_engine_limits(panel: PanelWindow) -> None:
    from wire.limits import LIMITS, Limits, Range
    from wire.protocol import Status

    assert panel.guidance_slider.maximum() == round(LIMITS.guidance.high * 10)  # 0.1 steps
    assert panel.steps_spin.maximum() == LIMITS.steps.high
    narrow = Limits(guidance=Range(0.0, 12.0), steps=Range(1, 50), variations=Range(1, 4),
                    max_bars=64, jam_tempo=Range(40.0, 200.0))
    panel._on_status(Status(1, "0.2", "m", "cpu", 0, 8, False, None, ("m",), narrow))
    assert panel.guidance_slider.maximum() == 120
    assert (panel.steps_spin.maximum(), panel.variations_spin.maximum()) == (50, 4)
    assert panel.bars_spin.maximum() == 64
    assert (panel.jam.tempo_spin.minimum(), panel.jam.tempo_spin.maximum()) == (40, 200)
    panel.set_guidance(20.0)  # past the engine's limit: held at it
    assert panel.guidance == 12.0
