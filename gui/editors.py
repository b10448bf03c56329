"""Text editors that validate as you type: the chord progression and the song form."""

from __future__ import annotations

from gui.chords import ChordSymbolError, Progression, parse_progression
from gui.qt import (
    QColor,
    QLabel,
    QLineEdit,
    QPainter,
    QPaintEvent,
    QRectF,
    QSize,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from wire.form import FormError, Phrase, parse_form

__all__ = ["FormBlocks", "FormEditor", "ProgressionEditor", "phrase_color"]

_OK = "color: #5a9e5a;"
_BAD = "color: #d05050;"
_NOTE = "color: #b08a30;"
_PHRASE_PALETTE = (
    QColor(86, 140, 200), QColor(224, 132, 56), QColor(96, 176, 110), QColor(190, 92, 160),
    QColor(200, 180, 70), QColor(90, 180, 190), QColor(170, 110, 80), QColor(140, 120, 210),
)  # fmt: skip


def phrase_color(letter: str) -> QColor:
    """A stable colour per phrase letter (``A`` is always the same blue); lower case is grey."""
    if letter.islower():
        return QColor(120, 124, 130) if letter in "io" else QColor(150, 150, 150)
    return _PHRASE_PALETTE[(ord(letter) - ord("A")) % len(_PHRASE_PALETTE)]


class ProgressionEditor(QWidget):
    """A line edit for a chord progression with a verdict line under it.

    ``progression`` is the last valid progression (``None`` while the text is invalid).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("e.g. C G Am F  or  C G | Am F F#m7b5 | Bb/D")
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.verdict)
        self._progression: Progression | None = Progression(bars=())
        self._error: ChordSymbolError | None = None
        self.edit.textChanged.connect(self._validate)
        self._validate(self.edit.text())

    @property
    def progression(self) -> Progression | None:
        return self._progression

    @property
    def error(self) -> ChordSymbolError | None:
        return self._error

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def _validate(self, text: str) -> None:
        try:
            self._progression = parse_progression(text)
            self._error = None
        except ChordSymbolError as err:
            self._progression = None
            self._error = err
            self.verdict.setText(str(err))
            self.verdict.setStyleSheet(_BAD)
            self.edit.setStyleSheet("border: 1px solid #d05050;")
        else:
            bars = self._progression.n_bars
            self.verdict.setText(
                "no chords: the engine chooses"
                if bars == 0
                else f"{bars} bar{'s' if bars != 1 else ''} of chords"
            )
            self.verdict.setStyleSheet(_OK)
            self.edit.setStyleSheet("")
        self.changed.emit()


class FormBlocks(QWidget):
    """Draws a form as coloured blocks, one per phrase, as wide as its bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._phrases: tuple[Phrase, ...] = ()
        self.setMinimumHeight(26)

    @property
    def phrases(self) -> tuple[Phrase, ...]:
        return self._phrases

    def set_phrases(self, phrases: tuple[Phrase, ...]) -> None:
        self._phrases = phrases
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(300, 26)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        total = sum(phrase.bars for phrase in self._phrases)
        if total == 0:
            painter.setPen(QColor(140, 140, 140))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no form")
            painter.end()
            return
        x = 0.0
        per_bar = (self.width() - 1) / total
        for phrase in self._phrases:
            rect = QRectF(x, 0, phrase.bars * per_bar, self.height() - 1)
            painter.fillRect(rect.adjusted(0, 0, -1, 0), phrase_color(phrase.letter))
            painter.setPen(QColor(255, 255, 255))
            if rect.width() > 18:
                painter.drawText(
                    rect, Qt.AlignmentFlag.AlignCenter, f"{phrase.letter}{phrase.bars}"
                )
            x += rect.width()
        painter.end()


class FormEditor(QWidget):
    """A line edit for a form string, its phrase blocks and a verdict line.

    :meth:`set_engine_note` says when the engine cannot write songs from a form.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("e.g. i4A8B8A8o4 (phrase letter + bars)")
        self.blocks = FormBlocks()
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.engine_note = QLabel()
        self.engine_note.setWordWrap(True)
        self.engine_note.setStyleSheet(_NOTE)
        self.engine_note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.blocks)
        layout.addWidget(self.verdict)
        layout.addWidget(self.engine_note)
        self._phrases: tuple[Phrase, ...] | None = ()
        self._error: FormError | None = None
        self.edit.textChanged.connect(self._validate)
        self._validate(self.edit.text())

    @property
    def phrases(self) -> tuple[Phrase, ...] | None:
        """The phrases of a valid form, ``None`` while the text is invalid."""
        return self._phrases

    @property
    def error(self) -> FormError | None:
        return self._error

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def set_engine_note(self, text: str) -> None:
        self.engine_note.setText(text)
        self.engine_note.setVisible(bool(text))

    def _validate(self, text: str) -> None:
        try:
            self._phrases = parse_form(text)
            self._error = None
        except FormError as err:
            self._phrases = None
            self._error = err
            self.verdict.setText(str(err))
            self.verdict.setStyleSheet(_BAD)
            self.edit.setStyleSheet("border: 1px solid #d05050;")
            self.blocks.set_phrases(())
        else:
            total = sum(phrase.bars for phrase in self._phrases)
            self.verdict.setText(
                f"{len(self._phrases)} phrases, {total} bars" if self._phrases else ""
            )
            self.verdict.setStyleSheet(_OK)
            self.edit.setStyleSheet("")
            self.blocks.set_phrases(self._phrases)
        self.changed.emit()
