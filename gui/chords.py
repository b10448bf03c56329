"""Chord-progression validation for the panel's editor.

The panel cannot import the engine, so it carries its own reader of the chord syntax the
engine accepts (``parse_symbol`` / ``parse_progression`` in ``docs/architecture.md``).
It only *validates*: the engine still parses the text it is sent. Accepted symbols:

- plain symbols as producers type them: a root ``A``–``G`` with an optional ``#`` or
  ``b``, a quality from :data:`PLAIN_QUALITIES` (``C``, ``Cm``, ``Am7``, ``F#m7b5``,
  ``Cmaj7``, ``Cdim``, ``Caug``, ``Csus4``, ``C7sus4``, ``C6``, ``Cadd9`` ...), and an
  optional slash bass note (``Bb/D``);
- Harte labels as POP909 writes them: ``C#:min7/b7``, ``G:sus4(b7)``, ``C:maj(9)``;
- ``N`` for no chord.

A progression is chord symbols separated by spaces, one chord a bar; with ``|`` bar lines,
the chords between two bar lines share that bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "HARTE_QUALITIES",
    "PLAIN_QUALITIES",
    "ChordSymbolError",
    "Progression",
    "check_symbol",
    "parse_progression",
]

PLAIN_QUALITIES: frozenset[str] = frozenset(
    {
        "", "m", "min", "-", "M", "maj",
        "dim", "o", "aug", "+", "5",
        "sus", "sus2", "sus4", "7sus4", "7sus2", "9sus4",
        "6", "m6", "69", "m69",
        "7", "m7", "min7", "-7", "maj7", "M7", "mmaj7", "mM7", "minmaj7",
        "dim7", "o7", "m7b5", "ø", "ø7", "hdim7", "aug7", "+7", "7#5", "7b5",
        "add9", "add2", "madd9", "add11",
        "9", "m9", "maj9", "7b9", "7#9", "11", "m11", "7#11", "13", "m13", "maj13",
    }
)  # fmt: skip

HARTE_QUALITIES: frozenset[str] = frozenset(
    {
        "maj", "min", "dim", "aug", "maj7", "min7", "7", "dim7", "hdim7", "minmaj7",
        "maj6", "min6", "9", "maj9", "min9", "sus2", "sus4", "11", "min11", "13",
        "maj13", "min13", "5", "1",
    }
)  # fmt: skip

_NOTE = r"[A-G](?:#|b)?"
_PLAIN = re.compile(rf"(?P<root>{_NOTE})(?P<quality>[^/]*)(?:/(?P<bass>{_NOTE}))?")
_DEGREE = r"\*?(?:#|b)*(?:[1-9]|1[0-3])"
_HARTE = re.compile(
    rf"(?P<root>{_NOTE}):(?P<quality>[a-z0-9]*)"
    rf"(?:\((?P<extensions>{_DEGREE}(?:,{_DEGREE})*)\))?"
    rf"(?:/(?P<bass>{_DEGREE}))?"
)
_NO_CHORD = "N"


class ChordSymbolError(ValueError):
    """A chord symbol or a progression cannot be read; ``symbol`` names the culprit."""

    def __init__(self, message: str, *, symbol: str, bar: int | None = None) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.bar = bar


def check_symbol(text: str) -> None:
    """Raise :class:`ChordSymbolError` unless ``text`` is one readable chord symbol."""
    if text == _NO_CHORD:
        return
    harte = _HARTE.fullmatch(text)
    if harte is not None:
        if harte["quality"] and harte["quality"] not in HARTE_QUALITIES:
            raise ChordSymbolError(
                f"unknown chord quality {harte['quality']!r} in {text!r}", symbol=text
            )
        return
    plain = _PLAIN.fullmatch(text)
    if plain is None:
        raise ChordSymbolError(f"unknown chord symbol {text!r}", symbol=text)
    if plain["quality"] not in PLAIN_QUALITIES:
        raise ChordSymbolError(
            f"unknown chord quality {plain['quality']!r} in {text!r}", symbol=text
        )


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
    """Validate a typed progression; raise :class:`ChordSymbolError` naming the bad symbol.

    Without bar lines each symbol is one bar; with ``|`` the symbols between two bar lines
    form one bar. Leading and trailing bar lines are allowed (``| C | G |``). Empty text is
    an empty progression.
    """
    if "|" not in text:
        symbols = text.split()
        for index, symbol in enumerate(symbols):
            _check_in_bar(symbol, bar=index + 1)
        return Progression(bars=tuple((symbol,) for symbol in symbols))
    segments = [segment.split() for segment in text.split("|")]
    if segments and not segments[0]:
        segments = segments[1:]
    if segments and not segments[-1]:
        segments = segments[:-1]
    bars: list[tuple[str, ...]] = []
    for index, symbols in enumerate(segments):
        if not symbols:
            raise ChordSymbolError(f"bar {index + 1} is empty", symbol="|", bar=index + 1)
        for symbol in symbols:
            _check_in_bar(symbol, bar=index + 1)
        bars.append(tuple(symbols))
    return Progression(bars=tuple(bars))


def _check_in_bar(symbol: str, *, bar: int) -> None:
    try:
        check_symbol(symbol)
    except ChordSymbolError as err:
        raise ChordSymbolError(f"bar {bar}: {err}", symbol=symbol, bar=bar) from err
