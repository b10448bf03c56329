"""The live-jam tab: MIDI port pickers, clock source, start/stop and what is playing.

Everything goes through the engine: the ports come from ``/diffjam/jam/ports``, the
state (running, bar counter, recognised chord, errors) from ``/diffjam/jam/state``.
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
    QLabel,
    QPushButton,
    QSettings,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    Signal,
)
from wire.limits import LIMITS, Limits
from wire.protocol import EngineError, ErrorCode, JamPortList, JamStart, JamState

__all__ = ["CLOCKS", "VIRTUAL_PORT", "JamPanel"]

VIRTUAL_PORT = "(virtual port)"
CLOCKS = (("DAW MIDI clock", "midi"), ("Internal tempo", "internal"))


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
        self._awaiting = False
        self._build()
        client.jam_state.connect(self._on_state)
        client.jam_ports.connect(self._on_ports)
        client.engine_error.connect(self._on_engine_error)
        self.refresh_button.clicked.connect(client.request_jam_ports)
        self.button.clicked.connect(self.toggle)
        self.clock_combo.currentIndexChanged.connect(self._update_clock_controls)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        ports_box = QGroupBox("MIDI ports")
        form = QFormLayout(ports_box)
        self.input_combo = QComboBox()
        self.output_combo = QComboBox()
        for combo in (self.input_combo, self.output_combo):
            combo.addItem(VIRTUAL_PORT, None)
        form.addRow("Input (your playing)", self.input_combo)
        form.addRow("Output (accompaniment)", self.output_combo)
        self.refresh_button = QPushButton("Refresh ports")
        form.addRow("", self.refresh_button)
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

    def config(self) -> JamStart:
        """The ``/diffjam/jam/start`` message for the current controls."""
        return replace(
            self._sampling(),
            input=self.input_combo.currentData(),
            output=self.output_combo.currentData(),
            clock=self.clock_combo.currentData(),
            tempo=float(self.tempo_spin.value()),
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
        self.error_label.setText(state.error or "")

    def _on_engine_error(self, error: EngineError) -> None:
        if error.code is not ErrorCode.JAM:
            return
        text = error_text(error)
        self.error_label.setText(text)
        if self._awaiting:
            self._awaiting = False
            self.failed.emit(text)

    def _on_ports(self, ports: JamPortList) -> None:
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
        s.setValue("jam/clock", self.clock_combo.currentData())
        s.setValue("jam/tempo", self.tempo_spin.value())
        s.setValue("jam/input", self.input_combo.currentData() or "")
        s.setValue("jam/output", self.output_combo.currentData() or "")
