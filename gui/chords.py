"""The panel's chord progression: bars of chord symbols, read with the engine's grammar.

There is one chord grammar, :mod:`wire.chords` (``engine.harmony`` uses it too), so a
progression the panel accepts the engine reads, and the other way round. This module only
keeps the panel's view of it: the symbols of each bar as typed, or as a song's lead sheet
placed them (:func:`bars_of_chords`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wire.chords import ChordSymbolError, Key, parse_key, parse_symbol, split_progression
from wire.protocol import ChordLabel

__all__ = [
    "ChordSymbolError",
    "KeyCheck",
    "Progression",
    "bars_of_chords",
    "check_key",
    "check_symbol",
    "parse_progression",
]

# Tones a minor key's chords take beyond the natural minor scale: the raised 6th and 7th
# (melodic and harmonic minor: E7 and G#dim in A minor are in the key).
_MINOR_EXTRA = (9, 11)


def check_symbol(text: str) -> None:
    """Raise :class:`ChordSymbolError` unless ``text`` is one readable chord symbol."""
    parse_symbol(text)


@dataclass(frozen=True)
class Progression:
    """A validated progression: the chord symbols of each bar, in order."""

    bars: tuple[tuple[str, ...], ...]

    @property
    def n_bars(self) -> int:
        return len(self.bars)

    def text(self) -> str:
        """The progression as the engine reads it (bar lines only where a bar has several)."""
        if all(len(bar) == 1 for bar in self.bars):
            return " ".join(bar[0] for bar in self.bars)
        return " | ".join(" ".join(bar) for bar in self.bars)


def bars_of_chords(chords: Sequence[ChordLabel], n_bars: int, *, beats_per_bar: int = 4
                   ) -> tuple[tuple[str, ...], ...]:
    """A song's chords as the chord lane shows them: per bar, the symbols of the chords
    that sound in it, in order, a chord repeated back to back once."""
    bars: list[tuple[str, ...]] = []
    for bar in range(n_bars):
        low, high = bar * beats_per_bar, (bar + 1) * beats_per_bar
        symbols: list[str] = []
        for chord in chords:
            if chord.start < high and chord.start + chord.duration > low and (
                    not symbols or symbols[-1] != chord.symbol):
                symbols.append(chord.symbol)
        bars.append(tuple(symbols))
    return tuple(bars)


def parse_progression(text: str) -> Progression:
    """Validate a typed progression (:func:`wire.chords.split_progression`): raises
    :class:`ChordSymbolError` naming the bad symbol and its bar. Empty text is an empty
    progression."""
    return Progression(bars=split_progression(text))


@dataclass(frozen=True)
class KeyCheck:
    """How a progression sits in a key: the chord symbols (each once, in order) with a
    tone outside the key, and how many distinct chords there are."""

    key: Key
    outside: tuple[str, ...]
    n_chords: int

    @property
    def contradicts(self) -> bool:
        """Whether most of the chords lie outside the key (more than half of them)."""
        return 2 * len(self.outside) > self.n_chords


def check_key(progression: Progression, key: str) -> KeyCheck:
    """Which chords of ``progression`` leave ``key`` (``"A minor"``, read with
    :func:`wire.chords.parse_key`; raises :class:`ChordSymbolError`).

    A chord is in the key when every tone is on its scale; a minor key also takes its
    raised 6th and 7th. "N" (no chord) is skipped.
    """
    parsed = parse_key(key)
    scale = {pc for pc in range(12) if parsed.scale_mask()[pc]}
    if parsed.mode == "minor":
        scale |= {(parsed.tonic + step) % 12 for step in _MINOR_EXTRA}
    symbols = list(dict.fromkeys(symbol for bar in progression.bars for symbol in bar))
    chords = [(symbol, parse_symbol(symbol)) for symbol in symbols]
    chords = [(symbol, chord) for symbol, chord in chords if not chord.is_no_chord]
    outside = tuple(symbol for symbol, chord in chords
                    if any(chord.chroma[pc] and pc not in scale for pc in range(12)))
    return KeyCheck(key=parsed, outside=outside, n_chords=len(chords))
