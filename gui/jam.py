"""The live-jam tab: MIDI system and port pickers, clock source, start/stop and what is
playing.

Everything goes through the engine: the ports come from ``/diffjam/jam/ports`` (of the
MIDI system picked: the system's own, or JACK), the state (running, bar counter,
recognised chord, errors) from ``/diffjam/jam/state``. When the engine cannot reach a
MIDI system (Linux without an ALSA sequencer, no JACK server running) the tab says in
plain words what to do, and offers JACK.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from gui.client import EngineClient
from gui.protocol import error_text
from gui.qt import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSettings,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from wire.limits import LIMITS, Limits
from wire.protocol import EngineError, ErrorCode, JamPortList, JamStart, JamState

__all__ = ["CLOCKS", "MIDI_SYSTEM_LABELS", "VIRTUAL_PORT", "JamPanel", "midi_advice"]

VIRTUAL_PORT = "(virtual port)"
CLOCKS = (("DAW MIDI clock", "midi"), ("Internal tempo", "internal"))
MIDI_SYSTEM_LABELS = (("System MIDI (ALSA on Linux)", "default"), ("JACK", "jack"))
_START_JACK = ("start a JACK server (the Start button in QjackCtl, or `jackd -d alsa` in a "
               "terminal; `jackd -d dummy` on a machine without a sound card)")
NO_ALSA_ADVICE = (
    "This computer has no ALSA MIDI sequencer, so the jam has no MIDI ports. Two ways out: "
    "load it (run `sudo modprobe snd-seq` in a terminal, then press Refresh ports), or "
    f"{_START_JACK} and press Use JACK.")
NO_JACK_ADVICE = (
    f"No JACK server is running. To jam through JACK, {_START_JACK}, then press Refresh "
    "ports; or pick System MIDI again.")


def midi_advice(message: str, midi_system: str) -> str | None:
    """What to do, in plain words, when the engine says it cannot reach the MIDI system
    (its ``JAM`` error ``message``); ``None`` for any other problem."""
    if midi_system == "jack" and ("JACK" in message or "Jack" in message):
        return NO_JACK_ADVICE
    if midi_system == "default" and ("ALSA" in message or "Alsa" in message):
        return NO_ALSA_ADVICE
    return None


class JamPanel(QWidget):
    """The jam controls. ``sampling`` returns the sampling options a jam starts with.

    Engine ``JAM`` errors are shown in the tab; :attr:`failed` also carries the ones that
    answer the user's own start/stop (not those of the automatic port listing).
    """

    failed = Signal(str)

    def __init__(
        self,
        *,
        client: EngineClient,
        settings: QSettings,
        sampling: Callable[[], JamStart],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.settings = settings
        self._sampling = sampling
        self._running = False
        self._awaiting = False  # a start or stop of ours waits for its answer
        self._listing = False  # a port listing of ours waits for its answer
        self._build()
        client.jam_state.connect(self._on_state)
        client.jam_ports.connect(self._on_ports)
        client.engine_error.connect(self._on_engine_error)
        client.connection_changed.connect(self._on_connection_changed)
        self.refresh_button.clicked.connect(self.refresh_ports)
        self.use_jack_button.clicked.connect(lambda: self.set_midi_system("jack"))
        self.system_combo.currentIndexChanged.connect(self._on_system_changed)
        self.button.clicked.connect(self.toggle)
        self.clock_combo.currentIndexChanged.connect(self._update_clock_controls)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        ports_box = QGroupBox("MIDI ports")
        form = QFormLayout(ports_box)
        self.system_combo = QComboBox()
        for label, value in MIDI_SYSTEM_LABELS:
            self.system_combo.addItem(label, value)
        self.system_combo.setToolTip(
            "Where the engine finds MIDI ports: the system's own MIDI (ALSA on Linux, "
            "CoreMIDI on macOS), or a running JACK server")
        form.addRow("MIDI system", self.system_combo)
        self.input_combo = QComboBox()
        self.output_combo = QComboBox()
        for combo in (self.input_combo, self.output_combo):
            combo.addItem(VIRTUAL_PORT, None)
        form.addRow("Input (your playing)", self.input_combo)
        form.addRow("Output (accompaniment)", self.output_combo)
        self.refresh_button = QPushButton("Refresh ports")
        self.use_jack_button = QPushButton("Use JACK")
        self.use_jack_button.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.use_jack_button)
        buttons.addStretch(1)
        form.addRow("", buttons)
        self.advice_label = QLabel()
        self.advice_label.setWordWrap(True)
        self.advice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.advice_label.setStyleSheet(
            "QLabel { color: #e0c070; background: #332d22; padding: 6px; border-radius: 4px; }")
        self.advice_label.setVisible(False)
        form.addRow(self.advice_label)
        layout.addWidget(ports_box)

        clock_box = QGroupBox("Clock")
        form = QFormLayout(clock_box)
        self.clock_combo = QComboBox()
        for label, value in CLOCKS:
            self.clock_combo.addItem(label, value)
        self.tempo_spin = QSpinBox()
        self.set_limits(LIMITS)
        self.tempo_spin.setValue(round(JamStart.tempo))
        self.tempo_spin.setSuffix(" BPM")
        form.addRow("Source", self.clock_combo)
        form.addRow("Tempo", self.tempo_spin)
        layout.addWidget(clock_box)
        for combo in (self.system_combo, self.input_combo, self.output_combo,
                      self.clock_combo):  # fmt: skip
            # as narrow as the tab at 800 px: a long port name is read in the open menu
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)

        self.button = QPushButton("Start jam  (Ctrl+J)")
        layout.addWidget(self.button)

        state_box = QGroupBox("Now playing")
        grid = QFormLayout(state_box)
        self.running_label = QLabel("stopped")
        self.bar_label = QLabel("–")
        self.chord_label = QLabel("–")
        big = self.chord_label.font()
        big.setPointSizeF(big.pointSizeF() * 2.2)
        big.setBold(True)
        self.chord_label.setFont(big)
        self.bar_label.setFont(big)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #ff8080;")
        grid.addRow("State", self.running_label)
        grid.addRow("Bar", self.bar_label)
        grid.addRow("Chord", self.chord_label)
        grid.addRow("", self.error_label)
        layout.addWidget(state_box)
        layout.addStretch(1)
        self._update_clock_controls()

    @property
    def running(self) -> bool:
        """Whether the engine last said its jam is running."""
        return self._running

    def set_limits(self, limits: Limits) -> None:
        """The tempo range of the engine's internal clock (``/diffjam/status``)."""
        self.tempo_spin.setRange(math.ceil(limits.jam_tempo.low),
                                 math.floor(limits.jam_tempo.high))

    @property
    def midi_system(self) -> str:
        """The MIDI system picked (one of ``wire.protocol.MIDI_SYSTEMS``)."""
        return str(self.system_combo.currentData())

    def set_midi_system(self, midi_system: str) -> None:
        self.system_combo.setCurrentIndex(max(0, self.system_combo.findData(midi_system)))

    def refresh_ports(self) -> None:
        """Ask the engine for the ports of the MIDI system picked."""
        self._listing = True
        self.client.request_jam_ports(self.midi_system)

    def config(self) -> JamStart:
        """The ``/diffjam/jam/start`` message for the current controls."""
        return replace(
            self._sampling(),
            input=self.input_combo.currentData(),
            output=self.output_combo.currentData(),
            clock=self.clock_combo.currentData(),
            tempo=float(self.tempo_spin.value()),
            midi_system=self.midi_system,
        )

    def toggle(self) -> None:
        """Start the jam, or stop it when the engine says it is running."""
        self._awaiting = True
        self.error_label.setText("")
        if self._running:
            self.client.stop_jam()
        else:
            self.client.start_jam(self.config())

    def _on_state(self, state: JamState) -> None:
        self._awaiting = False
        self._running = state.running
        self.button.setText(("Stop jam" if state.running else "Start jam") + "  (Ctrl+J)")
        running = "running" if state.running else "stopped"
        if state.running and state.clock:
            running += f" ({state.clock} clock"
            running += f", {state.tempo:g} BPM)" if state.tempo else ")"
        self.running_label.setText(running)
        self.bar_label.setText(str(state.bar) if state.bar is not None else "–")
        self.chord_label.setText(state.chord or "–")
        advice = midi_advice(state.error, self.midi_system) if state.error else None
        if advice is not None:
            self._show_advice(advice, engine_said=state.error or "")
        self.error_label.setText("" if advice else state.error or "")

    def _on_engine_error(self, error: EngineError) -> None:
        if error.code is not ErrorCode.JAM:
            return
        advice = midi_advice(error.message, self.midi_system)
        text = advice or error_text(error)
        self._show_advice(advice, engine_said=error.message)
        self.error_label.setText("" if advice else text)
        if self._awaiting:
            self._awaiting = False
            self.failed.emit(text)
        elif self._listing:
            self._listing = False

    def _show_advice(self, advice: str | None, *, engine_said: str = "") -> None:
        """The plain-language advice under the ports (hidden when ``None``)."""
        self.advice_label.setText(advice or "")
        self.advice_label.setToolTip(f"The engine said: {engine_said}" if advice else "")
        self.advice_label.setVisible(advice is not None)
        self.use_jack_button.setVisible(advice is not None and self.midi_system == "default")

    def _on_system_changed(self) -> None:
        self.client.jam_midi_system = self.midi_system
        self._show_advice(None)
        self.error_label.setText("")
        if self.client.connected:
            self.refresh_ports()

    def _on_connection_changed(self, connected: bool) -> None:
        if connected:  # the client lists the ports of jam_midi_system on connecting
            self._listing = True

    def _on_ports(self, ports: JamPortList) -> None:
        if ports.midi_system != self.midi_system:
            return  # an answer for the system picked before
        self._listing = False
        self._show_advice(None)
        for combo, names, key in (
            (self.input_combo, ports.inputs, "jam/input"),
            (self.output_combo, ports.outputs, "jam/output"),
        ):
            wanted = combo.currentData() or self.settings.value(key, None)
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(VIRTUAL_PORT, None)
            for name in names:
                combo.addItem(name, name)
            index = combo.findData(wanted) if wanted else 0
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)

    def _update_clock_controls(self) -> None:
        self.tempo_spin.setEnabled(self.clock_combo.currentData() == "internal")

    def load_settings(self) -> None:
        s = self.settings
        self.system_combo.blockSignals(True)
        self.set_midi_system(str(s.value("jam/midi_system", "default")))
        self.system_combo.blockSignals(False)
        self.client.jam_midi_system = self.midi_system
        self.clock_combo.setCurrentIndex(
            max(0, self.clock_combo.findData(s.value("jam/clock", "midi")))
        )
        tempo = s.value("jam/tempo", round(JamStart.tempo))
        self.tempo_spin.setValue(int(tempo) if str(tempo).isdigit() else round(JamStart.tempo))
        for combo, key in ((self.input_combo, "jam/input"), (self.output_combo, "jam/output")):
            name = s.value(key, None)
            if name:  # shown until the engine's port list says whether it still exists
                combo.addItem(str(name), str(name))
                combo.setCurrentIndex(combo.count() - 1)
        self._update_clock_controls()

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("jam/midi_system", self.midi_system)
        s.setValue("jam/clock", self.clock_combo.currentData())
        s.setValue("jam/tempo", self.tempo_spin.value())
        s.setValue("jam/input", self.input_combo.currentData() or "")
        s.setValue("jam/output", self.output_combo.currentData() or "")
