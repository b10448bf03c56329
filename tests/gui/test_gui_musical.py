"""The panel's key, musical controls, Advanced fold, JACK in the jam tab and plain
messages, against the fake engine (offscreen Qt)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from conftest import CONNECT_TIMEOUT_MS, make_client
from fake_engine import FakeEngine

import gui.panel as panel_module
from gui.chords import check_key, parse_progression
from gui.clip import ClipNote, read_clip, write_clip
from gui.jam import NO_ALSA_ADVICE, NO_JACK_ADVICE, midi_advice
from gui.panel import PanelWindow, guidance_words
from gui.qt import QSettings
from wire.limits import DEFAULT_REPEAT
from wire.protocol import JamState, Status

WAIT = CONNECT_TIMEOUT_MS


def generate_and_wait(qtbot, panel: PanelWindow) -> None:
    with qtbot.waitSignal(panel.client.result_ready, timeout=WAIT):
        assert panel.generate() is not None


def last_params(fake_engine: FakeEngine, task: str) -> dict:
    return json.loads(fake_engine.messages(f"/diffjam/{task}")[-1][1])


def open_melody(panel: PanelWindow, tmp_path: Path) -> None:
    path = tmp_path / "melody.mid"
    write_clip(path, [ClipNote(bar * 4.0, 4.0, 76, 90) for bar in range(4)], tempo=100.0)
    assert panel.open_clip(str(path))


# ---- the key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chords", "key", "outside", "contradicts"),
    [
        ("C G Am F", "C major", (), False),
        ("Am E7 Dm G#dim", "A minor", (), False),  # harmonic minor's tones are in the key
        ("C G Bb F", "C major", ("Bb",), False),  # one borrowed chord: no warning
        ("F#m B E A", "C major", ("F#m", "B", "E", "A"), True),
        ("C F#m B G", "C major", ("F#m", "B"), False),  # half, not most
        ("C F#m B N", "C major", ("F#m", "B"), True),  # N is no chord: two of three
        ("Eb Bb Cm Ab", "C major", ("Eb", "Bb", "Cm", "Ab"), True),
    ],
)
def test_check_key(chords: str, key: str, outside: tuple[str, ...], contradicts: bool) -> None:
    check = check_key(parse_progression(chords), key)
    assert (check.outside, check.contradicts) == (outside, contradicts)


def test_the_estimated_key_is_shown_and_can_be_kept(qtbot, panel: PanelWindow,
                                                    fake_engine: FakeEngine) -> None:
    fake_engine.estimated_key = "A minor"
    panel.set_task("generate")
    panel.chords_editor.set_text("Am Dm E Am")
    generate_and_wait(qtbot, panel)
    assert "key" not in last_params(fake_engine, "generate")  # Auto: the engine estimates it
    assert panel.shown_key == "A minor"
    assert "key A minor" in panel.roll_title.text()
    assert panel.key_estimate_label.text() == "The engine estimated A minor for the shown result."
    assert panel.status_area.text().endswith(", in A minor.")
    assert panel.use_key_button.isVisible()
    panel.use_key_button.click()
    assert panel.key == "A minor"
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "generate")["key"] == "A minor"  # the edited key is sent
    assert panel.key_estimate_label.text() == "The shown result is in A minor (the key you set)."
    assert not panel.use_key_button.isVisible()


def test_a_warning_when_the_chords_contradict_the_key(qtbot, panel: PanelWindow,
                                                      fake_engine: FakeEngine) -> None:
    panel.set_key("C major")
    panel.chords_editor.set_text("C G Am F")
    assert not panel.key_warning.isVisible()
    panel.chords_editor.set_text("F#m B E A")
    assert panel.key_warning.isVisible()
    text = panel.key_warning.text()
    assert "Most of these chords are outside C major (F#m, B, E, A)" in text
    assert "or to Auto" in text
    panel.set_key("A major")  # the key the chords are in: the warning goes
    assert not panel.key_warning.isVisible()
    # with Auto, the chords are checked against the key the engine estimated
    panel.set_key(None)
    assert not panel.key_warning.isVisible()  # nothing estimated yet
    fake_engine.estimated_key = "Eb major"
    panel.set_task("generate")
    generate_and_wait(qtbot, panel)
    assert panel.key_warning.isVisible()
    assert "outside Eb major, the key the engine estimated" in panel.key_warning.text()
    panel.chords_editor.set_text("Eb Bb Cm Ab")
    assert not panel.key_warning.isVisible()


# ---- drag-out of the regenerated bars only ---------------------------------------------


def test_drag_out_the_regenerated_bars_only(qtbot, panel: PanelWindow, tmp_path: Path) -> None:
    assert not panel.drag_bars_handle.isEnabled()
    path = tmp_path / "in.mid"
    write_clip(path, [ClipNote(bar * 4.0, 1.0, 48, 80) for bar in range(8)], tempo=90.0)
    assert panel.open_clip(str(path))
    panel.set_task("infill")
    panel.last_bar_spin.setValue(6)
    panel.first_bar_spin.setValue(5)
    generate_and_wait(qtbot, panel)
    assert panel.drag_bars_handle.isEnabled() and panel.drag_bars_handle.text() == "⇲ 5–6"
    (url,) = panel.drag_mime(bars_only=True).urls()
    assert url.toLocalFile().endswith("diffjam-infill-v1-bars5-6.mid")
    dragged = read_clip(url.toLocalFile())
    expected = [n for n in panel._shown.notes if 16.0 <= n.start < 24.0]
    assert [(n.start + 16.0, n.pitch) for n in dragged.notes] == [
        (n.start, n.pitch) for n in expected]
    assert dragged.tempo == 90.0


# ---- musical controls and the Advanced fold --------------------------------------------


def test_follow_the_chords_is_a_labelled_musical_control(panel: PanelWindow) -> None:
    panel.set_guidance(0.0)
    assert panel.guidance_value.text() == "ignores them (0.0)"
    panel.set_guidance(1.0)
    assert panel.guidance_value.text() == "loosely (1.0)"
    panel.set_guidance(4.0)
    assert panel.guidance_value.text() == "closely (4.0)"
    panel.set_guidance(12.5)
    assert panel.guidance_value.text() == "strictly (12.5)"
    assert [guidance_words(g) for g in (0, 1.9, 2, 5.9, 6, 20)] == [
        "ignores them", "loosely", "closely", "closely", "strictly", "strictly"]
    assert "nfe" not in panel.guidance_slider.toolTip()


def test_stay_below_the_melody_is_sent_with_an_accompaniment(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    panel.set_task("accompany")
    panel.chords_editor.set_text("C G Am F")
    assert not panel.below_melody_check.isEnabled()  # no melody opened
    assert panel.register_note.text() == "For Accompany of an opened melody clip."
    open_melody(panel, tmp_path)
    assert panel.below_melody_check.isEnabled() and not panel.register_note.isVisible()
    generate_and_wait(qtbot, panel)
    assert "below_melody" not in last_params(fake_engine, "accompany")
    panel.below_melody_check.setChecked(True)
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "accompany")["below_melody"] is True
    # the engine sends the accompaniment only: it is shown and heard with its melody
    assert [n.pitch for n in panel.roll.notes if not panel.roll.is_generated(n)] == [76] * 4
    assert sorted({n.pitch for n in panel.play_notes()}) == [60, 64, 67, 72, 76]
    panel.listen_combo.setCurrentIndex(panel.listen_combo.findData("original"))
    assert {n.pitch for n in panel.play_notes()} == {76}
    panel.set_task("infill")  # the engine keeps nothing under a melody in an infill
    assert not panel.below_melody_check.isEnabled()
    generate_and_wait(qtbot, panel)
    assert "below_melody" not in last_params(fake_engine, "infill")


def test_advanced_fold_holds_steps_sampler_and_quality(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine
) -> None:
    assert not panel._advanced.isVisible()  # folded
    panel.advanced_box.setChecked(True)
    for widget in (panel.steps_spin, panel.sampler_combo, panel.quality_combo,
                   panel.model_combo):  # fmt: skip
        assert widget.isVisible()
    panel.set_task("generate")
    generate_and_wait(qtbot, panel)
    params = last_params(fake_engine, "generate")
    assert "sampler" not in params and "quality" not in params  # the engine's defaults
    panel.sampler_combo.setCurrentIndex(panel.sampler_combo.findData("ddpm"))
    panel.quality_combo.setCurrentIndex(panel.quality_combo.findData("high"))
    panel.steps_spin.setValue(30)
    generate_and_wait(qtbot, panel)
    params = last_params(fake_engine, "generate")
    assert (params["sampler"], params["quality"], params["steps"]) == ("ddpm", "high", 30)


def test_pitch_set_and_guidance_interval_are_sent_only_when_chosen(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine
) -> None:
    panel.set_task("accompany")
    panel.chords_editor.set_text("C G Am F")
    generate_and_wait(qtbot, panel)
    params = last_params(fake_engine, "accompany")
    assert "allowed" not in params and "guidance_below" not in params  # the task's defaults
    assert "register" not in params and panel.piano_register_check.isChecked()
    assert "bass_anchor" not in params and not panel.bass_anchor_check.isChecked()
    assert "candidates" not in params and panel.candidates_spin.text() == "default"
    assert "best of" not in panel.status_area.text()  # the fake engine drew one
    # its tooltip gives the engine's defaults (wire.limits), the full model's beside them
    assert ("Default: 12 for accompaniment (8 where the full model runs it, 4 a bar in the "
            "live jam, 12 on an NVIDIA GPU), 2 for infill without chords (4 where"
            ) in panel.candidates_spin.toolTip()
    assert panel.candidates_spin.maximum() == 16
    # the box offers what the engine draws at once: 64 samples, 8 each for 8 variations
    panel.variations_spin.setValue(8)
    assert panel.candidates_spin.maximum() == 8
    panel.variations_spin.setValue(4)
    assert panel.candidates_spin.maximum() == 16
    panel.set_limits(dataclasses.replace(panel_module.LIMITS, max_rolls=32))  # as it says
    assert panel.candidates_spin.maximum() == 8
    panel.set_limits(panel_module.LIMITS)
    panel.variations_spin.setValue(1)
    panel.candidates_spin.setValue(2)
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "accompany")["candidates"] == 2
    assert "1 variation of bars 1–8 (each the best of 2) in " in panel.status_area.text()
    panel.candidates_spin.setValue(0)
    panel.piano_register_check.setChecked(False)
    panel.bass_anchor_check.setChecked(True)
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "accompany")["register"] is False
    assert last_params(fake_engine, "accompany")["bass_anchor"] is True
    panel.bass_anchor_check.setChecked(False)
    panel.set_task("infill")  # the piano's range is accompaniment's; infill has its own
    assert not panel.piano_register_check.isEnabled() and panel.register is None
    assert not panel.bass_anchor_check.isEnabled() and panel.bass_anchor is False
    assert panel.clip_register_combo.isEnabled()
    generate_and_wait(qtbot, panel)
    assert "register" not in last_params(fake_engine, "infill")  # auto: the engine decides
    panel.clip_register_combo.setCurrentIndex(panel.clip_register_combo.findData(False))
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "infill")["register"] is False
    panel.clip_register_combo.setCurrentIndex(0)
    panel.set_task("accompany")
    panel.piano_register_check.setChecked(True)
    assert panel.guidance_below_spin.text() == "default"
    panel.pitch_set_combo.setCurrentIndex(panel.pitch_set_combo.findData("key+chord"))
    panel.guidance_below_spin.setValue(0.7)
    generate_and_wait(qtbot, panel)
    params = last_params(fake_engine, "accompany")
    assert (params["allowed"], params["guidance_below"]) == ("key+chord", 0.7)
    panel._on_status(Status(1, "0.1-old", "m", "cpu", 0, 8, False, None,
                            params=("bars", "chords", "guidance", "steps", "seed")))
    assert not panel.pitch_set_combo.isEnabled() and not panel.guidance_below_spin.isEnabled()
    assert panel.pitch_set is None and panel.guidance_below is None
    panel.candidates_spin.setValue(3)
    assert not panel.candidates_spin.isEnabled() and panel.candidates is None


def test_controls_an_engine_cannot_read_are_off(panel: PanelWindow, tmp_path: Path) -> None:
    status = Status(1, "0.1-old", "m", "cpu", 0, 8, False, None,
                    params=("bars", "chords", "guidance", "steps", "seed"))
    panel.advanced_box.setChecked(True)  # unfolded: its controls are enabled
    panel.set_task("accompany")
    open_melody(panel, tmp_path)
    panel.sampler_combo.setCurrentIndex(1)
    panel._on_status(status)
    assert not panel.sampler_combo.isEnabled() and panel.sampler_combo.currentData() == "ddim"
    assert not panel.quality_combo.isEnabled()
    assert not panel.below_melody_check.isEnabled()
    assert "cannot keep the accompaniment below the melody" in panel.register_note.text()
    panel._on_status(Status(1, "0.2", "m", "cpu", 0, 8, False, None, params=(
        "bars", "chords", "sampler", "quality", "below_melody")))
    assert panel.sampler_combo.isEnabled() and panel.below_melody_check.isEnabled()


def test_density_is_sent_only_off_auto(qtbot, panel: PanelWindow,
                                       fake_engine: FakeEngine) -> None:
    panel.set_task("generate")
    panel.chords_editor.set_text("C G Am F")
    assert panel.density_auto_check.isChecked() and panel.density_slider.isEnabled()
    assert panel.density_value.text() == "Auto: the model chooses how busy."
    assert "loosely" in panel.density_slider.toolTip()
    generate_and_wait(qtbot, panel)
    assert "density" not in last_params(fake_engine, "generate")  # auto: nothing sent
    assert (panel.density_slider.minimum(), panel.density_slider.maximum()) == (1, 32)
    panel.density_slider.setValue(24)  # moving it leaves auto
    assert not panel.density_auto_check.isChecked()
    assert panel.density_value.text().startswith("Asks for about 24 notes a bar")
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "generate")["density"] == 24.0
    panel.set_task("accompany")
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "accompany")["density"] == 24.0
    panel.set_task("song")  # a song takes no density
    assert not panel.density_slider.isEnabled() and panel.density is None
    panel.set_task("generate")
    panel.density_auto_check.setChecked(True)
    generate_and_wait(qtbot, panel)
    assert "density" not in last_params(fake_engine, "generate")


def test_continue_repeated_figures_is_an_infill_control(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    path = tmp_path / "in.mid"
    write_clip(path, [ClipNote(bar * 4.0, 1.0, 60 + bar % 2, 80) for bar in range(8)])
    assert panel.open_clip(str(path))
    panel.set_task("infill")
    panel.chords_editor.set_text("")
    assert panel.repeat_auto_check.isChecked() and panel.repeat_slider.isEnabled()
    # the handle shows the engine's default
    assert panel.repeat_slider.value() / 20 == pytest.approx(DEFAULT_REPEAT)
    assert panel.repeat_value.text() == f"Continue repeated figures: auto ({DEFAULT_REPEAT:g})"
    generate_and_wait(qtbot, panel)
    assert "repeat" not in last_params(fake_engine, "infill")  # untouched: the engine decides
    panel.chords_editor.set_text("C G Am F")  # with chords: only bars whose chords repeat
    assert panel.repeat_slider.value() / 20 == pytest.approx(DEFAULT_REPEAT)
    assert panel.repeat_value.text() == (
        f"Continue repeated figures: auto ({DEFAULT_REPEAT:g}; with chords: where they repeat too)")
    generate_and_wait(qtbot, panel)
    assert "repeat" not in last_params(fake_engine, "infill")
    panel.set_repeat(0.4)
    assert not panel.repeat_auto_check.isChecked()
    assert panel.repeat_value.text() == "Continue repeated figures: 0.40"
    generate_and_wait(qtbot, panel)
    assert last_params(fake_engine, "infill")["repeat"] == 0.4
    for task in ("accompany", "generate", "song"):
        panel.set_task(task)
        assert not panel.repeat_slider.isEnabled() and not panel.repeat_auto_check.isEnabled()
        assert panel.repeat is None
    assert panel.repeat_value.text() == "Continue repeated figures: for Infill."
    panel.set_task("generate")
    generate_and_wait(qtbot, panel)
    assert "repeat" not in last_params(fake_engine, "generate")
    panel.set_task("infill")
    panel.repeat_auto_check.setChecked(True)  # back to the engine's default
    assert panel.repeat_slider.value() / 20 == pytest.approx(DEFAULT_REPEAT)
    assert panel.repeat is None


def test_density_and_repeat_are_off_for_an_engine_that_does_not_list_them(
    qtbot, panel: PanelWindow, fake_engine: FakeEngine
) -> None:
    panel.set_task("infill")
    panel.set_density(8)
    panel.set_repeat(0.5)
    assert (panel.density, panel.repeat) == (8.0, 0.5)
    fake_engine.params = sorted(set(fake_engine.params or ()) - {"density", "repeat"})
    qtbot.waitUntil(lambda: not panel.density_slider.isEnabled(), timeout=WAIT)
    assert not panel.repeat_slider.isEnabled() and not panel.density_auto_check.isEnabled()
    assert panel.density_value.text() == "This engine takes no density hint."
    assert panel.repeat_value.text() == "This engine cannot continue repeated figures."
    generate_and_wait(qtbot, panel)  # the fake refuses keys it does not list
    params = last_params(fake_engine, "infill")
    assert "density" not in params and "repeat" not in params
    # an engine that lists no params at all cannot read them either
    panel._on_status(Status(1, "0.1-old", "m", "cpu", 0, 8, False, None))
    assert panel.density is None and not panel.density_slider.isEnabled()


def test_musical_controls_persist(qtbot, fake_engine: FakeEngine, settings: QSettings) -> None:
    client = make_client(fake_engine.port)
    first = PanelWindow(client=client, settings=settings)
    qtbot.addWidget(first)
    first.below_melody_check.setChecked(True)
    first.sampler_combo.setCurrentIndex(first.sampler_combo.findData("ddpm"))
    first.quality_combo.setCurrentIndex(first.quality_combo.findData("high"))
    first.jam.set_midi_system("jack")
    first.set_density(20)
    first.set_repeat(0.35)
    first.pitch_set_combo.setCurrentIndex(first.pitch_set_combo.findData("chord"))
    first.guidance_below_spin.setValue(0.6)
    first.piano_register_check.setChecked(False)
    first.clip_register_combo.setCurrentIndex(first.clip_register_combo.findData(True))
    first.candidates_spin.setValue(6)
    first.save_settings()
    second = PanelWindow(client=make_client(fake_engine.port), settings=settings)
    qtbot.addWidget(second)
    assert second.below_melody_check.isChecked()
    assert second.sampler_combo.currentData() == "ddpm"
    assert second.quality_combo.currentData() == "high"
    assert second.jam.midi_system == "jack" and second.client.jam_midi_system == "jack"
    assert not second.density_auto_check.isChecked() and second.density_slider.value() == 20
    assert not second.repeat_auto_check.isChecked() and second.repeat_slider.value() == 7
    assert second.pitch_set_combo.currentData() == "chord"
    assert second.guidance_below_spin.value() == pytest.approx(0.6)
    assert not second.piano_register_check.isChecked()
    assert second.clip_register_combo.currentData() is True
    assert second.candidates_spin.value() == 6
    second.set_density(None)
    second.set_repeat(None)
    second.save_settings()
    third = PanelWindow(client=make_client(fake_engine.port), settings=settings)
    qtbot.addWidget(third)
    assert third.density_auto_check.isChecked() and third.repeat_auto_check.isChecked()


# ---- the jam tab offers JACK -----------------------------------------------------------


def test_midi_advice_reads_the_engines_message() -> None:
    assert midi_advice("cannot list MIDI ports: MidiInAlsa::initialize: error", "default") \
        == NO_ALSA_ADVICE
    assert midi_advice("MidiInJack::initialize: JACK server not running?", "jack") \
        == NO_JACK_ADVICE
    assert midi_advice("no MIDI output named 'x'", "default") is None
    for advice in (NO_ALSA_ADVICE, NO_JACK_ADVICE):
        assert "--backend" not in advice  # a panel user cannot pass a flag
        assert "jackd -d alsa" in advice and "QjackCtl" in advice


def test_without_alsa_the_jam_tab_offers_jack(qtbot, settings: QSettings) -> None:
    engine = FakeEngine()
    engine.alsa = False  # a Linux without /dev/snd/seq
    engine.start()
    client = make_client(engine.port)
    window = PanelWindow(client=client, settings=settings)
    qtbot.addWidget(window)
    window.show()
    client.start()
    jam = window.jam
    try:
        window.tabs.setCurrentIndex(1)
        qtbot.waitUntil(lambda: jam.advice_label.isVisible(), timeout=WAIT)
        assert jam.advice_label.text() == NO_ALSA_ADVICE
        assert "sudo modprobe snd-seq" in jam.advice_label.text()
        assert "MidiInAlsa" in jam.advice_label.toolTip()  # the engine's words, on hover
        assert jam.error_label.text() == ""  # no raw engine text in the tab
        assert jam.use_jack_button.isVisible()
        window.show_info("Ready.")
        jam.use_jack_button.click()  # no JACK server yet
        assert jam.midi_system == "jack"
        qtbot.waitUntil(lambda: jam.advice_label.text() == NO_JACK_ADVICE, timeout=WAIT)
        assert not jam.use_jack_button.isVisible()
        assert window.status_area.text() == "Ready."  # a listing stays in the jam tab
        engine.jack = True  # the user started jackd, then presses Refresh ports
        jam.refresh_button.click()
        qtbot.waitUntil(lambda: jam.output_combo.findData("JACK Synth") >= 0, timeout=WAIT)
        assert not jam.advice_label.isVisible()
        jam.output_combo.setCurrentIndex(jam.output_combo.findData("JACK Synth"))
        jam.toggle()
        qtbot.waitUntil(lambda: jam.running, timeout=WAIT)
        config = json.loads(engine.messages("/diffjam/jam/start")[-1][0])
        assert (config["midi_system"], config["output"]) == ("jack", "JACK Synth")
        assert json.loads(engine.messages("/diffjam/jam/ports")[-1][0]) == {
            "midi_system": "jack"}
    finally:
        client.close()
        engine.stop()


def test_starting_a_jam_without_alsa_says_what_to_do(qtbot, panel: PanelWindow,
                                                     fake_engine: FakeEngine) -> None:
    fake_engine.alsa = False
    panel.jam.toggle()
    qtbot.waitUntil(lambda: panel.jam.advice_label.text() == NO_ALSA_ADVICE, timeout=WAIT)
    assert not panel.jam.advice_label.isHidden()
    assert panel.status_area.text() == NO_ALSA_ADVICE
    assert "--backend" not in panel.status_area.text()
    assert "/diffjam/jam/start" in fake_engine.addresses()
    assert "midi_system" not in json.loads(fake_engine.messages("/diffjam/jam/start")[-1][0])


def test_a_jam_that_loses_alsa_says_what_to_do(panel: PanelWindow) -> None:
    panel.jam._on_state(JamState(False, 3, None, None, None,
                                 "MIDI port problem: MidiInAlsa::initialize: error"))
    assert panel.jam.advice_label.text() == NO_ALSA_ADVICE and panel.jam.error_label.text() == ""
    panel.jam._on_state(JamState(False, 3, None, None, None, "the model failed"))
    assert panel.jam.error_label.text() == "the model failed"


# ---- plain messages, cancel, and nothing stale after a disconnect ----------------------


def test_engine_errors_read_as_plain_language(qtbot, panel: PanelWindow) -> None:
    panel.set_task("generate")
    panel.chords_editor.set_text("C G Am F")
    failures: list[object] = []
    panel.client.request_failed.connect(lambda *args: failures.append(args))
    panel.submit_request("accompany", panel.request_params()[0], ())  # unchecked: refused
    panel.submit_request("infill", panel_module.RequestParams(bars=(9, 12), clip_beats=32.0),
                         ())
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=WAIT)
    text = panel.status_area.text()
    assert text.startswith("Those bars are outside the clip")
    for jargon in ("BAD_BARS", "code 7", "nfe", "(code"):
        assert jargon not in text


def test_a_lost_request_leaves_nothing_stale(qtbot, settings: QSettings) -> None:
    engine = FakeEngine().start()
    engine.hold = True
    client = make_client(engine.port)
    window = PanelWindow(client=client, settings=settings)
    qtbot.addWidget(window)
    client.start()
    try:
        qtbot.waitUntil(lambda: client.connected, timeout=WAIT)
        window.set_task("generate")
        with qtbot.waitSignal(client.accepted, timeout=WAIT):
            window.generate()
        engine.stop()
        qtbot.waitUntil(lambda: not client.connected, timeout=WAIT)
        assert window.progress_bar.format() == "lost"
        assert window.progress_bar.value() == 0
        assert window.status_area.text().startswith("The engine stopped answering")
        assert window.generate_button.isEnabled() and not window.cancel_button.isEnabled()
        assert window.model_label.text() == "model –" and window.latency_label.text() \
            == "last latency –"
        assert window.model_label.isHidden()  # the header shows no engine details
    finally:
        client.close()
