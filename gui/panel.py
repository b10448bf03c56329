"""The control panel's main window.

Everything it does goes through :class:`gui.client.EngineClient` (OSC), so anything the
panel can do, a DAW can do too. Layout at 1280x800: a connection bar on top; on the left,
tabs for the request controls and the live jam; on the right, the piano roll of the
input clip or the result, with the variation switcher, export, progress and a status
area where engine errors appear in place.

A song is the task ``song`` (or the form box's "Write the song"): the form, key, tempo
and seed go to ``/diffjam/song``; the result is shown by part (melody, chords,
accompaniment) with its phrases along the top. Whether the engine can write songs comes
from ``/diffjam/status`` (:func:`song_support`), never from the text of an error.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import mido

from gui.audition import AudioSink, Audition, ClockSink, MidiOutput, default_sink
from gui.chords import bars_of_chords, check_key
from gui.client import EngineClient, RequestResult, SentRequest
from gui.clip import (
    BEATS_PER_BAR,
    Clip,
    ClipNote,
    MidiClipError,
    read_clip,
    result_file,
    write_clip,
    write_tracks,
)
from gui.editors import FormEditor, ProgressionEditor
from gui.engine_process import EngineProcess
from gui.jam import JamPanel
from gui.protocol import Failure, LocalError, error_text
from gui.qt import (
    QCheckBox,
    QCloseEvent,
    QComboBox,
    QDoubleSpinBox,
    QDrag,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMimeData,
    QProgressBar,
    QPushButton,
    QResizeEvent,
    QScrollArea,
    QSettings,
    QShortcut,
    QSize,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    Qt,
    QTabWidget,
    QTimer,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from gui.rollview import ROLE_COLORS, RollView
from gui.throttle import Throttle
from wire.chords import PITCH_NAMES, ChordSymbolError, parse_key
from wire.limits import (
    DEFAULT_CANDIDATES,
    DEFAULT_QUALITY,
    DEFAULT_SAMPLER,
    FULL_MODEL_CANDIDATES,
    JAM_CANDIDATES,
    JAM_CANDIDATES_GPU,
    LIMITS,
    Limits,
)
from wire.protocol import (
    TASKS,
    EngineError,
    ErrorCode,
    JamStart,
    RequestKind,
    RequestParams,
    SettingsUpdate,
    Status,
)

__all__ = ["PanelWindow", "TONICS", "device_text", "guidance_words", "milliseconds",
           "song_support"]

log = logging.getLogger(__name__)

TONICS = PITCH_NAMES  # the Key menu's tonics, spelled as the engine writes them
_AUTO_KEY = "Auto (estimated)"
_TASK_LABELS = {"infill": "Infill bars", "accompany": "Accompany", "generate": "Generate",
                "song": "Song (from the form)"}
# the names a song's parts get in a saved file (as `diffjam song` names them)
_PART_TRACKS = {"melody": "Melody", "chords": "Chords", "accompaniment": "Accompaniment"}
_ERROR_STYLE = "QLabel { color: #ff8080; background: #3a2326; padding: 6px; border-radius: 4px; }"
_INFO_STYLE = "QLabel { color: #d0d4da; background: #262a30; padding: 6px; border-radius: 4px; }"
_WARNING_STYLE = "color: #e0b050;"
_GUIDANCE_SCALE = 10  # slider units per guidance unit (0.1 resolution)
_REPEAT_SCALE = 20  # slider units per repeat unit (0.05 resolution)
_SAMPLER_LABELS = (("DDIM", "ddim"), ("DDPM", "ddpm"))
_QUALITY_LABELS = (("Fast", "fast"), ("High (slower)", "high"))
# The projection's pitch sets (wire.limits.PITCH_SETS); None: the task's own (not sent)
_PITCH_SET_LABELS = (("task default", None), ("the key's scale", "key"),
                     ("scale + chord tones", "key+chord"), ("chord tones only", "chord"))
_CLIP_LEGEND = ('<span style="color:#608aa0">■</span> context &nbsp; '
                '<span style="color:#f08c28">■</span> generated (shaded bars) &nbsp; '
                '<span style="color:#f08c28">┅</span> bars to regenerate')
# a song's parts in their roll colours, and its phrases
_SONG_LEGEND = " &nbsp; ".join(
    f'<span style="color:{ROLE_COLORS[part].name()}">■</span> {part}'
    for part in ("melody", "chords", "accompaniment")) + " &nbsp; (phrases along the top)"
_SETTINGS_DELAY_MS = 150
_MAX_SEED = 2**31 - 1  # what the seed spin box (a Qt int) holds; the engine takes more


class EngineStarter(Protocol):
    """What the panel needs of a started engine (:class:`gui.engine_process.EngineProcess`)."""

    def start(self) -> None: ...

    def exit_code(self) -> int | None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class _Source:
    """The opened clip a request was made from, and the track it regenerates (None: all)."""

    clip: Clip
    track: int | None


_UNDO_DEPTH = 50


@dataclass(frozen=True)
class _State:
    """What undo brings back: the input clip and the result on screen."""

    clip: Clip | None
    shown: _Shown | None


@dataclass(frozen=True)
class _Shown:
    """The result on screen: its request and variations, which one is shown, and the
    opened clip it was made from (written back into that file on save)."""

    result: RequestResult
    index: int = 0
    source: _Source | None = None

    @property
    def notes(self) -> tuple[ClipNote, ...]:
        return self.result.variations[self.index]


class _ElidedLabel(QLabel):
    """Plain text cut with "…" when the layout gives it less than its width (the panel
    must fit 800 px); :meth:`text` and the tooltip keep the whole text."""

    def __init__(self, text: str = "", *, min_width: int = 60) -> None:
        super().__init__()
        self._full = ""
        self._min_width = min_width
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def text(self) -> str:
        return self._full

    def setText(self, text: str | None) -> None:  # noqa: N802 - Qt API
        self._full = text or ""
        self.setToolTip(self._full)
        self.updateGeometry()
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        return QSize(width + 2, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(min(self._min_width, self.sizeHint().width()),
                     super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width()
        super().setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                                      room))


class PanelWindow(QMainWindow):
    """The panel. ``settings`` is where its state persists (tests pass a temp ini)."""

    def __init__(
        self,
        *,
        client: EngineClient,
        settings: QSettings,
        engine_process: EngineStarter | None = None,
        engine_factory: Callable[[], EngineStarter] | None = None,
        audio_sink: AudioSink | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``engine_factory`` makes the engine the "Start engine" button starts (default:
        ``diffjam serve`` on the client's host and port); ``audio_sink`` plays auditions
        (default: the machine's sound output, else silence with a playhead)."""
        super().__init__(parent)
        self.client = client
        self.settings = settings
        self.engine_process = engine_process
        self._engine_factory = engine_factory or (
            lambda: EngineProcess(host=client.host, port=client.port))
        self._clip: Clip | None = None
        self._shown: _Shown | None = None
        self._in_flight: str | None = None
        self._in_flight_source: _Source | None = None
        self._undo: list[_State] = []
        self._results: list[_Shown] = []  # every result of the session, oldest first
        self._favourites: set[str] = set()  # request ids
        self._redo: list[_State] = []
        self._song_block = ""  # why this engine cannot write songs ("": it can, or unknown)
        self._engine_params: tuple[str, ...] = ()  # request params the engine reads; () unknown
        self._limits = LIMITS  # the engine's, once it has said (set_limits)
        self._drag_dir: str | None = None
        self._loading = False
        self._silent_reason: str | None = None
        if audio_sink is None:
            audio_sink, self._silent_reason = default_sink()
        self.audition = Audition(sink=audio_sink, parent=self)
        self._midi_port: Any = None
        self.setWindowTitle("diffjam panel")
        self.resize(1280, 800)
        self._settings_throttle = Throttle(
            self._push_settings, delay_ms=_SETTINGS_DELAY_MS, parent=self
        )
        self._build()
        self._fill_track_combo()
        self._connect_signals()
        self.load_settings()
        self._update_task_controls()
        self._show_input()
        self._engine_watch = QTimer(self)
        self._engine_watch.setInterval(1000)
        self._engine_watch.timeout.connect(self._check_engine_process)
        self._on_connection_changed(client.connected)
        if engine_process is not None:
            self._engine_watch.start()

    # ---- construction ----------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.addWidget(self._build_connection_bar())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.tabs = QTabWidget()
        self.request_area = self._scrolled(self._build_request_tab())
        self.tabs.addTab(self.request_area, "Request")
        self.jam = JamPanel(client=self.client, settings=self.settings, sampling=self.jam_sampling)
        self.jam.failed.connect(self.show_error)
        self.tabs.addTab(self._scrolled(self.jam), "Live jam")
        self.tabs.setMinimumWidth(300)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tabs, 1)
        left_layout.addLayout(self._build_request_buttons())
        splitter.addWidget(left)
        splitter.addWidget(self._build_result_area())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([460, 820])
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.generate_shortcut = QShortcut(QKeySequence("Ctrl+Return"), self)
        self.generate_shortcut.activated.connect(self.generate)
        for keys, slot in (("Ctrl+Enter", self.generate), ("Esc", self.cancel),
                           (QKeySequence.StandardKey.Open, self._choose_clip),
                           (QKeySequence.StandardKey.Save, self._choose_save_path),
                           ("Ctrl+Z", self.undo), ("Ctrl+Shift+Z", self.redo)):  # fmt: skip
            QShortcut(QKeySequence(keys), self).activated.connect(slot)
        self.jam_shortcut = QShortcut(QKeySequence("Ctrl+J"), self)
        self.jam_shortcut.activated.connect(self.jam.toggle)
        for keys, step in (("Alt+Left", -1), ("Alt+Right", 1)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(lambda step=step: self.show_variation(self._index() + step))

    @staticmethod
    def _scrolled(widget: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(widget)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        return area

    def _build_connection_bar(self) -> QWidget:
        bar = QFrame()
        bar.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(8, 4, 8, 4)
        self.connection_label = QLabel()
        self.protocol_label = QLabel("protocol –")
        self.model_label = _ElidedLabel("model –")  # a model's name may be long
        self.device_label = QLabel("device –")
        self.latency_label = QLabel("last latency –")
        self.defaults_label = QLabel()
        self.defaults_label.setStyleSheet("color: #8a8f98;")
        self.defaults_label.setMinimumWidth(0)
        self.defaults_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.start_engine_button = QPushButton("Start engine")
        self.start_engine_button.setToolTip("Run diffjam serve on this machine for the panel")
        self.start_engine_button.clicked.connect(self.start_engine)
        layout.addWidget(self.connection_label)
        layout.addWidget(self.start_engine_button)
        self._engine_details: list[QWidget] = []  # hidden while no engine answers
        for label in (self.protocol_label, self.model_label, self.device_label,
                      self.latency_label):  # fmt: skip
            separator = QFrame()
            separator.setFrameShape(QFrame.Shape.VLine)
            layout.addWidget(separator)
            layout.addWidget(label)
            self._engine_details += [separator, label]
        layout.addStretch(1)
        layout.addWidget(self.defaults_label)
        return bar

    def _build_request_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)  # room for the scroll bar at 800x600

        task_box = QGroupBox("Task and clip")
        form = QFormLayout(task_box)
        self.task_combo = QComboBox()
        for task in TASKS:
            self.task_combo.addItem(_TASK_LABELS[task], task)
        form.addRow("Task", self.task_combo)
        self.clip_label = QLabel("no input clip")
        self.clip_label.setWordWrap(True)
        form.addRow("Input clip", self.clip_label)
        clip_row = QHBoxLayout()
        self.open_button = QPushButton("Open MIDI…")
        self.clear_clip_button = QPushButton("Clear")
        self.use_result_button = QPushButton("Use result")
        self.use_result_button.setToolTip(
            "Make the shown variation the input clip, to build on it (Ctrl+Z undoes)")
        clip_row.addWidget(self.open_button)
        clip_row.addWidget(self.clear_clip_button)
        clip_row.addStretch(1)
        form.addRow("", clip_row)
        use_row = QHBoxLayout()
        use_row.addWidget(self.use_result_button)
        use_row.addStretch(1)
        form.addRow("", use_row)
        self.track_combo = QComboBox()
        self.track_combo.setToolTip(
            "Infill: the track regenerated; the others stay as they are in the saved file. "
            "Accompany: the melody the accompaniment follows.")
        self.track_label = QLabel("Regenerate")
        form.addRow(self.track_label, self.track_combo)
        self.bars_spin = QSpinBox()
        self.bars_spin.setRange(1, LIMITS.max_bars)
        self.bars_spin.setValue(RequestParams.n_bars)
        self.bars_spin.setSuffix(" bars")
        form.addRow("Length", self.bars_spin)
        range_row = QHBoxLayout()
        self.first_bar_spin = QSpinBox()
        self.last_bar_spin = QSpinBox()
        for spin in (self.first_bar_spin, self.last_bar_spin):
            spin.setRange(1, LIMITS.max_bars)
        self.first_bar_spin.setValue(5)
        self.last_bar_spin.setValue(8)
        range_row.addWidget(QLabel("bars"))
        range_row.addWidget(self.first_bar_spin)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.last_bar_spin)
        range_row.addStretch(1)
        self.range_label = QLabel("Infill range")
        form.addRow(self.range_label, range_row)
        layout.addWidget(task_box)

        harmony_box = QGroupBox("Harmony")
        form = QFormLayout(harmony_box)
        self.chords_editor = ProgressionEditor()
        form.addRow("Chords", self.chords_editor)
        key_row = QHBoxLayout()
        self.in_key_check = QCheckBox("In-key projection")
        self.in_key_check.setChecked(True)
        self.key_combo = QComboBox()
        self.key_combo.addItem(_AUTO_KEY, None)
        for tonic in TONICS:
            self.key_combo.addItem(tonic, tonic)
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("major", "major")
        self.mode_combo.addItem("minor", "minor")
        key_row.addWidget(self.key_combo, 1)
        key_row.addWidget(self.mode_combo)
        form.addRow("", self.in_key_check)
        self.pitch_set_combo = QComboBox()
        for label, value in _PITCH_SET_LABELS:
            self.pitch_set_combo.addItem(label, value)
        self.pitch_set_combo.setToolTip(
            "Which pitches the projection lets through: the key's scale, the scale and the "
            "tones of the chord sounding, or the chord's tones alone. Task default: chord "
            "tones for Accompany (real piano parts put 98 % of their notes on them), the "
            "key's scale for Infill and Generate (a melody needs its passing tones)")
        form.addRow("Pitches", self.pitch_set_combo)
        form.addRow("Key", key_row)
        self.key_estimate_label = QLabel("")
        self.key_estimate_label.setWordWrap(True)
        self.key_estimate_label.setStyleSheet("color: #8a8f98;")
        form.addRow(self.key_estimate_label)
        self.use_key_button = QPushButton("Use this key")
        self.use_key_button.setToolTip("Put the key of the shown result in the Key fields")
        self.use_key_button.setVisible(False)
        self.use_key_button.clicked.connect(self.use_result_key)
        use_key_row = QHBoxLayout()
        use_key_row.addWidget(self.use_key_button)
        use_key_row.addStretch(1)
        form.addRow("", use_key_row)
        self.key_warning = QLabel("")
        self.key_warning.setWordWrap(True)
        self.key_warning.setStyleSheet(_WARNING_STYLE)
        self.key_warning.setVisible(False)
        form.addRow(self.key_warning)
        layout.addWidget(harmony_box)

        form_box = QGroupBox("Form (whole songs)")
        form_layout = QVBoxLayout(form_box)
        self.form_editor = FormEditor()
        form_layout.addWidget(self.form_editor)
        self.song_button = QPushButton("Write the song")
        self._song_tip = ("Write a whole song for this form: melody and chords, then the "
                          "accompaniment, in the Key, with the Chords as its first bars when "
                          "you typed some")
        self.song_button.setToolTip(self._song_tip)
        song_row = QHBoxLayout()
        song_row.addWidget(self.song_button)
        song_row.addStretch(1)
        form_layout.addLayout(song_row)
        layout.addWidget(form_box)

        sampling_box = QGroupBox("Musical controls")
        form = QFormLayout(sampling_box)
        guidance_row = QHBoxLayout()
        self.guidance_slider = QSlider(Qt.Orientation.Horizontal)
        self.guidance_slider.setRange(round(LIMITS.guidance.low * _GUIDANCE_SCALE),
                                      round(LIMITS.guidance.high * _GUIDANCE_SCALE))
        self.guidance_slider.setValue(round(LIMITS.default_guidance * _GUIDANCE_SCALE))
        self.guidance_value = QLabel()
        self.guidance_value.setStyleSheet("color: #8a8f98;")
        guidance_row.addWidget(QLabel("loose"))
        guidance_row.addWidget(self.guidance_slider, 1)
        guidance_row.addWidget(QLabel("strict"))
        self.guidance_slider.setToolTip(
            "How closely the result sticks to the chords: loose leaves the model more "
            "freedom (more varied ideas), strict follows them to the letter (the model's "
            "guidance scale)")
        form.addRow("Follow chords", guidance_row)
        form.addRow("", self.guidance_value)
        self.guidance_note = QLabel("Guidance follows the chords: without chords it does nothing.")
        self.guidance_note.setWordWrap(True)
        self.guidance_note.setStyleSheet("color: #c8a040;")
        form.addRow("", self.guidance_note)
        self.below_melody_check = QCheckBox("Stay below the melody")
        self.below_melody_check.setToolTip(
            "Accompany: every new note stays under the melody's lowest note in its bar, so "
            "the accompaniment never crosses the tune")
        self.register_note = QLabel("")
        self.register_note.setWordWrap(True)
        self.register_note.setStyleSheet("color: #8a8f98;")
        form.addRow("Register", self.below_melody_check)
        self.piano_register_check = QCheckBox("Piano range only")
        self.piano_register_check.setChecked(True)
        self.piano_register_check.setToolTip(
            "Accompany: new notes stay between C2 and the melody's highest note (G5 without "
            "a melody), where real piano parts play, and under G2 only the chord's bass "
            "sounds; untick to let them go anywhere")
        form.addRow("", self.piano_register_check)
        self.bass_anchor_check = QCheckBox("Root in the bass")
        self.bass_anchor_check.setToolTip(
            "Accompany: below the lowest note the model plays on each chord's bass (its "
            "root, or a slash chord's bass), nothing else sounds in that chord, as a pop "
            "pianist's left hand plays it. Measured: 96 % of bars with the bass at the "
            "bottom instead of 88 %, for about 0.01 less chord agreement a beat; off by "
            "default")
        form.addRow("", self.bass_anchor_check)
        self.clip_register_combo = QComboBox()
        for text, kept in (("auto", None), ("clip's range", True), ("anywhere", False)):
            self.clip_register_combo.addItem(text, kept)
        self.clip_register_combo.setToolTip(
            "Infill: keep new notes within 5 semitones of the range of the bars around the "
            "gap (clip's range) or not (anywhere). Auto leaves it to the engine: the clip's "
            "range with chords typed, anywhere without (there the bars the clip repeats "
            "already keep the register)")
        form.addRow("Infill range", self.clip_register_combo)
        form.addRow("", self.register_note)
        self._build_density_rows(form)
        self._build_repeat_rows(form)
        self.variations_spin = QSpinBox()
        self.variations_spin.setRange(int(LIMITS.variations.low), int(LIMITS.variations.high))
        form.addRow("Variations", self.variations_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(-1, 2**31 - 1)
        self.seed_spin.setValue(-1)
        self.seed_spin.setSpecialValueText("random")
        self.seed_spin.setToolTip("random: a new seed each time, shown with the result")
        form.addRow("Seed", self.seed_spin)
        layout.addWidget(sampling_box)

        self.advanced_box = QGroupBox("Advanced (the engineer's settings)")
        self.advanced_box.setCheckable(True)
        self.advanced_box.setChecked(False)
        advanced = QWidget()
        form = QFormLayout(advanced)
        form.setContentsMargins(0, 0, 0, 0)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(int(LIMITS.steps.low), int(LIMITS.steps.high))
        self.steps_spin.setValue(LIMITS.default_steps)
        self.steps_spin.setToolTip("Diffusion sampler steps: more is slower, rarely much better")
        form.addRow("Sampler steps", self.steps_spin)
        self.sampler_combo = QComboBox()
        for label, value in _SAMPLER_LABELS:
            self.sampler_combo.addItem(label, value)
        self.sampler_combo.setToolTip("The diffusion sampler: DDIM gives the same result "
                                      "for a seed; DDPM draws fresh noise every step")
        form.addRow("Sampler", self.sampler_combo)
        self.quality_combo = QComboBox()
        for label, value in _QUALITY_LABELS:
            self.quality_combo.addItem(label, value)
        self.quality_combo.setToolTip(
            "Fast runs a model's distilled few-step student when the steps and the chord "
            "following are at their defaults; High always runs the full model")
        form.addRow("Quality", self.quality_combo)
        self.guidance_below_spin = QDoubleSpinBox()
        self.guidance_below_spin.setDecimals(2)
        self.guidance_below_spin.setSingleStep(0.05)
        self._set_guidance_below_range(LIMITS)
        self.guidance_below_spin.setSpecialValueText("default")
        self.guidance_below_spin.setToolTip(
            "Guide towards the chords only once the noise is below this level (1: at every "
            "step). Guidance at the noisiest steps stacks and holds notes; default: the "
            "fast model's own interval, and 0.6 for High accompaniment")
        form.addRow("Guidance interval", self.guidance_below_spin)
        self.candidates_spin = QSpinBox()
        self.candidates_spin.setRange(0, int(LIMITS.candidates.high))
        self.candidates_spin.setSpecialValueText("default")
        self.candidates_spin.setToolTip(
            "Samples drawn for each variation, keeping the one that best plays the chords "
            "(accompaniment) or carries the melody's register through the gap (infill). "
            "They run as one batch: more is slower. Default: "
            f"{DEFAULT_CANDIDATES['accompany']} for accompaniment "
            f"({FULL_MODEL_CANDIDATES['accompany']} where the full model runs it, "
            f"{JAM_CANDIDATES} a bar in the live jam, {JAM_CANDIDATES_GPU} on an NVIDIA "
            f"GPU), {DEFAULT_CANDIDATES['infill']} for "
            f"infill without chords ({FULL_MODEL_CANDIDATES['infill']} where the full model "
            "runs it), else 1 (fewer each with many variations)")
        form.addRow("Candidates", self.candidates_spin)
        self.model_combo = QComboBox()
        self.model_combo.addItem("engine default", None)
        self.model_combo.setToolTip("Which of the engine's models runs (diffjam serve --models "
                                    "DIR lists your fine-tuned ones here)")
        form.addRow("Model", self.model_combo)
        QVBoxLayout(self.advanced_box).addWidget(advanced)
        advanced.setVisible(False)
        self.advanced_box.toggled.connect(advanced.setVisible)
        self._advanced = advanced
        layout.addWidget(self.advanced_box)
        layout.addStretch(1)
        return page

    def _build_density_rows(self, form: QFormLayout) -> None:
        """Density: sparser … denser, or auto (nothing sent: the engine's default)."""
        self.density_slider = QSlider(Qt.Orientation.Horizontal)
        self.density_slider.setRange(*_density_range(LIMITS))
        self.density_slider.setValue(round((LIMITS.density.low + LIMITS.density.high) / 2))
        self.density_auto_check = QCheckBox("auto")
        self.density_label, self.density_value = _add_slider_rows(
            form, "Density", ("sparser", "denser"), self.density_slider,
            self.density_auto_check,
            "How busy the new notes are, sparser to denser: notes a bar asked of the "
            "model as its rhythm hint. The model follows it loosely, as a direction more "
            "than a count. Auto sends nothing: the engine's default (an accompaniment "
            "asks for what the loaded model was measured to need; infill and generate "
            "let the model choose).")

    def _build_repeat_rows(self, form: QFormLayout) -> None:
        """Continue repeated figures (infill): a strength 0..1, or the engine's default."""
        self.repeat_slider = QSlider(Qt.Orientation.Horizontal)
        self.repeat_slider.setRange(round(LIMITS.repeat.low * _REPEAT_SCALE),
                                    round(LIMITS.repeat.high * _REPEAT_SCALE))
        self.repeat_slider.setValue(round(LIMITS.default_repeat * _REPEAT_SCALE))
        self.repeat_auto_check = QCheckBox("auto")
        self.repeat_label, self.repeat_value = _add_slider_rows(
            form, "Repeats", ("fresh", "repeat"), self.repeat_slider, self.repeat_auto_check,
            "Continue repeated figures (infill): where the clip repeats a figure around the "
            "bars to regenerate (every 1, 2, 4 or 8 bars), how strongly the new bars start "
            "from the bars they repeat (scaled by how exactly the clip repeats; where "
            "nothing repeats, from the bars next to them, more loosely): fresh ideas at "
            "the left, close to the repeated bars at the right. With chords typed, only "
            "bars that repeat with the new bars' own chords are continued; the rest start "
            f"fresh. Auto leaves it to the engine: {LIMITS.default_repeat:g}.")

    def _build_request_buttons(self) -> QHBoxLayout:
        """Generate and Cancel, below the tabs: never scrolled out of view."""
        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate  (Ctrl+Return)")
        self.generate_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel  (Esc)")
        self.cancel_button.setEnabled(False)
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        return buttons

    def _build_result_area(self) -> QWidget:
        area = QWidget()
        layout = QVBoxLayout(area)
        layout.setContentsMargins(6, 0, 0, 0)
        # the title gives way at narrow widths, ending in "…" (its key is also under Key
        # and in the status; the whole title is its tooltip)
        self.roll_kind = QLabel()
        self.roll_title = _ElidedLabel(min_width=100)
        title_row = QHBoxLayout()
        title_row.setSpacing(4)
        title_row.addWidget(self.roll_kind)
        title_row.addWidget(self.roll_title)
        title_row.addStretch(1)
        self.history_combo = QComboBox()
        self.history_combo.setToolTip("Every result of this session; ★ marks favourites")
        self.history_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.history_combo.setMinimumContentsLength(16)
        self.history_combo.activated.connect(self.show_history)
        self.favourite_button = QPushButton("☆")
        self.favourite_button.setCheckable(True)
        self.favourite_button.setFixedWidth(32)
        self.favourite_button.setToolTip("Mark this result as a favourite")
        self.favourite_button.toggled.connect(self._on_favourite_toggled)
        title_row.addWidget(self.history_combo)
        title_row.addWidget(self.favourite_button)
        layout.addLayout(title_row)
        self.roll = RollView()
        layout.addWidget(self.roll, 1)
        self.legend = QLabel(_CLIP_LEGEND)
        layout.addWidget(self.legend)
        row = QHBoxLayout()
        self.prev_button = QPushButton("◀")
        self.next_button = QPushButton("▶")
        for button, tip in ((self.prev_button, "Previous variation (Alt+←)"),
                            (self.next_button, "Next variation (Alt+→)")):  # fmt: skip
            button.setFixedWidth(28)
            button.setToolTip(tip)
        self.variation_label = QLabel("no result")
        self.seed_button = QPushButton("seed –")  # the shown result's seed; click: reuse it
        self.seed_button.setFlat(True)
        self.seed_button.setToolTip("The seed of this result: click to put it in the Seed box "
                                    "and get the same result again")  # fmt: skip
        self.seed_button.clicked.connect(self.reuse_seed)
        self.save_button = QPushButton("Save .mid…")
        self.drag_handle = QPushButton("⇲ Drag")
        self.drag_handle.setToolTip("Press and drag onto a DAW track to drop the result as MIDI")
        self.drag_bars_handle = QPushButton("⇲ Bars")
        self.drag_bars_handle.setToolTip(
            "Press and drag onto a DAW track to drop only the regenerated bars (they start "
            "at the drop point)")
        row.addWidget(self.prev_button)
        row.addWidget(self.variation_label)
        row.addWidget(self.next_button)
        row.addWidget(self.seed_button)
        row.addStretch(1)
        row.addWidget(self.save_button)
        row.addWidget(self.drag_handle)
        row.addWidget(self.drag_bars_handle)
        for button in (self.save_button, self.drag_handle, self.drag_bars_handle):
            _fit_button(button)
        layout.addLayout(row)
        layout.addLayout(self._build_transport())
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("idle")
        self.progress_bar.setTextVisible(True)
        layout.addWidget(self.progress_bar)
        self.status_area = QLabel()
        self.status_area.setWordWrap(True)
        self.status_area.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_area.setMinimumHeight(44)
        layout.addWidget(self.status_area)
        self.show_info("Ready.")
        return area

    def _build_transport(self) -> QHBoxLayout:
        """Audition: play (Space), A/B original against the shown variation, loop, output."""
        row = QHBoxLayout()
        self.play_button = QPushButton()
        self.play_button.setMinimumWidth(72)
        self.listen_combo = QComboBox()
        self.listen_combo.addItem("B: result", "result")
        self.listen_combo.addItem("A: original", "original")
        self.listen_combo.setToolTip(
            "Listen to the shown variation (B) or to what it was made from (A)")
        self.ab_button = QPushButton("A/B")
        self.ab_button.setFixedWidth(48)
        self.ab_button.setToolTip("Switch between the original and the variation, in time")
        self.loop_check = QCheckBox("Loop target")
        self.loop_check.setToolTip("Play only the bars that are (or were) regenerated, looped")
        self.sound_combo = QComboBox()
        self.sound_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sound_combo.setMinimumContentsLength(8)
        self.sound_combo.setToolTip("Built-in piano, or a MIDI output port (a synth or a DAW)")
        self.sound_combo.addItem("Built-in piano", None)
        for name in _midi_output_names():
            self.sound_combo.addItem(f"MIDI: {name}", name)
        row.addWidget(self.play_button)
        row.addWidget(self.listen_combo)
        row.addWidget(self.ab_button)
        row.addWidget(self.loop_check)
        row.addStretch(1)
        row.addWidget(self.sound_combo)
        self.play_button.clicked.connect(self.toggle_play)
        self.ab_button.clicked.connect(self.toggle_ab)
        self.listen_combo.currentIndexChanged.connect(self._replay)
        self.loop_check.toggled.connect(self._replay)
        self.sound_combo.currentIndexChanged.connect(self._on_sound_changed)
        self.audition.position_changed.connect(self.roll.set_playhead)
        self.audition.playing_changed.connect(self._on_playing_changed)
        self._on_playing_changed(False)
        QShortcut(QKeySequence("Space"), self).activated.connect(self.toggle_play)
        return row

    def _connect_signals(self) -> None:
        client = self.client
        client.connection_changed.connect(self._on_connection_changed)
        client.status_received.connect(self._on_status)
        client.settings_received.connect(self._on_settings)
        client.accepted.connect(self._on_accepted)
        client.progress.connect(self._on_progress)
        client.result_ready.connect(self._on_result)
        client.request_failed.connect(self._on_request_failed)
        client.engine_error.connect(self._on_engine_error)
        client.request_cancelled.connect(self._on_request_cancelled)

        self.task_combo.currentIndexChanged.connect(self._update_task_controls)
        self.chords_editor.changed.connect(self._on_chords_changed)
        self.form_editor.changed.connect(self._on_form_changed)
        self.song_button.clicked.connect(self.write_song)
        self.bars_spin.valueChanged.connect(self._update_task_controls)
        self.first_bar_spin.valueChanged.connect(self._on_range_changed)
        self.last_bar_spin.valueChanged.connect(self._on_range_changed)
        self.guidance_slider.valueChanged.connect(self._on_sampling_changed)
        self.density_slider.valueChanged.connect(self._on_density_moved)
        self.density_auto_check.toggled.connect(self._update_density_control)
        self.repeat_slider.valueChanged.connect(self._on_repeat_moved)
        self.repeat_auto_check.toggled.connect(self._on_repeat_auto_toggled)
        self.steps_spin.valueChanged.connect(self._on_sampling_changed)
        self.variations_spin.valueChanged.connect(self._on_sampling_changed)
        self.variations_spin.valueChanged.connect(self._fit_candidates)
        self.in_key_check.toggled.connect(self._on_sampling_changed)
        self.key_combo.currentIndexChanged.connect(self._on_sampling_changed)
        self.mode_combo.currentIndexChanged.connect(self._on_sampling_changed)
        self.key_combo.currentIndexChanged.connect(self._update_key_warning)
        self.mode_combo.currentIndexChanged.connect(self._update_key_warning)
        self.open_button.clicked.connect(self._choose_clip)
        self.clear_clip_button.clicked.connect(self.clear_clip)
        self.use_result_button.clicked.connect(self.use_result_as_clip)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel)
        self.prev_button.clicked.connect(lambda: self.show_variation(self._index() - 1))
        self.next_button.clicked.connect(lambda: self.show_variation(self._index() + 1))
        self.save_button.clicked.connect(self._choose_save_path)
        self.drag_handle.pressed.connect(self.start_drag)
        self.drag_bars_handle.pressed.connect(lambda: self.start_drag(bars_only=True))
        self.roll.bars_selected.connect(self.select_bars)

    # ---- values ----------------------------------------------------------------------

    @property
    def task(self) -> str:
        return str(self.task_combo.currentData())

    def set_task(self, task: str) -> None:
        self.task_combo.setCurrentIndex(TASKS.index(task))

    @property
    def guidance(self) -> float:
        return self.guidance_slider.value() / _GUIDANCE_SCALE

    def set_guidance(self, value: float) -> None:
        self.guidance_slider.setValue(round(value * _GUIDANCE_SCALE))

    @property
    def below_melody(self) -> bool:
        """Whether the request keeps its new notes under the melody (accompany of a clip)."""
        return self.below_melody_check.isEnabled() and self.below_melody_check.isChecked()

    @property
    def bass_anchor(self) -> bool:
        """Whether the request asks for each chord's bass at the bottom (accompany, an engine
        that reads ``bass_anchor``)."""
        return self.bass_anchor_check.isEnabled() and self.bass_anchor_check.isChecked()

    @property
    def register(self) -> bool | None:
        """``register`` as sent: ``False`` when an accompaniment may go anywhere; for an
        infill the Infill range choice; ``None`` (not sent): the engine's default, another
        task, or an engine that does not read ``register``."""
        if "register" not in self._engine_params:
            return None
        if self.task == "infill":
            return self.clip_register_combo.currentData()
        if self.task != "accompany":
            return None
        return None if self.piano_register_check.isChecked() else False

    @property
    def density(self) -> float | None:
        """The notes a bar the request asks for; ``None`` (not sent): auto, a song, or an
        engine that does not read ``density``."""
        if self.density_auto_check.isChecked() or not self.density_slider.isEnabled():
            return None
        return float(self.density_slider.value())

    def set_density(self, value: float | None) -> None:
        """Ask for ``value`` notes a bar; ``None``: auto."""
        if value is not None:
            self.density_slider.setValue(round(value))  # unticks auto
        self.density_auto_check.setChecked(value is None)

    @property
    def repeat(self) -> float | None:
        """How strongly an infill continues the clip's repeated figures; ``None`` (not
        sent): the engine's default, another task, or an engine that does not read it."""
        if self.repeat_auto_check.isChecked() or not self.repeat_slider.isEnabled():
            return None
        return self.repeat_slider.value() / _REPEAT_SCALE

    def set_repeat(self, value: float | None) -> None:
        """Continue repeated figures at ``value`` (0..1); ``None``: the engine's default."""
        if value is not None:
            self.repeat_slider.setValue(round(value * _REPEAT_SCALE))  # unticks auto
        self.repeat_auto_check.setChecked(value is None)

    @property
    def shown_key(self) -> str | None:
        """The key the engine used for the shown result (``"A minor"``), if it said."""
        return self._shown.result.done.key if self._shown is not None else None

    def set_key(self, key: str | None) -> None:
        """Set the Key fields: ``"F# minor"`` (read with wire.chords), ``None`` for Auto."""
        if key is None:
            self.key_combo.setCurrentIndex(0)
            return
        parsed = parse_key(key)
        self.key_combo.setCurrentIndex(self.key_combo.findData(TONICS[parsed.tonic]))
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(parsed.mode))

    def use_result_key(self) -> None:
        """Put the shown result's key in the Key fields (to keep it for the next ones)."""
        if self.shown_key is not None:
            self.set_key(self.shown_key)
            self.show_info(f"The key is now {self.shown_key}.")

    @property
    def key(self) -> str | None:
        """The key as the engine reads it (``"F# minor"``), ``None`` for estimated."""
        tonic = self.key_combo.currentData()
        return None if tonic is None else f"{tonic} {self.mode_combo.currentData()}"

    @property
    def pitch_set(self) -> str | None:
        """The projection's pitch set to send; ``None``: the task's default (not sent), or
        an engine that does not read it."""
        if "allowed" not in self._engine_params:
            return None
        value = self.pitch_set_combo.currentData()
        return None if value is None else str(value)

    @property
    def guidance_below(self) -> float | None:
        """The guidance interval to send; ``None``: the default (not sent)."""
        spin = self.guidance_below_spin
        if "guidance_below" not in self._engine_params or \
                spin.value() < self._limits.guidance_below.low:
            return None
        return round(spin.value(), 2)

    @property
    def candidates(self) -> int | None:
        """The candidates a variation to send; ``None``: the task's default (not sent)."""
        value = self.candidates_spin.value()
        if "candidates" not in self._engine_params or value < self._limits.candidates.low:
            return None
        return value

    def _set_guidance_below_range(self, limits: Limits) -> None:
        """The interval spin box: the engine's range, with "default" one step below it."""
        spin = self.guidance_below_spin
        spin.setRange(max(0.0, limits.guidance_below.low - spin.singleStep()),
                      limits.guidance_below.high)

    def sampling_settings(self) -> SettingsUpdate:
        """The panel's sampling defaults in the engine (sent as ``/diffjam/settings``)."""
        return SettingsUpdate.of(
            guidance=self.guidance,
            in_key=self.in_key_check.isChecked(),
            key=self.key,
            steps=self.steps_spin.value(),
            variations=self.variations_spin.value(),
        )

    def request_params(self) -> tuple[RequestParams, tuple[ClipNote, ...]]:
        """The params and notes of a request for the current controls.

        Raises :class:`ValueError` with a user-facing message when the controls cannot
        make a valid request (an invalid chord or form, accompany without chords, a song
        without a form).
        """
        task = self.task
        progression = self.chords_editor.progression
        if progression is None:
            raise ValueError(f"fix the chord progression first: {self.chords_editor.error}")
        if task == RequestKind.SONG:
            return self._song_params(progression.text() or None), ()
        # a random seed is drawn here, not in the engine, so every result can be reproduced
        seed = self.seed_spin.value()
        params = RequestParams(
            guidance=self.guidance,
            in_key=self.in_key_check.isChecked(),
            key=self.key,
            steps=self.steps_spin.value(),
            variations=self.variations_spin.value(),
            seed=seed if seed >= 0 else random.randint(0, _MAX_SEED),
            chords=progression.text() if progression.n_bars else None,
            model=self.model_combo.currentData(),
            # the engine's defaults are not sent: an engine that does not read a key works
            sampler=_unless_default(self.sampler_combo, DEFAULT_SAMPLER),
            quality=_unless_default(self.quality_combo, DEFAULT_QUALITY),
            below_melody=self.below_melody,
            density=self.density,
            allowed=self.pitch_set,
            guidance_below=self.guidance_below,
            register=self.register,
            candidates=self.candidates,
            bass_anchor=self.bass_anchor,
        )
        notes: tuple[ClipNote, ...] = self._clip.notes if self._clip is not None else ()
        if task in ("infill", "accompany") and self._clip is not None:
            notes = self._clip.notes_of(self.track_combo.currentData())
        if self._clip is not None:
            params = replace(params, tempo=self._clip.tempo)
        n_bars = self.bars_spin.value()
        if task == "infill":
            first, last = self.first_bar_spin.value(), self.last_bar_spin.value()
            if first > last:
                raise ValueError(f"the infill range {first}–{last} is empty")
            params = replace(params, bars=(first, last), repeat=self.repeat,
                             clip_beats=float(n_bars * BEATS_PER_BAR))
        else:
            params = replace(params, n_bars=n_bars)
            if task == "accompany" and not progression.n_bars:
                raise ValueError("accompany needs a chord progression")
            if task == "generate":
                notes = ()
        return params, notes

    def _song_params(self, chords: str | None) -> RequestParams:
        """A song's params: the form, the Key (Auto: the engine's default), the seed, the
        typed chords as its first bars, the accompaniment's chord following, in-key
        projection and quality; the tempo of the opened clip, if any."""
        phrases = self.form_editor.phrases
        if phrases is None:
            raise ValueError(f"fix the form first: {self.form_editor.error}")
        if not phrases:
            raise ValueError("a song needs a form: type its phrases and their bars, e.g. "
                             "i4A8B8A8o4")
        seed = self.seed_spin.value()
        params = RequestParams(
            form=self.form_editor.text(), key=self.key, chords=chords,
            seed=seed if seed >= 0 else random.randint(0, _MAX_SEED),
            guidance=self.guidance, in_key=self.in_key_check.isChecked(),
            quality=_unless_default(self.quality_combo, DEFAULT_QUALITY),
            model=self.model_combo.currentData())
        return replace(params, tempo=self._clip.tempo) if self._clip is not None else params

    # ---- actions ---------------------------------------------------------------------

    def generate(self) -> str | None:
        """Send a request for the current controls; return its id (``None`` if refused)."""
        if self._in_flight is not None:
            self.show_info("A request is still running: cancel it (Esc) or wait.")
            return None
        if not self.client.connected:
            self.show_error(self._no_engine_text())
            return None
        if self.task == RequestKind.SONG and self._song_block:
            self.show_error(self._song_block)
            return None
        try:
            params, notes = self.request_params()
        except ValueError as err:
            self.show_error(str(err))
            return None
        self._settings_throttle.flush()
        request_id = self.submit_request(self.task, params, notes)
        if self._clip is not None and self.task != RequestKind.SONG:  # a song is a new file
            self._in_flight_source = _Source(self._clip, self.track_combo.currentData())
        return request_id

    def write_song(self) -> str | None:
        """The form box's "Write the song": the Song task, sent now."""
        self.set_task(RequestKind.SONG)
        return self.generate()

    def submit_request(self, task: str, params: RequestParams, notes: tuple[ClipNote, ...]
                       ) -> str:
        """Send exactly these params and notes (no checks here: the engine answers)."""
        request_id = self.client.submit(task, params, notes)
        self._in_flight = request_id
        self._in_flight_source = None
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("waiting for the engine…")
        self.show_info(f"Song {params.form}: sent to the engine." if task == RequestKind.SONG
                       else f"{_TASK_LABELS[task]}: sent to the engine ({len(notes)} notes).")
        return request_id

    def jam_sampling(self) -> JamStart:
        """The sampling options a jam starts with (the panel's defaults, key when set);
        the jam tab fills in ports, clock and tempo."""
        return JamStart(guidance=self.guidance, in_key=self.in_key_check.isChecked(),
                        key=self.key, steps=self.steps_spin.value())

    def cancel(self) -> None:
        """Forget the running request at once (the engine is asked to drop it too)."""
        if self._in_flight is not None:
            self.client.cancel(self._in_flight)

    def select_bars(self, first: int, last: int) -> None:
        """Make bars ``first``–``last`` the infill range (from a drag across the roll)."""
        if self.task != "infill":
            self.set_task("infill")
        self.last_bar_spin.setValue(max(last, self.first_bar_spin.minimum()))
        self.first_bar_spin.setValue(first)
        self.last_bar_spin.setValue(last)
        self.roll.set_target(self._infill_range())

    def toggle_play(self) -> None:
        if self.audition.playing:
            self.audition.stop()
        else:
            self.play()

    def toggle_ab(self) -> None:
        """Switch between A (original) and B (the shown variation), keeping the playhead."""
        self.listen_combo.setCurrentIndex(1 - self.listen_combo.currentIndex())

    def play(self, *, from_beat: float | None = None) -> bool:
        """Audition what the transport selects; ``False`` (and a message) if nothing."""
        start, end = self.play_window()
        if end <= start:
            self.show_info("Nothing to play yet: open a MIDI file, or generate.")
            return False
        self.audition.play(self.play_notes(), tempo=self._result_tempo(), start_beat=start,
                           end_beat=end, loop=self.loop_check.isChecked(), from_beat=from_beat)
        if isinstance(self.audition.sink, ClockSink) and self.audition.midi_out is None:
            reason = self._silent_reason or "no sound output"
            self.show_info(f"Playing silently ({reason}): the playhead moves, nothing is heard; "
                           "choose a MIDI output to hear it.")  # fmt: skip
        return True

    def play_notes(self) -> tuple[ClipNote, ...]:
        """The notes the transport plays: the shown variation (B) or the original (A)."""
        original = self.listen_combo.currentData() == "original"
        if self._shown is not None:
            return self._shown.result.request.notes if original else self.heard_notes()
        return self._clip.notes if self._clip is not None else ()

    def heard_notes(self) -> tuple[ClipNote, ...]:
        """The shown variation as it sounds: an accompaniment (the engine sends only that)
        with the melody it accompanies."""
        if self._shown is None:
            return ()
        return tuple(sorted((*self._shown.notes, *self._accompanied())))

    def _accompanied(self) -> tuple[ClipNote, ...]:
        """The melody of the shown accompaniment (none for other results)."""
        if self._shown is None or self._shown.result.request.task != "accompany":
            return ()
        return self._shown.result.request.notes

    def play_window(self) -> tuple[float, float]:
        """The beats played: the target bars when looping them, else the whole clip."""
        target: tuple[int, int] | None = None
        if self.loop_check.isChecked():
            if self._shown is not None:
                target = self._shown.result.done.bars
            elif self.task == "infill":
                target = self._infill_range()
        if target is not None:
            return float((target[0] - 1) * BEATS_PER_BAR), float(target[1] * BEATS_PER_BAR)
        return 0.0, float(self.roll.n_bars * BEATS_PER_BAR)

    def _replay(self) -> None:
        """Keep playing, from the same beat, what the transport now selects."""
        if self.audition.playing:
            self.play(from_beat=self.audition.position)

    def _on_playing_changed(self, playing: bool) -> None:
        self.play_button.setText("■ Stop" if playing else "▶ Play")
        self.play_button.setToolTip("Stop (Space)" if playing else "Play (Space)")

    def _on_sound_changed(self) -> None:
        name = self.sound_combo.currentData()
        port: MidiOutput | None = None
        if name is not None:
            try:
                port = mido.open_output(name)
            except (OSError, ImportError) as err:
                self.show_error(f"Could not open the MIDI output {name!r}: {err}")
                self.sound_combo.setCurrentIndex(0)
                return
        self.audition.set_midi_output(port)
        if self._midi_port is not None:
            self._midi_port.close()
        self._midi_port = port
        self._replay()

    def start_engine(self) -> None:
        """Start an engine on this machine (``diffjam serve``); the client finds it."""
        if self.engine_process is not None and self.engine_process.exit_code() is None:
            self.show_info("The engine is starting; loading the model can take a while.")
            return
        process = self._engine_factory()
        try:
            process.start()
        except OSError as err:
            self.show_error(f"Could not start the engine: {err}")
            return
        self.engine_process = process
        self._engine_watch.start()
        self.start_engine_button.setEnabled(False)
        self.show_info("Starting the engine… loading the model can take a while.")

    def reuse_seed(self) -> None:
        """Put the shown result's seed in the seed box, for the next request."""
        seed = self.shown_seed
        if seed is not None:
            self.seed_spin.setValue(seed)

    @property
    def shown_seed(self) -> int | None:
        """The seed the shown result was made with (``None``: no result, or not known)."""
        if self._shown is None:
            return None
        return self._shown.result.request.params.seed

    def _no_engine_text(self) -> str:
        if self.engine_process is not None and self.engine_process.exit_code() is None:
            return (f"The engine at {self.client.host}:{self.client.port} is still starting "
                    "(loading the model); Generate again when the dot turns green.")
        return (f"No engine is answering at {self.client.host}:{self.client.port}. "
                "Press “Start engine”, or run `diffjam serve`; the panel connects by itself.")

    def open_clip(self, path: str) -> bool:
        """Use a MIDI file as the input clip; errors go to the status area."""
        try:
            clip = read_clip(path)
        except MidiClipError as err:
            self.show_error(str(err))
            return False
        self.settings.setValue("files/last_dir", os.path.dirname(os.path.abspath(path)))
        self._remember()
        self._restore(_State(clip=clip, shown=None))
        self.show_info(f"Opened {clip.name} ({clip.tempo:g} BPM).")
        return True

    def clear_clip(self) -> None:
        """Forget the clip and the result (Ctrl+Z brings them back)."""
        had = self._clip is not None or self._shown is not None
        self._remember()
        self._restore(_State(clip=None, shown=None))
        if had:
            self.show_info("Cleared (Ctrl+Z brings it back).")

    def use_result_as_clip(self) -> None:
        """Make the shown variation the input clip, to build on it (Ctrl+Z undoes it)."""
        if self._shown is None:
            self.show_info("There is no result to use yet.")
            return
        shown = self._shown
        n_bars = int(shown.result.done.info.get("n_bars", self.bars_spin.value()))
        name = f"result v{shown.index + 1}" + (
            f" (seed {self.shown_seed})" if self.shown_seed is not None else "")
        clip = Clip(notes=shown.notes, n_bars=n_bars, tempo=self._result_tempo(), name=name)
        self._remember()
        self._restore(_State(clip=clip, shown=None))
        self.show_info(f"The input clip is now {name}; Generate builds on it (Ctrl+Z undoes).")

    def show_history(self, position: int) -> None:
        """Show the session's result number ``position`` (0: the first) again."""
        if not 0 <= position < len(self._results):
            return
        self._remember()
        self._restore(_State(clip=self._clip, shown=self._results[position]))

    def set_favourite(self, favourite: bool) -> None:
        """Mark or unmark the shown result as a favourite (★ in the history)."""
        if self._shown is None:
            return
        request_id = self._shown.result.request.request_id
        if favourite:
            self._favourites.add(request_id)
        else:
            self._favourites.discard(request_id)
        self._update_history()

    @property
    def favourites(self) -> list[RequestResult]:
        return [s.result for s in self._results
                if s.result.request.request_id in self._favourites]  # fmt: skip

    def _on_favourite_toggled(self, checked: bool) -> None:
        self.favourite_button.setText("★" if checked else "☆")
        self.set_favourite(checked)

    def _update_history(self) -> None:
        """The history list and the star for the shown result."""
        combo = self.history_combo
        combo.blockSignals(True)
        combo.clear()
        current = self._shown.result.request.request_id if self._shown is not None else None
        for number, shown in enumerate(self._results, start=1):
            request = shown.result.request
            bars = shown.result.done.bars
            text = f"#{number} {_TASK_LABELS[request.task]}"
            if bars:
                text += f" {bars[0]}–{bars[1]}"
            if request.params.seed is not None:
                text += f" · seed {request.params.seed}"
            star = "★ " if request.request_id in self._favourites else ""
            combo.addItem(star + text, number - 1)
            if request.request_id == current:
                combo.setCurrentIndex(number - 1)
        if current is None:
            combo.setCurrentIndex(-1)
        combo.setEnabled(bool(self._results))
        combo.blockSignals(False)
        self.favourite_button.blockSignals(True)
        self.favourite_button.setChecked(current in self._favourites)
        self.favourite_button.setText("★" if current in self._favourites else "☆")
        self.favourite_button.blockSignals(False)
        self.favourite_button.setEnabled(current is not None)

    def undo(self) -> None:
        """Go back to the clip and result before the last open, clear, result or use."""
        if not self._undo:
            self.show_info("Nothing to undo.")
            return
        self._redo.append(self._state())
        self._restore(self._undo.pop())
        self.show_info("Undone (Ctrl+Shift+Z redoes).")

    def redo(self) -> None:
        if not self._redo:
            self.show_info("Nothing to redo.")
            return
        self._undo.append(self._state())
        self._restore(self._redo.pop())
        self.show_info("Redone.")

    def _state(self) -> _State:
        return _State(clip=self._clip, shown=self._shown)

    def _remember(self) -> None:
        """Keep the current clip and result for :meth:`undo` (before changing them)."""
        self._undo.append(self._state())
        del self._undo[:-_UNDO_DEPTH]
        self._redo.clear()

    def _restore(self, state: _State) -> None:
        self.audition.stop()
        self._clip = state.clip
        clip = state.clip
        self.clip_label.setText(f"{clip.name}: {len(clip.notes)} notes, {clip.n_bars} bars"
                                if clip is not None else "no input clip")  # fmt: skip
        if clip is not None:
            self.bars_spin.setValue(clip.n_bars)
        self._fill_track_combo()
        self._shown = state.shown
        if state.shown is not None:
            self._show_result()
        else:
            self._show_input()

    def save_result(self, path: str) -> None:
        """Write the variation on screen to ``path`` as a MIDI file: into the opened file
        for an infill or accompaniment of it (gui.clip.result_file), else a new file."""
        if self._shown is None:
            raise ValueError("there is no result to save yet")
        how = self._write_shown(path)
        self.show_info(f"Saved {os.path.basename(path)}{how}.")

    def drag_mime(self, *, bars_only: bool = False) -> QMimeData:
        """Mime data for dragging the shown clip out: a temp ``.mid`` file URL.

        ``bars_only``: only the bars the shown result regenerated, moved to start at
        beat 0 (a DAW places them where they are dropped)."""
        if bars_only:
            return self._drag_bars_mime()
        notes = (
            self._shown.notes
            if self._shown is not None
            else (self._clip.notes if self._clip is not None else ())
        )
        if not notes:
            raise ValueError("there is nothing to drag yet")
        if self._drag_dir is None:
            self._drag_dir = tempfile.mkdtemp(prefix="diffjam-panel-")
        name = "diffjam-clip.mid"
        if self._shown is not None:
            task = self._shown.result.request.task
            name = f"diffjam-{task}-v{self._shown.index + 1}.mid"
        path = os.path.join(self._drag_dir, name)
        if self._shown is not None:
            self._write_shown(path)
        else:
            write_clip(path, notes, tempo=self._result_tempo())
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(path)])
        with open(path, "rb") as handle:
            mime.setData("audio/midi", handle.read())
        return mime

    def _drag_bars_mime(self) -> QMimeData:
        bars = self._shown.result.done.bars if self._shown is not None else None
        if self._shown is None or bars is None:
            raise ValueError("there are no regenerated bars to drag yet")
        low, high = (bars[0] - 1) * BEATS_PER_BAR, bars[1] * BEATS_PER_BAR
        notes = [replace(note, start=note.start - low) for note in self._shown.notes
                 if low <= note.start < high]
        if self._drag_dir is None:
            self._drag_dir = tempfile.mkdtemp(prefix="diffjam-panel-")
        task = self._shown.result.request.task
        path = os.path.join(self._drag_dir, f"diffjam-{task}-v{self._shown.index + 1}-bars"
                                            f"{bars[0]}-{bars[1]}.mid")
        write_clip(path, notes, tempo=self._result_tempo())
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(path)])
        with open(path, "rb") as handle:
            mime.setData("audio/midi", handle.read())
        return mime

    def start_drag(self, *, bars_only: bool = False) -> None:
        try:
            mime = self.drag_mime(bars_only=bars_only)
        except ValueError as err:
            self.show_info(str(err))
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)

    def show_variation(self, index: int) -> None:
        if self._shown is None:
            return
        count = len(self._shown.result.variations)
        self._shown = replace(self._shown, index=index % count)
        self._show_result()
        self._replay()

    # ---- status ----------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.status_area.setStyleSheet(_ERROR_STYLE)
        self.status_area.setText(text)

    def show_info(self, text: str) -> None:
        self.status_area.setStyleSheet(_INFO_STYLE)
        self.status_area.setText(text)

    # ---- engine events ---------------------------------------------------------------

    def _on_connection_changed(self, connected: bool) -> None:
        where = f"{self.client.host}:{self.client.port}"
        starting = self.engine_process is not None and self.engine_process.exit_code() is None
        self.start_engine_button.setVisible(not connected)
        for widget in self._engine_details:
            widget.setVisible(connected)
        self.start_engine_button.setEnabled(not starting)
        if connected:
            self.connection_label.setText(f'<span style="color:#5ac05a">●</span> engine at {where}')
            self._push_settings()
        else:
            self.connection_label.setText(
                f'<span style="color:#d05050">●</span> no engine at {where} (retrying)'
            )
            for label, text in ((self.protocol_label, "protocol –"),
                                (self.model_label, "model –"), (self.device_label, "device –"),
                                (self.latency_label, "last latency –")):  # fmt: skip
                label.setText(text)
            self.defaults_label.setText("")
            if self._in_flight is None:
                self.progress_bar.setValue(0)
                self.progress_bar.setFormat("idle")
            else:
                self.progress_bar.setFormat("lost")  # before cancel: not shown as "cancelled"
                self.client.cancel(self._in_flight)
                self.show_error("The engine stopped answering; the request was lost. The panel "
                                "reconnects by itself when the engine is back.")

    def _on_status(self, status: Status) -> None:
        block = song_support(status)
        if block != self._song_block:
            self._song_block = block
            self.form_editor.set_engine_note(block)
            self.song_button.setEnabled(not block)
            self.song_button.setToolTip(block or self._song_tip)
        self._engine_params = status.params
        for combo, param in ((self.sampler_combo, "sampler"), (self.quality_combo, "quality")):
            reads = not status.params or param in status.params
            combo.setEnabled(reads)
            if not reads:
                combo.setCurrentIndex(0)  # the engine's default is all it can do
        # newer params: an engine that lists none cannot read them either
        self.pitch_set_combo.setEnabled("allowed" in status.params)
        self.guidance_below_spin.setEnabled("guidance_below" in status.params)
        self.candidates_spin.setEnabled("candidates" in status.params)
        self._update_register_control()
        self.set_limits(status.limits)
        self._update_density_control()
        self._update_repeat_control()
        self.protocol_label.setText(f"protocol {status.protocol}")
        self.model_label.setText(f"model {status.model} {status.version}".strip())
        self.device_label.setText(f"device {device_text(status.device)}")
        if status.last_latency_ms is not None:
            self.latency_label.setText(f"last latency {milliseconds(status.last_latency_ms)}")
        self._set_models(status.models)

    def set_limits(self, limits: Limits) -> None:
        """Size the controls to the engine's limits (``/diffjam/status``); values outside
        the new ranges are clamped by Qt."""
        self.guidance_slider.setRange(round(limits.guidance.low * _GUIDANCE_SCALE),
                                      round(limits.guidance.high * _GUIDANCE_SCALE))
        self.steps_spin.setRange(int(limits.steps.low), int(limits.steps.high))
        self.variations_spin.setRange(int(limits.variations.low), int(limits.variations.high))
        self.bars_spin.setMaximum(limits.max_bars)
        for slider in (self.density_slider, self.repeat_slider):
            slider.blockSignals(True)  # a new range is not the user's choice
        self.density_slider.setRange(*_density_range(limits))
        self.repeat_slider.setRange(round(limits.repeat.low * _REPEAT_SCALE),
                                    round(limits.repeat.high * _REPEAT_SCALE))
        for slider in (self.density_slider, self.repeat_slider):
            slider.blockSignals(False)
        self._set_guidance_below_range(limits)
        self._limits = limits
        self._fit_candidates()
        self.jam.set_limits(limits)

    def _set_models(self, models: tuple[str, ...]) -> None:
        """Fill the Model menu from the engine's names (the default's first); the choice is
        kept while the engine still serves it."""
        shown = tuple(self.model_combo.itemData(i) for i in range(1, self.model_combo.count()))
        if shown == models[1:] and (not models or self.model_combo.itemText(0).startswith(
                models[0])):
            return
        chosen = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem(f"{models[0]} (default)" if models else "engine default", None)
        for name in models[1:]:
            self.model_combo.addItem(name, name)
        index = self.model_combo.findData(chosen) if chosen is not None else 0
        self.model_combo.setCurrentIndex(max(0, index))
        self.model_combo.blockSignals(False)

    def _on_settings(self, values: dict[str, Any]) -> None:
        parts = []
        if "guidance" in values:
            parts.append(f"guidance {values['guidance']:g}")
        if "in_key" in values:
            parts.append("in-key " + ("on" if values["in_key"] else "off"))
        if "key" in values:
            parts.append(f"key {values['key'] or 'auto'}")
        for key in ("steps", "variations"):
            if key in values:
                parts.append(f"{key} {values[key]}")
        self.defaults_label.setText("engine defaults: " + " · ".join(parts))

    def _on_accepted(self, request_id: str, position: int) -> None:
        if request_id == self._in_flight:
            self.progress_bar.setFormat(f"queued (position {position})" if position else "working…")

    def _on_progress(self, request_id: str, fraction: float, stage: str) -> None:
        if request_id == self._in_flight:
            self.progress_bar.setValue(round(100 * max(0.0, min(1.0, fraction))))
            self.progress_bar.setFormat(f"{stage} %p%" if stage else "%p%")

    def _on_result(self, result: RequestResult) -> None:
        if result.request.request_id != self._in_flight:
            return
        self._in_flight = None
        self._request_finished()
        self.progress_bar.setValue(100)
        self.progress_bar.setFormat("done")
        self._remember()
        self._shown = _Shown(result=result, source=self._in_flight_source)
        self._results.append(self._shown)
        self._in_flight_source = None
        self._show_result()
        self._replay()
        done = result.done
        latency = done.latency_ms
        if latency is not None:
            self.latency_label.setText(f"last latency {milliseconds(latency)}")
        bars = done.bars
        count = len(result.variations)
        song = done.song
        if song is not None:
            form = " ".join(f"{phrase.letter}{phrase.bars}" for phrase in song.phrases)
            text = f"Done: a {done.info.get('n_bars')}-bar song ({form})"
        else:
            text = f"Done: {count} variation{'s' if count != 1 else ''}"
        if bars and song is None:
            text += f" of bar {bars[0]}" if bars[0] == bars[1] else f" of bars {bars[0]}–{bars[1]}"
        if song is None and (done.candidates or 1) > 1:
            text += f" (each the best of {done.candidates})"
        if latency is not None:
            text += f" in {seconds(latency)}"
        if self.shown_seed is not None:
            text += f" (seed {self.shown_seed})"
        if done.key is not None:
            text += f", in {done.key}"
        self.show_info(text + ".")

    def _on_request_failed(self, request: SentRequest, error: Failure) -> None:
        if request.request_id != self._in_flight:
            return
        self._in_flight = None
        self._request_finished()
        no_answer = error.code is LocalError.NO_ANSWER
        self.progress_bar.setFormat("no answer" if no_answer else "failed")
        if no_answer:
            self.start_engine_button.setVisible(True)
            self.show_error(self._no_engine_text())
            return
        self.show_error(error_text(error))

    def _on_request_cancelled(self, request: SentRequest) -> None:
        if request.request_id != self._in_flight:
            return
        self._in_flight = None
        self._in_flight_source = None
        self._request_finished()
        self.progress_bar.setValue(0)
        if self.progress_bar.format() != "lost":
            self.progress_bar.setFormat("cancelled")
            self.show_info("Cancelled.")

    def _on_engine_error(self, error: EngineError) -> None:
        if error.code is ErrorCode.JAM:  # the jam tab shows these (and forwards the user's own)
            return
        self.show_error(error_text(error))

    def _check_engine_process(self) -> None:
        assert self.engine_process is not None
        code = self.engine_process.exit_code()
        if code is not None:
            self._engine_watch.stop()
            self.start_engine_button.setEnabled(True)
            self.show_error(f"The engine the panel started has stopped (exit status {code}); "
                            "its log is in the terminal the panel was started from.")

    # ---- internal --------------------------------------------------------------------

    def _request_finished(self) -> None:
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _index(self) -> int:
        return self._shown.index if self._shown is not None else 0

    def _write_shown(self, path: str) -> str:
        """Write the shown variation to ``path``; returns how, for the status line."""
        assert self._shown is not None
        shown, request = self._shown, self._shown.result.request
        song = shown.result.done.song
        if song is not None:  # its parts as named tracks, its phrases as markers
            markers, beat = [], 0.0
            for phrase in song.phrases:
                markers.append((beat, phrase.letter))
                beat += phrase.bars * BEATS_PER_BAR
            write_tracks(path, [(_PART_TRACKS.get(name, name), notes)
                                for name, notes in shown.result.parts],
                         tempo=self._result_tempo(), markers=markers)
            return ": the tracks " + ", ".join(_PART_TRACKS.get(name, name)
                                               for name, _ in shown.result.parts)
        bars, source = request.params.bars, shown.source
        midi = None if source is None else result_file(source.clip, request.task, shown.notes,
                                                       bars=bars, track=source.track)
        if source is None or midi is None:
            write_clip(path, shown.notes, tempo=self._result_tempo())
            return ""
        midi.save(path)
        clip = source.clip
        if request.task == "accompany":
            return f": {clip.name} plus an accompaniment track"
        track = source.track
        which = "every track" if track is None else f"track {clip.tracks[track].name!r}"
        assert bars is not None  # an infill result written into its file
        return (f": {clip.name} with bars {bars[0]}–{bars[1]} of {which} replaced, every "
                "other event as it was")

    def _fill_track_combo(self) -> None:
        self.track_combo.clear()
        self.track_combo.addItem("All tracks", None)
        tracks = self._clip.tracks if self._clip is not None else ()
        for index, track in enumerate(tracks):
            if track.notes:
                self.track_combo.addItem(
                    f"{index + 1} {track.name} ({len(track.notes)} notes)", index)
        self._update_track_picker()

    def _update_track_picker(self) -> None:
        """Infill regenerates the picked track; accompany follows it as the melody."""
        picks = self.task in ("infill", "accompany") and self.track_combo.count() > 2
        self.track_combo.setEnabled(picks)
        self.track_label.setText("Melody" if self.task == "accompany" else "Regenerate")
        self.track_combo.setItemText(
            0, "All tracks (as one melody)" if self.task == "accompany" else "All tracks")

    def _result_tempo(self) -> float:
        if self._shown is not None:
            return self._shown.result.request.params.tempo
        return self._clip.tempo if self._clip is not None else RequestParams.tempo

    def _infill_range(self) -> tuple[int, int]:
        return self.first_bar_spin.value(), self.last_bar_spin.value()

    def _show_input(self) -> None:
        notes = self._clip.notes if self._clip is not None else ()
        target = self._infill_range() if self.task == "infill" else None
        phrases = (self.form_editor.phrases or ()) if self.task == RequestKind.SONG else ()
        n_bars = sum(phrase.bars for phrase in phrases) or self.bars_spin.value()
        self.roll.set_clip(notes, n_bars=n_bars, target=target)
        self.roll.set_phrases(phrases)
        self.legend.setText(_SONG_LEGEND if phrases else _CLIP_LEGEND)
        self._show_typed_chords()
        title = self._clip.name if self._clip is not None else "empty clip"
        self.roll_kind.setText("<b>Input</b>:")
        self.roll_title.setText(title)
        self.variation_label.setText("no result")
        self.variation_label.setToolTip("")
        self.seed_button.setText("seed –")
        _fit_button(self.seed_button)
        self._update_result_controls()

    def _show_result(self) -> None:
        assert self._shown is not None
        result = self._shown.result
        n_bars = int(result.done.info.get("n_bars", self.bars_spin.value()))
        song = result.done.song
        self.roll.set_clip(
            self.heard_notes(), n_bars=n_bars,
            generated=result.done.bars if song is None else None,
            given=self._accompanied(), roles=result.parts,
        )
        self.roll.set_phrases(song.phrases if song is not None else ())
        self.legend.setText(_CLIP_LEGEND if song is None else _SONG_LEGEND)
        if song is not None:
            self.roll.set_chords(bars_of_chords(song.chords, n_bars, beats_per_bar=BEATS_PER_BAR))
        else:
            self._show_typed_chords()
        count = len(result.variations)
        # the number alone: the row must fit 800 px with a ten-digit seed beside it
        self.variation_label.setText(f"{self._shown.index + 1} / {count}")
        self.variation_label.setToolTip(f"Variation {self._shown.index + 1} of {count}")
        seed = self.shown_seed
        self.seed_button.setText(f"seed {seed} ↺" if seed is not None else "seed –")
        _fit_button(self.seed_button)
        key = f" · key {self.shown_key}" if self.shown_key else ""
        self.roll_kind.setText("<b>Result</b>:")
        self.roll_title.setText(
            f"{_TASK_LABELS[result.request.task]}, {len(self._shown.notes)} notes" + key)
        self._update_result_controls()

    def _update_result_controls(self) -> None:
        count = len(self._shown.result.variations) if self._shown is not None else 0
        self.prev_button.setEnabled(count > 1)
        self.next_button.setEnabled(count > 1)
        self.save_button.setEnabled(self._shown is not None)
        self._update_history()
        self.use_result_button.setEnabled(self._shown is not None)
        self.seed_button.setEnabled(self.shown_seed is not None)
        self.drag_handle.setEnabled(self._shown is not None or self._clip is not None)
        bars = self._shown.result.done.bars if self._shown is not None else None
        self.drag_bars_handle.setEnabled(bars is not None)
        self.drag_bars_handle.setText(f"⇲ {bars[0]}–{bars[1]}" if bars else "⇲ Bars")
        _fit_button(self.drag_bars_handle)
        self._update_key_estimate()
        self._update_register_control()

    def _update_key_estimate(self) -> None:
        """Say which key the engine used for the shown result, and offer to keep it."""
        key = self.shown_key
        if key is None:
            self.key_estimate_label.setText("")
            self.use_key_button.setVisible(False)
        else:
            given = self._shown is not None and self._shown.result.request.params.key
            self.key_estimate_label.setText(
                f"The shown result is in {key} (the key you set)." if given else
                f"The engine estimated {key} for the shown result.")
            self.use_key_button.setVisible(not given)
        self._update_key_warning()

    def _update_key_warning(self) -> None:
        """Warn when most of the typed chords lie outside the key: the one set, else the
        one the engine estimated for the shown result."""
        progression = self.chords_editor.progression
        key, estimated = self.key, False
        if key is None:
            key, estimated = self.shown_key, True
        check = None
        if progression is not None and progression.n_bars and key is not None:
            try:
                check = check_key(progression, key)
            except ChordSymbolError:  # an engine's key the panel cannot read: no warning
                check = None
        if check is None or not check.contradicts:
            self.key_warning.setVisible(False)
            self.key_warning.setText("")
            return
        chords = ", ".join(check.outside[:6]) + ("…" if len(check.outside) > 6 else "")
        whose = (f"{key}, the key the engine estimated for the shown result" if estimated
                 else key)
        advice = ("set the Key to the one they are in" if estimated else
                  "set the Key to the one they are in, or to Auto to let the engine "
                  "estimate it")
        self.key_warning.setText(
            f"⚠ Most of these chords are outside {whose} ({chords}): the in-key notes "
            f"will clash with them. {advice[0].upper()}{advice[1:]}.")
        self.key_warning.setVisible(True)

    def _update_register_control(self) -> None:
        """"Stay below the melody" needs accompany with a melody, and an engine that reads
        it; say why when it is off."""
        reads = not self._engine_params or "below_melody" in self._engine_params
        melody = self.task == "accompany" and self._clip is not None
        self.below_melody_check.setEnabled(reads and melody)
        self.piano_register_check.setEnabled(
            self.task == "accompany" and "register" in self._engine_params)
        self.bass_anchor_check.setEnabled(
            self.task == "accompany" and "bass_anchor" in self._engine_params)
        self.clip_register_combo.setEnabled(
            self.task == "infill" and "register" in self._engine_params)
        if not reads:
            note = "This engine cannot keep the accompaniment below the melody."
        elif not melody:
            note = "For Accompany of an opened melody clip."
        else:
            note = ""
        self.register_note.setText(note)
        self.register_note.setVisible(bool(note))

    def _on_density_moved(self) -> None:
        """Moving the slider asks for that density (auto goes off)."""
        self.density_auto_check.setChecked(False)
        self._update_density_control()

    def _update_density_control(self) -> None:
        """Density needs a clip task and an engine that lists ``density``; say which
        density goes out, or why none does."""
        reads = "density" in self._engine_params
        clip_task = self.task != RequestKind.SONG
        for widget in (self.density_slider, self.density_auto_check, self.density_label):
            widget.setEnabled(reads and clip_task)
        if not reads:
            text = "This engine takes no density hint."
        elif not clip_task:
            text = "For Infill, Accompany and Generate."
        elif self.density_auto_check.isChecked():
            text = ("Auto: the engine asks for the data's typical density."
                    if self.task == RequestKind.ACCOMPANY else "Auto: the model chooses how busy.")
        else:
            text = (f"Asks for about {self.density_slider.value()} notes a bar (a hint the "
                    "model follows loosely).")
        self.density_value.setText(text)

    def _on_repeat_moved(self) -> None:
        """Moving the slider sets the strength (auto goes off)."""
        self.repeat_auto_check.setChecked(False)
        self._update_repeat_control()

    def _on_repeat_auto_toggled(self) -> None:
        self._update_repeat_control()

    def _repeat_default(self) -> float:
        """What the engine does for an infill that sends no ``repeat`` (with chords, it
        continues only the bars that repeat with the gap's own chords)."""
        return float(self._limits.default_repeat)

    def _chords_typed(self) -> bool:
        progression = self.chords_editor.progression
        return progression is not None and bool(progression.n_bars)

    def _update_repeat_control(self) -> None:
        """Continue repeated figures needs infill and an engine that lists ``repeat``; on
        auto the handle shows the engine's default."""
        reads = "repeat" in self._engine_params
        infill = self.task == RequestKind.INFILL
        for widget in (self.repeat_slider, self.repeat_auto_check, self.repeat_label):
            widget.setEnabled(reads and infill)
        auto = self.repeat_auto_check.isChecked()
        if auto:
            self.repeat_slider.blockSignals(True)
            self.repeat_slider.setValue(round(self._repeat_default() * _REPEAT_SCALE))
            self.repeat_slider.blockSignals(False)
        if not reads:
            text = "This engine cannot continue repeated figures."
        elif not infill:
            text = "Continue repeated figures: for Infill."
        elif auto:
            text = (f"Continue repeated figures: auto ({self._repeat_default():g}"
                    + ("; with chords: where they repeat too)" if self._chords_typed()
                       else ")"))
        else:
            value = self.repeat_slider.value() / _REPEAT_SCALE
            text = f"Continue repeated figures: {value:.2f}" + (" (fresh)" if value == 0 else "")
        self.repeat_value.setText(text)

    def _on_chords_changed(self) -> None:
        """Chords changed: the guidance note, the key warning and the roll's chord lane."""
        progression = self.chords_editor.progression
        self.guidance_note.setVisible(progression is not None and not progression.n_bars
                                      and self.task != RequestKind.SONG)
        if self._shown is None or self._shown.result.done.song is None:
            self._show_typed_chords()
        self._update_key_warning()
        self._update_repeat_control()  # the note says what chords change

    def _show_typed_chords(self) -> None:
        """The chord lane shows the typed progression (a song's result shows its own)."""
        progression = self.chords_editor.progression
        if progression is not None:
            self.roll.set_chords(progression.bars)

    def _on_form_changed(self) -> None:
        if self._shown is None and self.task == RequestKind.SONG:
            self._show_input()

    def _update_task_controls(self) -> None:
        infill = self.task == "infill"
        bars = self.bars_spin.value()
        before = self._infill_range()
        for spin in (self.first_bar_spin, self.last_bar_spin):
            spin.setEnabled(infill)
            spin.setMaximum(bars)
        after = self._infill_range()
        if after != before and infill and not self._loading:
            self.show_info(f"The infill range was bars {before[0]}–{before[1]}; the clip has "
                           f"{bars} bars, so it is now bars {after[0]}–{after[1]}.")  # fmt: skip
        self.range_label.setEnabled(infill)
        song = self.task == RequestKind.SONG  # its length is the form's, and it is one
        self.bars_spin.setEnabled(not song)
        self.variations_spin.setEnabled(not song)
        progression = self.chords_editor.progression
        self.guidance_note.setVisible(progression is not None and not progression.n_bars
                                      and not song)
        self._update_track_picker()
        self._update_register_control()
        self._update_density_control()
        self._update_repeat_control()
        if self._shown is None:
            self._show_input()

    def _on_range_changed(self) -> None:
        if self.first_bar_spin.value() > self.last_bar_spin.value():
            sender = self.sender()
            if sender is self.first_bar_spin:
                self.last_bar_spin.setValue(self.first_bar_spin.value())
            else:
                self.first_bar_spin.setValue(self.last_bar_spin.value())
        if self._shown is None:
            self.roll.set_target(self._infill_range() if self.task == "infill" else None)

    def _fit_candidates(self) -> None:
        """The most candidates the engine draws for the variations asked for (``max_rolls``
        samples a request, ``/diffjam/status``); a larger count is lowered by Qt."""
        per_variation = self._limits.max_rolls // max(1, self.variations_spin.value())
        self.candidates_spin.setMaximum(
            max(1, min(int(self._limits.candidates.high), per_variation)))

    def _on_sampling_changed(self) -> None:
        self.guidance_value.setText(f"{guidance_words(self.guidance)} ({self.guidance:.1f})")
        self.key_combo.setEnabled(True)
        self.mode_combo.setEnabled(self.key_combo.currentData() is not None)
        if not self._loading:
            self._settings_throttle()

    def _push_settings(self) -> None:
        if self.client.connected:
            self.client.send_settings(self.sampling_settings())

    def _choose_clip(self) -> None:
        start = str(self.settings.value("files/last_dir", os.path.expanduser("~")))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a MIDI clip", start, "MIDI files (*.mid *.midi)"
        )
        if path:
            self.open_clip(path)

    def _choose_save_path(self) -> None:
        if self._shown is None:
            return
        start = str(self.settings.value("files/last_dir", os.path.expanduser("~")))
        name = f"diffjam-{self._shown.result.request.task}-v{self._shown.index + 1}.mid"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the result", os.path.join(start, name), "MIDI files (*.mid)"
        )
        if path:
            self.save_result(path)

    # ---- persistence -----------------------------------------------------------------

    def load_settings(self) -> None:
        """Restore the controls from :attr:`settings` (missing keys keep the defaults)."""
        s = self.settings
        self._loading = True
        try:
            task = s.value("request/task", "infill")
            if task in TASKS:
                self.set_task(str(task))
            self.bars_spin.setValue(_int(s.value("request/bars"), self.bars_spin.value()))
            self.first_bar_spin.setMaximum(self.bars_spin.value())
            self.last_bar_spin.setMaximum(self.bars_spin.value())
            self.last_bar_spin.setValue(_int(s.value("request/last_bar"), 8))
            self.first_bar_spin.setValue(_int(s.value("request/first_bar"), 5))
            self.chords_editor.set_text(str(s.value("request/chords", "")))
            self.form_editor.set_text(str(s.value("request/form", "")))
            self.set_guidance(_float(s.value("sampling/guidance"), LIMITS.default_guidance))
            self.in_key_check.setChecked(_bool(s.value("sampling/in_key"), True))
            tonic = s.value("sampling/key_tonic", None)
            self.key_combo.setCurrentIndex(max(0, self.key_combo.findData(tonic)) if tonic else 0)
            self.mode_combo.setCurrentIndex(
                max(0, self.mode_combo.findData(s.value("sampling/key_mode", "major")))
            )
            self.steps_spin.setValue(_int(s.value("sampling/steps"), LIMITS.default_steps))
            self.variations_spin.setValue(_int(s.value("sampling/variations"), 1))
            self.below_melody_check.setChecked(_bool(s.value("sampling/below_melody"), False))
            self.piano_register_check.setChecked(
                _bool(s.value("sampling/piano_register"), True))
            self.bass_anchor_check.setChecked(_bool(s.value("sampling/bass_anchor"), False))
            self.clip_register_combo.setCurrentIndex(max(0, self.clip_register_combo.findData(
                {"on": True, "off": False}.get(str(s.value("sampling/clip_register", ""))))))
            self._load_density_repeat()
            for combo, key in ((self.sampler_combo, "sampling/sampler"),
                               (self.quality_combo, "sampling/quality")):  # fmt: skip
                combo.setCurrentIndex(max(0, combo.findData(s.value(key))))
            pitch_set = s.value("sampling/pitch_set", "")
            self.pitch_set_combo.setCurrentIndex(
                max(0, self.pitch_set_combo.findData(pitch_set)) if pitch_set else 0)
            self.guidance_below_spin.setValue(_float(s.value("sampling/guidance_below"), 0.0))
            self.candidates_spin.setValue(_int(s.value("sampling/candidates"), 0))
            geometry = s.value("window/geometry", None)
            if geometry is not None:
                self.restoreGeometry(geometry)
        finally:
            self._loading = False
        self._on_sampling_changed_quietly()
        self._on_chords_changed()
        self.jam.load_settings()

    def _load_density_repeat(self) -> None:
        """Density and the repeat strength, each with its auto state."""
        s = self.settings
        if s.value("sampling/density") is not None:
            self.density_slider.setValue(_int(s.value("sampling/density"),
                                              self.density_slider.value()))
        self.density_auto_check.setChecked(_bool(s.value("sampling/density_auto"), True))
        if s.value("sampling/repeat") is not None:
            self.repeat_slider.setValue(round(_float(s.value("sampling/repeat"), 0.0)
                                              * _REPEAT_SCALE))
        self.repeat_auto_check.setChecked(_bool(s.value("sampling/repeat_auto"), True))
        self._update_density_control()
        self._update_repeat_control()

    def _on_sampling_changed_quietly(self) -> None:
        self._loading = True
        try:
            self._on_sampling_changed()
        finally:
            self._loading = False

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("request/task", self.task)
        s.setValue("request/bars", self.bars_spin.value())
        s.setValue("request/first_bar", self.first_bar_spin.value())
        s.setValue("request/last_bar", self.last_bar_spin.value())
        s.setValue("request/chords", self.chords_editor.text())
        s.setValue("request/form", self.form_editor.text())
        s.setValue("sampling/guidance", self.guidance)
        s.setValue("sampling/in_key", self.in_key_check.isChecked())
        s.setValue("sampling/key_tonic", self.key_combo.currentData() or "")
        s.setValue("sampling/key_mode", self.mode_combo.currentData())
        s.setValue("sampling/steps", self.steps_spin.value())
        s.setValue("sampling/variations", self.variations_spin.value())
        s.setValue("sampling/below_melody", self.below_melody_check.isChecked())
        s.setValue("sampling/piano_register", self.piano_register_check.isChecked())
        s.setValue("sampling/bass_anchor", self.bass_anchor_check.isChecked())
        s.setValue("sampling/clip_register",
                   {True: "on", False: "off"}.get(self.clip_register_combo.currentData(), "auto"))
        s.setValue("sampling/pitch_set", self.pitch_set_combo.currentData() or "")
        s.setValue("sampling/guidance_below", self.guidance_below_spin.value())
        s.setValue("sampling/candidates", self.candidates_spin.value())
        s.setValue("sampling/density", self.density_slider.value())
        s.setValue("sampling/density_auto", self.density_auto_check.isChecked())
        s.setValue("sampling/repeat", self.repeat_slider.value() / _REPEAT_SCALE)
        s.setValue("sampling/repeat_auto", self.repeat_auto_check.isChecked())
        s.setValue("sampling/sampler", self.sampler_combo.currentData())
        s.setValue("sampling/quality", self.quality_combo.currentData())
        s.setValue("window/geometry", self.saveGeometry())
        self.jam.save_settings()
        s.sync()

    def closeEvent(self, event: QCloseEvent | None) -> None:  # noqa: N802 - Qt API
        self.audition.stop()
        if self._midi_port is not None:
            self._midi_port.close()
            self._midi_port = None
        self.save_settings()
        self._settings_throttle.flush()
        self.client.close()
        if self.engine_process is not None:
            self.engine_process.stop()
        if self._drag_dir is not None:
            shutil.rmtree(self._drag_dir, ignore_errors=True)
            self._drag_dir = None
        super().closeEvent(event)


def _midi_output_names() -> list[str]:
    """The MIDI output ports, or none when there is no MIDI system (no backend, no ALSA)."""
    try:
        return list(mido.get_output_names())
    except (OSError, ImportError, RuntimeError) as err:
        log.info("no MIDI outputs for auditioning: %s", err)
        return []


def _density_range(limits: Limits) -> tuple[int, int]:
    """The Density slider's notes a bar: the engine's range without its 0 ("no hint",
    which is not a point between sparser and denser)."""
    return max(1, int(limits.density.low)), int(limits.density.high)


def _add_slider_rows(form: QFormLayout, name: str, ends: tuple[str, str], slider: QSlider,
                     auto: QCheckBox, tip: str) -> tuple[QLabel, QLabel]:
    """A musical control's two rows: ``name`` with the slider between its two ends, then
    the auto box (checked: nothing is sent) beside the value line; returns the name label
    and the value label."""
    auto.setChecked(True)
    for widget in (slider, auto):
        widget.setToolTip(tip)
    row = QHBoxLayout()
    row.addWidget(QLabel(ends[0]))
    row.addWidget(slider, 1)
    row.addWidget(QLabel(ends[1]))
    label, value = QLabel(name), QLabel()
    form.addRow(label, row)
    form.addRow("", _auto_row(auto, value))
    return label, value


def _auto_row(auto: QCheckBox, value: QLabel) -> QHBoxLayout:
    """A slider's second row: its "auto" box, then what it sends in words."""
    value.setWordWrap(True)
    value.setStyleSheet("color: #8a8f98;")
    row = QHBoxLayout()
    row.addWidget(auto, 0, Qt.AlignmentFlag.AlignTop)
    row.addWidget(value, 1)
    return row


def _fit_button(button: QPushButton) -> None:
    """As wide as its text (a style's minimum push-button width would not let the result
    row fit 800 px)."""
    button.setFixedWidth(button.fontMetrics().horizontalAdvance(button.text()) + 14)


def song_support(status: Status) -> str:
    """Why the engine of ``status`` cannot write songs, in plain words ("" when it can)."""
    if RequestKind.SONG not in status.tasks:
        return ("This engine cannot write whole songs: it is an older diffjam. Update it to "
                "write songs from a form; everything else works as before.")
    if not status.lead_sheet:
        return ("This engine cannot write whole songs: it has no lead-sheet model (the "
                "model that writes a song's melody and chords). Everything else works.")
    return ""


def guidance_words(guidance: float) -> str:
    """How closely a guidance scale follows the chords, in words."""
    if guidance == 0:
        return "ignores them"
    if guidance < 2:
        return "loosely"
    if guidance < 6:
        return "closely"
    return "strictly"


def _unless_default(combo: QComboBox, default: str) -> str | None:
    """A menu's choice, ``None`` when it is the engine's default (so it is not sent)."""
    value = str(combo.currentData())
    return None if value == default else value


def milliseconds(value: float) -> str:
    """A latency for people: ``"1234 ms"``, ``"42 ms"``, ``"0.4 ms"``."""
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def seconds(value_ms: float) -> str:
    """A duration for people, from milliseconds: ``"0.04 s"``, ``"1.2 s"``, ``"12 s"``."""
    value = value_ms / 1000
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s" if value >= 1 else f"{value:.2f} s"


def device_text(device: str) -> str:
    """``"cuda:0"`` -> ``"GPU (cuda:0)"``, ``"cpu"`` -> ``"CPU"``, ``""`` -> ``"–"``."""
    if not device:
        return "–"
    if device.lower().startswith(("cuda", "mps", "gpu", "rocm", "xpu")):
        return f"GPU ({device})"
    return "CPU" if device.lower() == "cpu" else device


def _int(value: object, default: int) -> int:
    """A saved setting as an int (an ini file gives strings), else ``default``."""
    if not isinstance(value, str | int | float):
        return default
    try:
        return int(value)
    except (ValueError, OverflowError):
        return default


def _float(value: object, default: float) -> float:
    """A saved setting as a float, else ``default``."""
    if not isinstance(value, str | int | float):
        return default
    try:
        return float(value)
    except ValueError:
        return default


def _bool(value: object, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return default
