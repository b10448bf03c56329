"""The panel's chord progression: bars of chord symbols, read with the engine's grammar.

There is one chord grammar, :mod:`wire.chords` (``engine.harmony`` uses it too), so a
progression the panel accepts the engine reads, and the other way round. This module only
keeps the panel's view of it: the symbols of each bar as typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.chords import ChordSymbolError, parse_symbol, split_progression

__all__ = ["ChordSymbolError", "Progression", "check_symbol", "parse_progression"]


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


def parse_progression(text: str) -> Progression:
    """Validate a typed progression (:func:`wire.chords.split_progression`): raises
    :class:`ChordSymbolError` naming the bad symbol and its bar. Empty text is an empty
    progression."""
    return Progression(bars=split_progression(text))
