"""Chords and keys as text: the one chord grammar of diffjam, with one table of qualities.

The engine (:mod:`engine.harmony`: POP909 labels, ``--chords``, the ``chords`` param,
chord recognition) and the panel (its chord lane) both read chords here, so a symbol one
accepts the other accepts too (``tests/wire/test_chords.py`` holds them to it).

Pitch classes are integers 0..11 with 0 = C. A :class:`Chord` is stored as a root, a
12-entry chroma (0/1) and a bass pitch class; the bass is always one of the chord's pitch
classes (a slash bass outside the chord is added to the chroma, as ``mir_eval`` does).

Two input syntaxes are read:

* **Harte** (Harte et al., ISMIR 2005; the syntax POP909 and ``mir_eval`` use):
  ``root:quality[(degrees)][/bass]``, e.g. ``C#:min7/b7``, ``G:sus4(b7)``, ``E:maj/3``,
  ``C:(1,b3,5)``, ``C:maj(*5)``, ``N``. The bass is a scale degree of the root.
* **Producer symbols** as people type them: ``C``, ``Am``, ``F#m7b5``, ``Bb/D``,
  ``Cmaj7``, ``C∆7``, ``C°``, ``C7sus4``, ``Cadd9``, ``NC`` ... (:func:`parse_symbol`).

A chord root is an upper-case letter A-G with at most one ``#``/``b`` (``♯``/``♭``):
``am`` is refused rather than guessed (A minor, or A major as a lower-case letter would
be for a key). Keys (:func:`parse_key`) take either case: ``"a minor"``.

:data:`QUALITIES` is the one table of chord qualities: every lookup below (Harte
shorthands, producer suffixes, the names :attr:`Chord.quality` gives, families, the
recognition vocabulary) is derived from it. :meth:`Chord.symbol` writes a producer symbol
that :func:`parse_symbol` reads back to the same root, chroma and bass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from wire.errors import ChordSymbolError

__all__ = [
    "HARTE_QUALITIES",
    "PITCH_NAMES",
    "QUALITIES",
    "Chord",
    "ChordSymbolError",
    "Key",
    "Quality",
    "parse_harte",
    "parse_key",
    "parse_symbol",
    "quality_family",
    "split_progression",
]

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL = {"#": 1, "♯": 1, "b": -1, "♭": -1}
_NATURAL_DEGREE = (0, 2, 4, 5, 7, 9, 11)  # semitones of degrees 1..7 of a major scale
_SHOWN = 60  # characters of a user's text quoted in an error message


@dataclass(frozen=True)
class Quality:
    """One row of :data:`QUALITIES`.

    ``name``: the quality's name (:attr:`Chord.quality` gives it when ``named``);
    ``intervals``: semitones above the root, sorted; ``suffixes``: the producer suffixes
    read (the first is the one :meth:`Chord.symbol` writes); ``harte``: what
    :meth:`Chord.harte` writes after ``root:`` (None: the set is written as degrees; a
    plain shorthand here is also read in Harte labels); ``family``: the triad family
    (:func:`quality_family`); ``named``: whether :attr:`Chord.quality` and
    :meth:`Chord.symbol` name the set (else it is written in degrees); ``recognized``:
    its place in the chord recognition vocabulary (None: not recognised).
    """

    name: str
    intervals: tuple[int, ...]
    suffixes: tuple[str, ...] = ()
    harte: str | None = None
    family: str = "other"
    named: bool = True
    recognized: int | None = None


# Harte shorthands: Harte et al. 2005, table 2, plus the mir_eval extensions. Rows marked
# named=False are read (Harte shorthand or producer suffix) but written as degrees.
QUALITIES: tuple[Quality, ...] = (
    Quality("maj", (0, 4, 7), ("", "maj", "M", "major", "Δ", "∆"), "maj", "maj", recognized=0),
    Quality("min", (0, 3, 7), ("m", "min", "-", "minor", "mi"), "min", "min", recognized=1),
    Quality("dim", (0, 3, 6), ("dim", "°", "o", "mb5", "m(b5)", "-b5"), "dim", "dim",
            recognized=7),
    Quality("aug", (0, 4, 8), ("aug", "+", "#5", "(#5)", "+5"), "aug", "aug", recognized=8),
    Quality("maj7", (0, 4, 7, 11), ("maj7", "M7", "Δ7", "∆7", "ma7", "Maj7", "j7"), "maj7",
            "maj", recognized=4),
    Quality("min7", (0, 3, 7, 10), ("m7", "min7", "-7", "mi7"), "min7", "min", recognized=3),
    Quality("7", (0, 4, 7, 10), ("7", "dom7"), "7", "maj", recognized=2),
    Quality("dim7", (0, 3, 6, 9), ("dim7", "°7", "o7"), "dim7", "dim"),
    Quality("hdim7", (0, 3, 6, 10),
            ("m7b5", "m7(b5)", "min7b5", "-7b5", "ø", "ø7", "hdim7", "hdim"), "hdim7", "dim"),
    Quality("minmaj7", (0, 3, 7, 11),
            ("m(maj7)", "mmaj7", "mM7", "minmaj7", "m(M7)", "-maj7", "m∆7"), "minmaj7", "min"),
    Quality("maj6", (0, 4, 7, 9), ("6", "maj6", "M6"), "maj6", "maj"),
    Quality("min6", (0, 3, 7, 9), ("m6", "min6", "-6"), "min6", "min"),
    Quality("9", (0, 2, 4, 7, 10), ("9", "dom9"), "9", "maj"),
    Quality("maj9", (0, 2, 4, 7, 11), ("maj9", "M9", "∆9", "Δ9"), "maj9", "maj"),
    Quality("min9", (0, 2, 3, 7, 10), ("m9", "min9", "-9"), "min9", "min"),
    Quality("11", (0, 2, 4, 5, 7, 10), ("11",), "11", named=False),
    Quality("min11", (0, 2, 3, 5, 7, 10), ("m11", "min11"), "min11", named=False),
    Quality("13", (0, 2, 4, 7, 9, 10), ("13",), "13", named=False),
    Quality("maj13", (0, 2, 4, 7, 9, 11), ("maj13",), "maj13", named=False),
    Quality("min13", (0, 2, 3, 7, 9, 10), ("m13", "min13"), "min13", named=False),
    Quality("sus2", (0, 2, 7), ("sus2",), "sus2", "sus", recognized=5),
    Quality("sus4", (0, 5, 7), ("sus4", "sus"), "sus4", "sus", recognized=6),
    Quality("1", (0,), (), "1", named=False),
    Quality("5", (0, 7), ("5",), "5", "power"),
    Quality("7sus4", (0, 5, 7, 10), ("7sus4", "7sus", "sus4(b7)", "sus7"), "sus4(b7)", "sus"),
    Quality("7sus2", (0, 2, 7, 10), ("7sus2",), None, "sus"),
    Quality("add9", (0, 2, 4, 7), ("add9", "add2", "(add9)"), None, "maj"),
    Quality("madd9", (0, 2, 3, 7), ("madd9", "m(add9)", "madd2"), None, "min"),
    Quality("aug7", (0, 4, 8, 10), ("aug7", "+7", "7#5", "7(#5)"), None, "aug"),
    Quality("6/9", (0, 2, 4, 7, 9), ("6/9", "69", "6add9"), None, "maj"),
    # read, written as degrees
    Quality("min6/9", (0, 2, 3, 7, 9), ("m69", "m6/9", "m6add9"), named=False),
    Quality("9sus4", (0, 2, 5, 7, 10), ("9sus4", "9sus"), named=False),
    Quality("7b9", (0, 1, 4, 7, 10), ("7b9",), named=False),
    Quality("7#9", (0, 3, 4, 7, 10), ("7#9",), named=False),
    Quality("7#11", (0, 4, 6, 7, 10), ("7#11",), named=False),
    Quality("7b5", (0, 4, 6, 10), ("7b5",), named=False),
    Quality("add11", (0, 4, 5, 7), ("add11", "add4"), named=False),
)


def _derive_lookups() -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]],
                               dict[frozenset[int], tuple[str, str]],
                               dict[frozenset[int], str], dict[str, str]]:
    harte: dict[str, tuple[int, ...]] = {}
    suffixes: dict[str, tuple[int, ...]] = {}
    named: dict[frozenset[int], tuple[str, str]] = {}
    harte_written: dict[frozenset[int], str] = {}
    family: dict[str, str] = {}
    seen: set[frozenset[int]] = set()
    for quality in QUALITIES:
        pcs = frozenset(quality.intervals)
        assert pcs not in seen and list(quality.intervals) == sorted(pcs), quality.name
        seen.add(pcs)
        if quality.harte is not None:
            harte_written[pcs] = quality.harte
            if "(" not in quality.harte:
                harte[quality.harte] = quality.intervals
        for suffix in quality.suffixes:
            assert suffix not in suffixes, suffix
            suffixes[suffix] = quality.intervals
        if quality.named:
            named[pcs] = (quality.name, quality.suffixes[0])
            family[quality.name] = quality.family
    return harte, suffixes, named, harte_written, family


# Harte shorthand -> intervals; producer suffix -> intervals (matched whole after the
# root, case sensitive: "M7" is major 7th); interval set -> (name, suffix written);
# interval set -> Harte text written; quality name -> family.
HARTE_QUALITIES, _SYMBOL_SUFFIXES, _QUALITY_BY_SET, _HARTE_BY_SET, _FAMILY = _derive_lookups()
_NO_CHORD_SYMBOLS = frozenset({"N", "NC", "N.C.", "N.C", "n.c.", "nc", "X"})


def _quoted(text: str) -> str:
    """``text`` as repr for a message, cut to a few dozen characters."""
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "\u2026")


def _pc_name(pc: int) -> str:
    return PITCH_NAMES[pc % 12]


def _chroma_tuple(pcs: Iterable[int]) -> tuple[int, ...]:
    chroma = [0] * 12
    for pc in pcs:
        chroma[pc % 12] = 1
    return tuple(chroma)


@dataclass(frozen=True)
class Chord:
    """A chord as pitch classes.

    ``root`` is a pitch class 0..11 (None for no chord, "N"); ``chroma`` holds 12 entries
    of 0/1 (index 0 = C) and always contains the root and the bass; ``bass`` is the pitch
    class of the lowest note (the root unless the chord is inverted or slashed).
    """

    root: int | None
    chroma: tuple[int, ...]
    bass: int | None

    def __post_init__(self) -> None:
        if len(self.chroma) != 12 or any(v not in (0, 1) for v in self.chroma):
            raise ValueError(f"chroma must be 12 entries of 0/1, got {self.chroma!r}")
        if self.root is None:
            if self.bass is not None or any(self.chroma):
                raise ValueError("a chord without root ('N') has no bass and an empty chroma")
            return
        if not 0 <= self.root < 12 or not self.chroma[self.root]:
            raise ValueError(f"root {self.root!r} must be a pitch class inside the chroma")
        if self.bass is None or not 0 <= self.bass < 12 or not self.chroma[self.bass]:
            raise ValueError(f"bass {self.bass!r} must be a pitch class inside the chroma")

    @classmethod
    def no_chord(cls) -> Chord:
        """The "N" chord: no root, no pitch classes."""
        return cls(root=None, chroma=(0,) * 12, bass=None)

    @classmethod
    def from_intervals(cls, root: int, intervals: Iterable[int], *, bass: int | None = None
                       ) -> Chord:
        """Chord from a root pitch class and semitone intervals above it; ``bass`` is a
        pitch class (default: the root) and is added to the chroma."""
        root %= 12
        bass_pc = root if bass is None else bass % 12
        pcs = {(root + iv) % 12 for iv in intervals} | {root, bass_pc}
        return cls(root=root, chroma=_chroma_tuple(pcs), bass=bass_pc)

    @property
    def is_no_chord(self) -> bool:
        return self.root is None

    @property
    def intervals(self) -> tuple[int, ...]:
        """Sorted semitone intervals of the chord's pitch classes above the root."""
        if self.root is None:
            return ()
        return tuple(sorted((pc - self.root) % 12 for pc in range(12) if self.chroma[pc]))

    @property
    def quality(self) -> str:
        """Quality name (``maj``, ``min``, ``min7``, ``hdim7``, ``7sus4``, ``add9`` ...),
        ``N`` for no chord, ``""`` when the pitch set has no name here. When the whole
        set has no name but the set without the bass has one, that name is used."""
        if self.root is None:
            return "N"
        named = self._named_quality()
        return "" if named is None else named[0]

    @property
    def family(self) -> str:
        """Triad family: ``maj``, ``min``, ``dim``, ``aug``, ``sus``, ``power``, ``N`` or
        ``other`` (see :func:`quality_family`)."""
        return quality_family(self.quality)

    def pitch_classes(self) -> np.ndarray:
        """Bool mask (12,) of the chord's pitch classes."""
        return np.array(self.chroma, dtype=bool)

    def _named_quality(self) -> tuple[str, str] | None:
        """(name, producer suffix) of the interval set, else of the set without the bass,
        else None."""
        if self.root is None or self.bass is None:
            return None
        ivs = frozenset(self.intervals)
        without_bass = ivs - {(self.bass - self.root) % 12}
        for candidate in (ivs, without_bass):
            if candidate in _QUALITY_BY_SET:
                return _QUALITY_BY_SET[candidate]
        return None

    def symbol(self) -> str:
        """Readable producer symbol: ``"C#m7/B"``, ``"G7sus4"``, ``"Bb/D"``, ``"N"``.

        Pitch sets without a name here are written in Harte degree syntax after the root,
        ``"C(1,3,5,b9)/E"``, which :func:`parse_symbol` also reads."""
        if self.root is None or self.bass is None:
            return "N"
        root_name = _pc_name(self.root)
        slash = "" if self.bass == self.root else f"/{_spell_above(self.root, self.bass)}"
        named = self._named_quality()
        if named is not None:
            return f"{root_name}{named[1]}{slash}"
        degrees = ",".join(_DEGREE_NAMES[iv] for iv in self.intervals)
        return f"{root_name}({degrees}){slash}"

    def harte(self) -> str:
        """Harte label: ``"C#:min7/b7"``, ``"N"``; unnamed sets as ``"C:(1,3,5,b9)"``."""
        if self.root is None or self.bass is None:
            return "N"
        ivs = frozenset(self.intervals)
        bass_iv = (self.bass - self.root) % 12
        slash = "" if bass_iv == 0 else f"/{_DEGREE_NAMES[bass_iv]}"
        for candidate in (ivs, ivs - {bass_iv}):
            if candidate in _HARTE_BY_SET:
                return f"{_pc_name(self.root)}:{_HARTE_BY_SET[candidate]}{slash}"
        degrees = ",".join(_DEGREE_NAMES[iv] for iv in sorted(ivs))
        return f"{_pc_name(self.root)}:({degrees}){slash}"

    def __str__(self) -> str:
        return self.symbol()


# Degree spelling used when writing intervals (one per semitone).
_DEGREE_NAMES = ("1", "b2", "2", "b3", "3", "4", "b5", "5", "b6", "6", "b7", "7")
_LETTERS = "CDEFGAB"


def _spell_above(root: int, pc: int) -> str:
    """Name of ``pc`` spelled as the scale degree it is above ``root`` (E's major third is
    G#, not Ab); falls back to ``PITCH_NAMES`` where that would need B#, E#, Cb, Fb or a
    double accidental."""
    root_name = _pc_name(root)
    degree = int(_DEGREE_NAMES[(pc - root) % 12].lstrip("b"))
    letter = _LETTERS[(_LETTERS.index(root_name[0]) + degree - 1) % 7]
    shift = (pc - _LETTER_PC[letter] + 6) % 12 - 6
    name = letter + {0: "", 1: "#", -1: "b"}.get(shift, "?")
    if "?" in name or name in ("B#", "E#", "Cb", "Fb"):
        return _pc_name(pc)
    return name


def quality_family(quality: str) -> str:
    """Family of a quality name from :attr:`Chord.quality`: ``maj`` (maj, maj7, 7, maj6,
    9, maj9, add9, 6/9), ``min`` (min, min7, minmaj7, min6, min9, madd9), ``dim`` (dim,
    dim7, hdim7), ``aug``, ``sus`` (sus2, sus4, 7sus4, 7sus2), ``power``, ``N``, else
    ``other``."""
    if quality == "N":
        return "N"
    return _FAMILY.get(quality, "other")


# ---------------------------------------------------------------------------- parsing


_ROOT_RE = re.compile(r"([A-G])([#b♯♭]?)")  # a chord root or a slash bass
_KEY_ROOT_RE = re.compile(r"([A-Ga-g])([#b♯♭]*)")  # a key's tonic (either case)


def _note(text: str, pattern: re.Pattern[str] = _ROOT_RE) -> tuple[int, str] | None:
    """Pitch class of the note name at the start of ``text`` and the rest, or None."""
    match = pattern.match(text)
    if match is None:
        return None
    pc = _LETTER_PC[match.group(1).upper()] + sum(_ACCIDENTAL[a] for a in match.group(2))
    return pc % 12, text[match.end():]


def _root(text: str, symbol: str) -> tuple[int, str]:
    note = _note(text)
    if note is None:
        raise ChordSymbolError(f"unknown chord symbol {_quoted(symbol)}", symbol=symbol)
    return note


_DEGREE_RE = re.compile(r"([#b♯♭]*)(\d+)")


def _parse_degree(text: str, symbol: str) -> int:
    """Semitones above the root of a Harte scale degree such as ``b7``, ``#11``, ``3``."""
    match = _DEGREE_RE.fullmatch(text.strip())
    if match is None or int(match.group(2)) < 1 or int(match.group(2)) > 15:
        raise ChordSymbolError(f"chord symbol {_quoted(symbol)}: {_quoted(text)} is not a "
                               "scale degree (1..13 with optional # or b)", symbol=symbol)
    degree = int(match.group(2))
    shift = sum(_ACCIDENTAL[a] for a in match.group(1))
    return (_NATURAL_DEGREE[(degree - 1) % 7] + shift) % 12


def _apply_degree_list(intervals: set[int], body: str, symbol: str) -> None:
    """Add (``b7``) or remove (``*3``) degrees listed in a Harte ``(...)`` group."""
    for item in body.split(","):
        item = item.strip()
        if not item:
            raise ChordSymbolError(f"chord symbol {_quoted(symbol)}: empty degree in "
                                   f"({_quoted(body)[1:-1]})", symbol=symbol)
        if item.startswith("*"):
            intervals.discard(_parse_degree(item[1:], symbol))
        else:
            intervals.add(_parse_degree(item, symbol))


def parse_harte(label: str) -> Chord:
    """Read a Harte chord label (POP909 / mir_eval syntax).

    ``root:quality[(degrees)][/bass]`` or ``root:(degrees)[/bass]`` or ``root[/bass]``
    (quality ``maj``) or ``N`` / ``X`` (no chord). Qualities are the Harte shorthands
    (:data:`HARTE_QUALITIES`); the degree list adds degrees (``b7``, ``9``) or removes them
    (``*3``); the bass is a scale degree above the root and joins the chroma.

    Raises ChordSymbolError naming the label when it cannot be read.
    """
    text = label.strip()
    if text in ("N", "X"):
        return Chord.no_chord()
    if not text:
        raise ChordSymbolError(f"empty chord symbol {_quoted(label)}", symbol=label)
    root, rest = _root(text, label)
    bass_text = None
    if "/" in rest:
        rest, bass_text = rest.rsplit("/", 1)
    if rest and not rest.startswith(":"):
        raise ChordSymbolError(f"chord symbol {_quoted(label)} is not Harte syntax "
                               "root:quality", symbol=label)
    rest = rest[1:]
    match = re.fullmatch(r"([^()]*)(?:\(([^()]*)\))?", rest)
    if match is None:
        raise ChordSymbolError(f"chord symbol {_quoted(label)}: unbalanced degree list",
                               symbol=label)
    shorthand, degrees = match.group(1), match.group(2)
    if shorthand:
        if shorthand not in HARTE_QUALITIES:
            raise ChordSymbolError(f"chord symbol {_quoted(label)}: unknown quality "
                                   f"{_quoted(shorthand)}", symbol=label)
        intervals = set(HARTE_QUALITIES[shorthand])
    elif degrees is not None:
        intervals = {0}
    else:
        intervals = set(HARTE_QUALITIES["maj"])
    if degrees is not None:
        _apply_degree_list(intervals, degrees, label)
    bass = root if bass_text is None else (root + _parse_degree(bass_text, label)) % 12
    return Chord.from_intervals(root, intervals, bass=bass)


def parse_symbol(text: str) -> Chord:
    """Read a chord symbol as producers type it; Harte labels are read too.

    ``root + suffix [/bass]``: the root is a note name with ``#``/``b`` (``♯``/``♭``);
    suffixes are those of :data:`QUALITIES` (``m min - maj7 M7 ∆7 7 m7 m7b5 ø dim °
    dim7 aug + 6 m6 9 maj9 m9 11 13 sus2 sus4 7sus4 add9 5`` ...) and a Harte degree list
    in parentheses (``C(1,3,5,b9)``, as :meth:`Chord.symbol` writes unnamed sets); the bass
    after ``/`` is a note name. ``N``, ``NC``, ``N.C.`` are no chord.

    Raises ChordSymbolError naming the symbol (``symbol``) when it cannot be read.
    """
    stripped = text.strip()
    if stripped in _NO_CHORD_SYMBOLS:
        return Chord.no_chord()
    if not stripped:
        raise ChordSymbolError(f"empty chord symbol {_quoted(text)}", symbol=text)
    if ":" in stripped:
        return parse_harte(stripped)
    root, rest = _root(stripped, text)
    bass = root
    if "/" in rest and rest not in _SYMBOL_SUFFIXES:  # "6/9" is a quality, not a slash
        rest, tail = rest.rsplit("/", 1)
        note = _note(tail)
        if note is None or note[1]:
            raise ChordSymbolError(f"chord symbol {_quoted(text)}: the bass {_quoted(tail)} "
                                   "is not a note name", symbol=text)
        bass = note[0]
    if rest in _SYMBOL_SUFFIXES:
        intervals = set(_SYMBOL_SUFFIXES[rest])
    else:
        match = re.fullmatch(r"([^()]*)\(([^()]*)\)", rest)
        if match is None and "(" in rest:
            raise ChordSymbolError(f"unknown chord symbol {_quoted(text)}", symbol=text)
        if match is None or (match.group(1) and match.group(1) not in _SYMBOL_SUFFIXES):
            quality = rest if match is None else match.group(1)
            raise ChordSymbolError(
                f"unknown chord quality {_quoted(quality)} in {_quoted(text)}; a chord symbol "
                "is a root A-G (with # or b), a quality such as m, 7, maj7, m7, m7b5, dim, "
                "sus4 or add9, and an optional /bass", symbol=text)
        intervals = set(_SYMBOL_SUFFIXES[match.group(1)]) if match.group(1) else {0}
        _apply_degree_list(intervals, match.group(2), text)
    return Chord.from_intervals(root, intervals, bass=bass)


def split_progression(text: str) -> tuple[tuple[str, ...], ...]:
    """The chord symbols of each bar of a typed progression, every one checked with
    :func:`parse_symbol`.

    Without ``|``: one chord a bar, ``"C G Am F"``. With ``|`` bar lines
    (``"| C | G Am | F |"``, the outer ones optional) the symbols between two bar lines
    share that bar. Empty text is no bars. Raises ChordSymbolError naming the symbol and
    its bar (``symbol``, ``bar``; ``"|"`` for an empty bar).
    """
    if "|" in text:
        parts = text.split("|")
        if not parts[0].strip():
            parts = parts[1:]
        if parts and not parts[-1].strip():
            parts = parts[:-1]
        bars = [part.split() for part in parts]
    else:
        bars = [[token] for token in text.split()]
    for index, symbols in enumerate(bars, start=1):
        if not symbols:
            raise ChordSymbolError(f"bar {index} is empty", symbol="|", bar=index)
        for symbol in symbols:
            try:
                parse_symbol(symbol)
            except ChordSymbolError as err:
                raise ChordSymbolError(f"bar {index}: {err}", symbol=symbol, bar=index) from err
    return tuple(tuple(symbols) for symbols in bars)

# ------------------------------------------------------------------------------- keys

_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_NATURAL_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
_MODE_WORDS = {
    "": "major", "maj": "major", "major": "major", "M": "major", "ma": "major",
    "m": "minor", "min": "minor", "minor": "minor", "-": "minor", "mi": "minor",
}


@dataclass(frozen=True)
class Key:
    """A key: ``tonic`` pitch class 0..11 and ``mode`` ``"major"`` or ``"minor"``."""

    tonic: int
    mode: str

    def __post_init__(self) -> None:
        if not isinstance(self.tonic, int) or not 0 <= self.tonic < 12:
            raise ValueError(f"key tonic must be a pitch class 0..11, got {self.tonic!r}")
        if self.mode not in ("major", "minor"):
            raise ValueError(f"key mode must be 'major' or 'minor', got {self.mode!r}")

    def scale_mask(self) -> np.ndarray:
        """Bool (12,) mask of the key's scale, index 0 = C: the major scale for major keys
        and the natural minor (aeolian) scale for minor keys. Harmonic/melodic minor
        leading tones are not in the mask; chord tones add them where a chord uses them
        (:func:`engine.harmony.allowed_pitch_classes`)."""
        steps = _MAJOR_SCALE if self.mode == "major" else _NATURAL_MINOR_SCALE
        mask = np.zeros(12, dtype=bool)
        mask[[(self.tonic + s) % 12 for s in steps]] = True
        return mask

    def name(self) -> str:
        """``"C major"``, ``"F# minor"``."""
        return f"{_pc_name(self.tonic)} {self.mode}"

    def harte(self) -> str:
        """``"C:maj"``, ``"F#:min"`` (POP909's key syntax)."""
        return f"{_pc_name(self.tonic)}:{'maj' if self.mode == 'major' else 'min'}"

    def __str__(self) -> str:
        return self.name()


def parse_key(text: str) -> Key:
    """Read a key: ``"C:min"``, ``"Gb:maj"``, ``"Am"``, ``"C major"``, ``"F# minor"``,
    ``"Eb"`` (a bare note name is major). Raises ChordSymbolError naming the text."""
    stripped = text.strip()
    note = _note(stripped, _KEY_ROOT_RE)
    if note is None:
        raise ChordSymbolError(f"unknown key {_quoted(text)}: expected a note name A-G first",
                               symbol=text)
    tonic, rest = note
    rest = rest.strip()
    if rest.startswith(":"):
        rest = rest[1:].strip()
    # "M" / "m" are case sensitive; the words are not ("C Major", "a minor").
    mode = _MODE_WORDS[rest] if rest in ("M", "m") else _MODE_WORDS.get(rest.lower())
    if mode is None:
        raise ChordSymbolError(f"unknown key {_quoted(text)}: mode must be major/maj or "
                               "minor/min/m", symbol=text)
    return Key(tonic=tonic, mode=mode)


