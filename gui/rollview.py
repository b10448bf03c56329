"""The piano-roll view: a clip drawn with its generated bars told apart.

Custom painting on a plain widget (a clip holds at most a few thousand notes, so a
scene graph buys nothing). Context notes are drawn in blue-grey, generated ones in
orange, and the generated bar range is shaded; before a result arrives, the bar range
that is about to be regenerated is outlined instead. Dragging across bars (or clicking
one) emits :attr:`RollView.bars_selected`, so the panel can make them the infill range;
dragging the clip out to a DAW is the panel's handle's job. The audition's playhead is
drawn as a green line.

A song is drawn by role instead (:data:`ROLE_COLORS`: melody, chords, accompaniment),
its phrases as coloured blocks along the top (the form editor's colours) and its chords
in the chord lane.
"""

from __future__ import annotations

from collections.abc import Sequence

from gui.clip import BEATS_PER_BAR, ClipNote
from gui.editors import phrase_color
from gui.qt import (
    QApplication,
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPointF,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QWidget,
    Signal,
)
from wire.form import Phrase

__all__ = ["CONTEXT_COLOR", "GENERATED_COLOR", "PLAYHEAD_COLOR", "ROLE_COLORS", "RollView"]

CONTEXT_COLOR = QColor(96, 125, 160)
GENERATED_COLOR = QColor(240, 140, 40)
PLAYHEAD_COLOR = QColor(90, 230, 120)
# a song's parts (wire.protocol.SONG_PARTS)
ROLE_COLORS = {
    "melody": QColor(240, 200, 60), "chords": QColor(170, 120, 220),
    "accompaniment": QColor(80, 190, 170),
}  # fmt: skip
_SHADE = QColor(240, 140, 40, 38)
_TARGET_OUTLINE = QColor(240, 140, 40)
_BACKGROUND = QColor(28, 30, 34)
_BLACK_KEY_LANE = QColor(22, 24, 27)
_BAR_LINE = QColor(110, 114, 122)
_BEAT_LINE = QColor(52, 55, 61)
_TEXT = QColor(200, 203, 208)
_BLACK_KEYS = {1, 3, 6, 8, 10}
_KEYBOARD_WIDTH = 34
_HEADER_HEIGHT = 18
_CHORD_LANE_HEIGHT = 18
_PHRASE_LANE_HEIGHT = 16
_CHORD_TEXT = QColor(230, 200, 120)
_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class RollView(QWidget):
    """Shows one clip; ``generated`` is the 1-based inclusive bar range the engine wrote."""

    bars_selected = Signal(int, int)  # first, last bar (1-based, inclusive), while dragging

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._notes: tuple[ClipNote, ...] = ()
        self._n_bars = 0
        self._generated: tuple[int, int] | None = None
        self._target: tuple[int, int] | None = None
        self._given: set[tuple[float, int, float]] = set()
        self._press: QPointF | None = None
        self._playhead: float | None = None
        self._chords: tuple[tuple[str, ...], ...] = ()
        self._roles: dict[ClipNote, str] = {}
        self._phrases: tuple[Phrase, ...] = ()
        self.setMinimumSize(300, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._press_bar: int | None = None
        self.setToolTip("Drag across bars to choose the bars to regenerate")

    # ---- state -----------------------------------------------------------------------

    @property
    def notes(self) -> tuple[ClipNote, ...]:
        return self._notes

    @property
    def n_bars(self) -> int:
        return self._n_bars

    @property
    def generated(self) -> tuple[int, int] | None:
        return self._generated

    @property
    def target(self) -> tuple[int, int] | None:
        """The outlined bar range about to be regenerated (1-based, inclusive)."""
        return self._target

    def set_clip(
        self,
        notes: Sequence[ClipNote],
        *,
        n_bars: int,
        generated: tuple[int, int] | None = None,
        target: tuple[int, int] | None = None,
        given: Sequence[ClipNote] = (),
        roles: Sequence[tuple[str, Sequence[ClipNote]]] = (),
    ) -> None:
        """Show ``notes`` over ``n_bars`` bars.

        ``generated`` (a result) shades those bars and colours their notes as generated,
        except notes the request itself sent (``given``: a melody to accompany keeps its
        context colour inside the generated bars); ``target`` (an input clip) outlines the
        bars a request would regenerate. ``roles`` (a song: ``(role, notes)`` per part)
        colours each note by its part's :data:`ROLE_COLORS` instead.
        """
        self._notes = tuple(notes)
        self._roles = {note: role for role, part in roles for note in part}
        self._given = {(note.start, note.pitch, note.duration) for note in given}
        last_beat = max((note.end for note in self._notes), default=0.0)
        self._n_bars = max(n_bars, int(-(-last_beat // BEATS_PER_BAR)))
        self._generated = generated
        self._target = target
        self.update()

    def set_chords(self, bars: Sequence[Sequence[str]]) -> None:
        """The chord lane: the symbols of each bar, repeated over the clip when shorter
        (as the engine repeats a short progression); ``()`` hides the lane."""
        self._chords = tuple(tuple(bar) for bar in bars)
        self.update()

    def set_phrases(self, phrases: Sequence[Phrase]) -> None:
        """A song's phrases, drawn along the top from bar 1; ``()`` hides the lane."""
        self._phrases = tuple(phrases)
        self.update()

    @property
    def phrases(self) -> tuple[Phrase, ...]:
        return self._phrases

    def role_of(self, note: ClipNote) -> str | None:
        """The song part ``note`` belongs to (None: not a song's note)."""
        return self._roles.get(note)

    def note_color(self, note: ClipNote) -> QColor:
        """The colour ``note`` is drawn in: its role's, else generated or context."""
        role = self._roles.get(note)
        if role is not None:
            return ROLE_COLORS.get(role, GENERATED_COLOR)
        return GENERATED_COLOR if self.is_generated(note) else CONTEXT_COLOR

    def chords_at(self, bar: int) -> tuple[str, ...]:
        """The chord symbols the lane shows over ``bar`` (1-based)."""
        return self._chords[(bar - 1) % len(self._chords)] if self._chords else ()

    @property
    def playhead(self) -> float | None:
        """The audition's position in beats (``None``: not playing)."""
        return self._playhead

    def set_playhead(self, beat: float | None) -> None:
        if beat != self._playhead:
            self._playhead = beat
            self.update()

    def set_target(self, target: tuple[int, int] | None) -> None:
        self._target = target
        self.update()

    def is_generated(self, note: ClipNote) -> bool:
        """Whether ``note`` starts inside the generated bars and is not one the user gave."""
        if self._generated is None or (note.start, note.pitch, note.duration) in self._given:
            return False
        first, last = self._generated
        return (first - 1) * BEATS_PER_BAR <= note.start < last * BEATS_PER_BAR

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(800, 420)

    # ---- painting --------------------------------------------------------------------

    def _pitch_span(self) -> tuple[int, int]:
        if not self._notes:
            return 48, 84
        low = min(note.pitch for note in self._notes) - 2
        high = max(note.pitch for note in self._notes) + 3
        while high - low < 24:
            low, high = low - 1, high + 1
        return max(0, low), min(128, high)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.fillRect(self.rect(), _BACKGROUND)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        if self._n_bars == 0:
            painter.setPen(_TEXT)
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No clip yet: open a MIDI file, or generate",
            )
            painter.end()
            return
        low, high = self._pitch_span()
        chord_lane = float(_CHORD_LANE_HEIGHT if self._chords else 0)
        phrase_lane = float(_PHRASE_LANE_HEIGHT if self._phrases else 0)
        header = phrase_lane + _HEADER_HEIGHT
        left, top = float(_KEYBOARD_WIDTH), header + chord_lane
        width = max(1.0, self.width() - left - 4)
        height = max(1.0, self.height() - top - 4)
        beats = self._n_bars * BEATS_PER_BAR
        x_per_beat = width / beats
        lane = height / (high - low)

        def y_of(pitch: int) -> float:
            return top + (high - 1 - pitch) * lane

        for pitch in range(low, high):
            if pitch % 12 in _BLACK_KEYS:
                painter.fillRect(QRectF(left, y_of(pitch), width, lane), _BLACK_KEY_LANE)
            if pitch % 12 == 0:
                painter.setPen(_TEXT)
                painter.drawText(
                    QRectF(0, y_of(pitch) - 6, left - 4, lane + 12),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    f"C{pitch // 12 - 1}",
                )
        self._paint_spans(painter, QRectF(left, top, width, height), x_per_beat)
        for beat in range(beats + 1):
            x = left + beat * x_per_beat
            on_bar = beat % BEATS_PER_BAR == 0
            if not on_bar and x_per_beat < 6:
                continue
            painter.setPen(_BAR_LINE if on_bar else _BEAT_LINE)
            painter.drawLine(QPointF(x, top), QPointF(x, top + height))
        label_every = max(1, int(28 // max(1.0, BEATS_PER_BAR * x_per_beat)) + 1)
        painter.setPen(_TEXT)
        for bar in range(0, self._n_bars, label_every):
            x = left + bar * BEATS_PER_BAR * x_per_beat
            painter.drawText(QRectF(x + 3, phrase_lane, 40, _HEADER_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter, str(bar + 1))
        for note in self._notes:
            if not low <= note.pitch < high:
                continue
            shade = QColor(self.note_color(note))
            shade.setAlpha(110 + int(145 * note.velocity / 127))
            rect = QRectF(
                left + note.start * x_per_beat,
                y_of(note.pitch),
                max(2.0, note.duration * x_per_beat - 1),
                max(2.0, lane - 1),
            )
            painter.fillRect(rect, shade)
        if chord_lane:
            self._paint_chords(painter, left, x_per_beat, header, chord_lane)
        if phrase_lane:
            self._paint_phrases(painter, left, x_per_beat * BEATS_PER_BAR, phrase_lane)
        if self._playhead is not None and 0 <= self._playhead <= beats:
            x = left + self._playhead * x_per_beat
            painter.setPen(QPen(PLAYHEAD_COLOR, 2))
            painter.drawLine(QPointF(x, top), QPointF(x, top + height))
        painter.end()

    def _paint_spans(self, painter: QPainter, area: QRectF, x_per_beat: float) -> None:
        """The generated bars shaded and the target bars outlined, over ``area``."""
        for span, fill in ((self._generated, True), (self._target, False)):
            if span is None:
                continue
            first, last = span
            rect = QRectF(
                area.left() + (first - 1) * BEATS_PER_BAR * x_per_beat,
                area.top(),
                (last - first + 1) * BEATS_PER_BAR * x_per_beat,
                area.height(),
            )
            if fill:
                painter.fillRect(rect, _SHADE)
            else:
                pen = QPen(_TARGET_OUTLINE)
                pen.setStyle(Qt.PenStyle.DashLine)
                pen.setWidth(2)
                painter.setPen(pen)
                painter.drawRect(rect.adjusted(1, 1, -1, -1))

    def _paint_phrases(self, painter: QPainter, left: float, bar_width: float,
                       lane: float) -> None:
        """The phrases as blocks in their colours, each named where it fits."""
        bar = 0
        for phrase in self._phrases:
            rect = QRectF(left + bar * bar_width, 0, phrase.bars * bar_width, lane - 2)
            painter.fillRect(rect.adjusted(0, 0, -1, 0), phrase_color(phrase.letter))
            if rect.width() > 14:
                painter.setPen(QColor(255, 255, 255))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                                 f"{phrase.letter}{phrase.bars}" if rect.width() > 28
                                 else phrase.letter)
            bar += phrase.bars

    def _paint_chords(self, painter: QPainter, left: float, x_per_beat: float,
                      header: float, chord_lane: float) -> None:
        """Each bar's chord symbols in the lane under the bar numbers."""
        painter.setPen(_CHORD_TEXT)
        bar_width = BEATS_PER_BAR * x_per_beat
        font = painter.font()
        for bar in range(self._n_bars):
            symbols = self.chords_at(bar + 1)
            for index, symbol in enumerate(symbols):
                slot = bar_width / len(symbols)
                painter.setFont(_fitted(font, symbol, slot - 3))
                shown = symbol if painter.fontMetrics().horizontalAdvance(symbol) <= slot - 3 \
                    else "…"  # a cut symbol would name another chord ("Cmaj7" -> "Cma")
                painter.drawText(QRectF(left + bar * bar_width + index * slot + 3,
                                        header, slot - 3, chord_lane),
                                 Qt.AlignmentFlag.AlignVCenter, shown)  # fmt: skip
        painter.setFont(font)

    @staticmethod
    def pitch_name(pitch: int) -> str:
        return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"

    # ---- dragging out ----------------------------------------------------------------

    def bar_at(self, x: float) -> int:
        """The bar (1-based, clamped to the clip) under the widget x coordinate ``x``."""
        width = max(1.0, self.width() - _KEYBOARD_WIDTH - 4)
        bar_width = width / max(1, self._n_bars)
        return min(max(1, int((x - _KEYBOARD_WIDTH) // bar_width) + 1), max(1, self._n_bars))

    # Qt passes an event to its handlers every time; the bindings' stubs say "or None"
    def mousePressEvent(self, event: QMouseEvent | None) -> None:  # noqa: N802 - Qt API
        if event is None:
            return
        if event.button() == Qt.MouseButton.LeftButton and self._n_bars:
            self._press = event.position()
            self._press_bar = self.bar_at(event.position().x())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:  # noqa: N802 - Qt API
        if event is None:
            return
        if self._press_bar is not None and event.buttons() & Qt.MouseButton.LeftButton:
            moved = (event.position() - self._press).manhattanLength() if self._press else 0
            if moved >= QApplication.startDragDistance():
                bar = self.bar_at(event.position().x())
                self.bars_selected.emit(min(bar, self._press_bar), max(bar, self._press_bar))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:  # noqa: N802 - Qt API
        if event is None:
            return
        if self._press_bar is not None and event.button() == Qt.MouseButton.LeftButton:
            bar = self.bar_at(event.position().x())  # a click selects one bar
            self.bars_selected.emit(min(bar, self._press_bar), max(bar, self._press_bar))
        self._press = None
        self._press_bar = None
        super().mouseReleaseEvent(event)


def _fitted(font: QFont, text: str, width: float) -> QFont:
    """``font``, down to 70 % of its size when ``text`` is wider than ``width``."""
    natural = QFontMetrics(font).horizontalAdvance(text)
    if natural <= width or natural == 0 or font.pointSizeF() <= 0:  # <= 0: sized in pixels
        return font
    smaller = QFont(font)
    smaller.setPointSizeF(max(font.pointSizeF() * 0.7, font.pointSizeF() * width / natural))
    return smaller
