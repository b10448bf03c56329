"""Screenshots of the panel's main states, for the docs: ``python -m gui.screenshots``.

Drives a real panel at 1280x800 against a running engine (``--port``; or
``--start-engine`` to start one) and saves PNGs: the input clip with its infill range,
a result with variations, the key the engine estimated and a warning for chords outside
it, a sparser accompaniment kept below the melody with the Advanced fold open, errors
shown in place, the live-jam tab on the system's MIDI and on JACK (with a JACK server running,
e.g. ``jackd --no-realtime -d dummy``, its ports and a running jam; without one, the
advice), the panel with no engine to talk to, auditioning the target bars at 800x600
(silently: the playhead moves, nothing is heard), and a whole song written from the form
box (an engine without a lead-sheet model: the form box saying so). The panel's settings
go to a temp file, never the user's.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gui.audition import ClockSink
from gui.client import EngineClient
from gui.clip import ClipNote, write_clip
from gui.engine_process import EngineProcess
from gui.panel import PanelWindow
from gui.qt import QApplication, QSettings
from wire.protocol import RequestParams

__all__ = ["SHOTS", "capture", "demo_clip", "demo_melody", "main"]

log = logging.getLogger(__name__)

SHOTS = ("panel-input.png", "panel-result.png", "panel-error.png", "panel-jam.png",
         "panel-no-engine.png", "panel-audition-800x600.png", "panel-key.png",
         "panel-musical.png", "panel-jam-jack.png", "panel-song.png")
SIZES = {"panel-audition-800x600.png": (800, 600)}  # every other shot is 1280x800
_PROGRESSION = ((48, 60, 64, 67), (43, 59, 62, 67), (45, 60, 64, 69), (41, 60, 65, 69))
_MELODY = (72, 74, 76, 79, 74, 71, 72, 67, 69, 72, 76, 74, 72, 69, 65, 67)
SONG_FORM = "i2A4B4A4o2"  # the song shot's form: a repeated A, 16 bars


def demo_melody() -> list[ClipNote]:
    """Eight bars of a simple quarter-note melody over C G Am F."""
    return [ClipNote(bar * 4.0 + index, 0.9, _MELODY[(bar * 4 + index) % len(_MELODY)], 96)
            for bar in range(8) for index in range(4)]  # fmt: skip


def demo_clip() -> list[ClipNote]:
    """Eight bars of C G Am F: block chords on each bar and :func:`demo_melody`."""
    notes: list[ClipNote] = []
    for bar in range(8):
        bass, *chord = _PROGRESSION[bar % 4]
        notes.append(ClipNote(start=bar * 4.0, duration=4.0, pitch=bass, velocity=70))
        for beat in (0.0, 2.0):
            notes += [ClipNote(bar * 4.0 + beat, 1.5, pitch, 60) for pitch in chord]
    return sorted(notes + demo_melody())


def _wait(app: QApplication, done: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout_s:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()


def _shoot(app: QApplication, window: PanelWindow, path: Path) -> None:
    """Save ``window`` as it looks once the pending layout and paint events ran."""
    for _ in range(5):
        app.processEvents()
    window.grab().save(str(path))


def capture(
    *,
    host: str,
    port: int,
    out_dir: str | os.PathLike[str],
    timeout_s: float = 120.0,
    steps: int = 4,
) -> list[Path]:
    """Save the screenshots in :data:`SHOTS` into ``out_dir``; return their paths."""
    existing = QApplication.instance()  # a QCoreApplication to the type checker
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    log.info("Qt platform: %s", app.platformName())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="diffjam-shots-") as scratch:
        settings = QSettings(str(Path(scratch) / "panel.ini"), QSettings.Format.IniFormat)
        client = EngineClient(host=host, port=port)
        window = PanelWindow(client=client, settings=settings, audio_sink=ClockSink())
        client.start()
        window.resize(1280, 800)
        window.show()
        try:
            _wait(app, lambda: client.connected, timeout_s=timeout_s, what="the engine")
            clip_path = Path(scratch) / "demo-8-bars.mid"
            write_clip(clip_path, demo_clip(), tempo=100.0)
            window.open_clip(str(clip_path))
            window.set_task("infill")
            window.last_bar_spin.setValue(6)
            window.first_bar_spin.setValue(5)
            window.chords_editor.set_text("C | G | Am | F | C | G Em | F | C")
            window.form_editor.set_text("i2A4o2")
            window.steps_spin.setValue(steps)
            window.variations_spin.setValue(3)
            window.seed_spin.setValue(7)
            _wait(app, lambda: window.client.status is not None, timeout_s=5, what="status")
            paths = [out / name for name in SHOTS]
            _shoot(app, window, paths[0])

            results: list[object] = []
            client.result_ready.connect(results.append)
            window.generate()
            _wait(app, lambda: bool(results) or window.generate_button.isEnabled(),
                  timeout_s=timeout_s, what="the result")  # fmt: skip
            window.show_variation(1)
            _shoot(app, window, paths[1])

            # the key the engine estimated, and chords typed that contradict it
            window.chords_editor.set_text("F#m | B | E | A | F#m | B | E | A")
            _shoot(app, window, paths[6])
            window.chords_editor.set_text("C | G | Am | F | C | G Em | F | C")

            window.resize(*SIZES[SHOTS[5]])
            window.loop_check.setChecked(True)
            window.play()
            started = time.monotonic()
            _wait(app, lambda: time.monotonic() - started > 0.8, timeout_s=5, what="the playhead")
            _shoot(app, window, paths[5])
            window.audition.stop()
            window.loop_check.setChecked(False)
            window.resize(1280, 800)

            failures: list[object] = []
            client.request_failed.connect(lambda *args: failures.append(args))
            window.submit_request("infill", RequestParams(bars=(9, 12), clip_beats=32.0), ())
            _wait(app, lambda: bool(failures), timeout_s=timeout_s, what="the error")
            window.chords_editor.set_text("C G Hm7 F")
            _shoot(app, window, paths[2])

            melody_path = Path(scratch) / "demo-melody.mid"
            write_clip(melody_path, demo_melody(), tempo=100.0)
            window.open_clip(str(melody_path))
            _accompany_below_melody(app, window, paths[7], timeout_s=timeout_s)

            window.chords_editor.set_text("C G Am F")
            window.show_info("Live jam: the engine follows your playing bar by bar.")
            window.tabs.setCurrentIndex(1)
            _jam_shot(app, window, "default", paths[3])
            _jam_shot(app, window, "jack", paths[8])
            window.tabs.setCurrentIndex(0)
            _song_shot(app, window, paths[9], timeout_s=timeout_s)
        finally:
            window.close()
            client.close()
        _no_engine_shot(app, paths[4], settings=settings)
    return paths


def _accompany_below_melody(app: QApplication, window: PanelWindow, path: Path, *,
                            timeout_s: float) -> None:
    """An accompaniment of the clip kept below its melody and asked to be sparser, the
    Advanced fold open."""
    window.set_task("accompany")
    window.chords_editor.set_text("C G Am F")
    window.below_melody_check.setChecked(True)
    window.set_density(6)
    window.variations_spin.setValue(1)
    window.advanced_box.setChecked(True)
    results: list[object] = []
    window.client.result_ready.connect(results.append)
    window.generate()
    _wait(app, lambda: bool(results) or window.generate_button.isEnabled(), timeout_s=timeout_s,
          what="the accompaniment")
    window.request_area.ensureWidgetVisible(window.advanced_box)
    _shoot(app, window, path)
    window.advanced_box.setChecked(False)
    window.set_density(None)
    window.set_task("infill")


def _song_shot(app: QApplication, window: PanelWindow, path: Path, *,
               timeout_s: float) -> None:
    """The form box's "Write the song": the song's parts coloured by role and its phrases
    along the top of the roll; an engine without a lead-sheet model: the form box's note."""
    window.clear_clip()
    window.chords_editor.set_text("")
    window.form_editor.set_text(SONG_FORM)
    window.set_key("C major")
    window.request_area.ensureWidgetVisible(window.song_button)
    if window.song_button.isEnabled():
        results: list[object] = []
        window.client.result_ready.connect(results.append)
        window.song_button.click()
        _wait(app, lambda: bool(results) or window.generate_button.isEnabled(),
              timeout_s=timeout_s, what="the song")  # fmt: skip
    else:
        window.set_task("song")
    _shoot(app, window, path)
    window.set_key(None)
    window.set_task("infill")


def _jam_shot(app: QApplication, window: PanelWindow, midi_system: str, path: Path) -> None:
    """The jam tab on one MIDI system: its ports and a running jam (internal clock), or
    the advice when the engine cannot reach that MIDI system."""
    jam, client = window.jam, window.client
    replies: list[object] = []  # ports, jam states, or the engine's JAM error
    for signal in (client.jam_ports, client.jam_state, client.engine_error):
        signal.connect(replies.append)
    if jam.midi_system == midi_system:
        jam.refresh_ports()
    else:
        jam.set_midi_system(midi_system)  # lists its ports
    _wait(app, lambda: bool(replies), timeout_s=10, what="the MIDI ports")
    if jam.advice_label.isHidden():
        jam.clock_combo.setCurrentIndex(jam.clock_combo.findData("internal"))
        jam.toggle()
        _wait(app, lambda: len(replies) > 1, timeout_s=30, what="the jam state")
        started = time.monotonic()
        _wait(app, lambda: time.monotonic() - started > 3, timeout_s=5, what="a bar or two")
    _shoot(app, window, path)
    if jam.running:
        jam.toggle()
        _wait(app, lambda: not jam.running, timeout_s=10, what="the jam stop")
    for signal in (client.jam_ports, client.jam_state, client.engine_error):
        signal.disconnect(replies.append)


def _no_engine_shot(app: QApplication, path: Path, *, settings: QSettings) -> None:
    """The panel pointed at a port where nothing answers, after Generate."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    client = EngineClient(host="127.0.0.1", port=port)
    window = PanelWindow(client=client, settings=settings, audio_sink=ClockSink())
    client.start()
    window.resize(1280, 800)
    window.show()
    try:
        _wait(app, window.isVisible, timeout_s=5, what="the window")
        window.generate()
        _shoot(app, window, path)
    finally:
        window.close()
        client.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.screenshots", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--out", default="docs/screenshots", help="output folder")
    parser.add_argument("--start-engine", action="store_true", help="start `diffjam serve`")
    parser.add_argument("--steps", type=int, default=4, help="sampler steps for the result")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    process = EngineProcess(host=args.host, port=args.port) if args.start_engine else None
    if process is not None:
        process.start()
    try:
        for path in capture(host=args.host, port=args.port, out_dir=args.out, steps=args.steps):
            log.info("saved %s", path)
    except TimeoutError as err:
        log.error("%s", err)
        return 1
    finally:
        if process is not None:
            process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
