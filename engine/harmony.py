"""Chords and keys: parsing symbols, chord/key pitch-class masks and chord recognition.

Pitch classes are integers 0..11 with 0 = C. A :class:`Chord` is stored as a root, a
12-entry chroma (0/1) and a bass pitch class; the bass is always one of the chord's pitch
classes (a slash bass outside the chord is added to the chroma, as ``mir_eval`` does).

Two input syntaxes are read:

* **Harte** (Harte et al., ISMIR 2005; the syntax POP909 and ``mir_eval`` use):
  ``root:quality[(degrees)][/bass]``, e.g. ``C#:min7/b7``, ``G:sus4(b7)``, ``E:maj/3``,
  ``C:(1,b3,5)``, ``C:maj(*5)``, ``N``. The bass is a scale degree of the root.
* **Producer symbols** as people type them: ``C``, ``Am``, ``F#m7b5``, ``Bb/D``,
  ``Cmaj7``, ``C∆7``, ``C°``, ``C7sus4``, ``Cadd9``, ``NC`` ... (:func:`parse_symbol`).

:meth:`Chord.symbol` writes a producer symbol that :func:`parse_symbol` reads back to the
same root, chroma and bass.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import ChordSymbolError

__all__ = [
    "RECOGNITION_VOCABULARY",
    "Chord",
    "ChordSpan",
    "ChordSymbolError",
    "Key",
    "allowed_pitch_classes",
    "chords_per_step",
    "parse_harte",
    "parse_key",
    "parse_progression",
    "parse_symbol",
    "pitch_class_weights",
    "quality_family",
    "recognize_chord",
    "recognize_chord_from_notes",
]

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL = {"#": 1, "♯": 1, "b": -1, "♭": -1}
_NATURAL_DEGREE = (0, 2, 4, 5, 7, 9, 11)  # semitones of degrees 1..7 of a major scale

# Harte shorthand qualities (Harte et al. 2005, table 2, plus the mir_eval extensions).
HARTE_QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "7": (0, 4, 7, 10),
    "dim7": (0, 3, 6, 9),
    "hdim7": (0, 3, 6, 10),
    "minmaj7": (0, 3, 7, 11),
    "maj6": (0, 4, 7, 9),
    "min6": (0, 3, 7, 9),
    "9": (0, 4, 7, 10, 2),
    "maj9": (0, 4, 7, 11, 2),
    "min9": (0, 3, 7, 10, 2),
    "11": (0, 4, 7, 10, 2, 5),
    "min11": (0, 3, 7, 10, 2, 5),
    "13": (0, 4, 7, 10, 2, 9),
    "maj13": (0, 4, 7, 11, 2, 9),
    "min13": (0, 3, 7, 10, 2, 9),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "1": (0,),
    "5": (0, 7),
}

# Interval set -> (quality name, producer suffix). The first entry for a set wins when
# writing symbols; parse_symbol reads every suffix listed in _SYMBOL_SUFFIXES below.
_NAMED_QUALITIES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("maj", "", (0, 4, 7)),
    ("min", "m", (0, 3, 7)),
    ("dim", "dim", (0, 3, 6)),
    ("aug", "aug", (0, 4, 8)),
    ("maj7", "maj7", (0, 4, 7, 11)),
    ("min7", "m7", (0, 3, 7, 10)),
    ("7", "7", (0, 4, 7, 10)),
    ("dim7", "dim7", (0, 3, 6, 9)),
    ("hdim7", "m7b5", (0, 3, 6, 10)),
    ("minmaj7", "m(maj7)", (0, 3, 7, 11)),
    ("maj6", "6", (0, 4, 7, 9)),
    ("min6", "m6", (0, 3, 7, 9)),
    ("9", "9", (0, 2, 4, 7, 10)),
    ("maj9", "maj9", (0, 2, 4, 7, 11)),
    ("min9", "m9", (0, 2, 3, 7, 10)),
    ("sus2", "sus2", (0, 2, 7)),
    ("sus4", "sus4", (0, 5, 7)),
    ("7sus4", "7sus4", (0, 5, 7, 10)),
    ("7sus2", "7sus2", (0, 2, 7, 10)),
    ("add9", "add9", (0, 2, 4, 7)),
    ("madd9", "madd9", (0, 2, 3, 7)),
    ("aug7", "aug7", (0, 4, 8, 10)),
    ("6/9", "6/9", (0, 2, 4, 7, 9)),
    ("5", "5", (0, 7)),
)
_QUALITY_BY_SET = {
    frozenset(ivs): (name, suffix) for name, suffix, ivs in reversed(_NAMED_QUALITIES)
}

_FAMILY = {
    "maj": "maj", "maj7": "maj", "7": "maj", "maj6": "maj", "9": "maj", "maj9": "maj",
    "add9": "maj", "6/9": "maj",
    "min": "min", "min7": "min", "minmaj7": "min", "min6": "min", "min9": "min",
    "madd9": "min",
    "dim": "dim", "dim7": "dim", "hdim7": "dim",
    "aug": "aug", "aug7": "aug",
    "sus2": "sus", "sus4": "sus", "7sus4": "sus", "7sus2": "sus",
    "5": "power",
}


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
        shorthands = {frozenset(v): n for n, v in reversed(HARTE_QUALITIES.items())}
        shorthands[frozenset((0, 5, 7, 10))] = "sus4(b7)"
        for candidate in (ivs, ivs - {bass_iv}):
            if candidate in shorthands:
                return f"{_pc_name(self.root)}:{shorthands[candidate]}{slash}"
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


@dataclass(frozen=True)
class ChordSpan:
    """A chord held from ``start`` for ``duration`` 16th steps (both >= 0 / >= 1)."""

    start: int
    duration: int
    chord: Chord

    def __post_init__(self) -> None:
        if self.start < 0 or self.duration < 1:
            raise ValueError(
                f"ChordSpan needs start >= 0 and duration >= 1, got {self.start}, {self.duration}"
            )

    @property
    def stop(self) -> int:
        return self.start + self.duration


# ---------------------------------------------------------------------------- parsing


_ROOT_RE = re.compile(r"([A-Ga-g])([#b♯♭]*)")


def _parse_root(text: str, symbol: str) -> tuple[int, str]:
    """Pitch class of the note name at the start of ``text`` and the rest of the text."""
    match = _ROOT_RE.match(text)
    if match is None:
        raise ChordSymbolError(f"chord symbol {symbol!r}: expected a note name A-G at "
                               f"{text!r}")
    pc = _LETTER_PC[match.group(1).upper()] + sum(_ACCIDENTAL[a] for a in match.group(2))
    return pc % 12, text[match.end():]


_DEGREE_RE = re.compile(r"([#b♯♭]*)(\d+)")


def _parse_degree(text: str, symbol: str) -> int:
    """Semitones above the root of a Harte scale degree such as ``b7``, ``#11``, ``3``."""
    match = _DEGREE_RE.fullmatch(text.strip())
    if match is None or int(match.group(2)) < 1 or int(match.group(2)) > 15:
        raise ChordSymbolError(f"chord symbol {symbol!r}: {text!r} is not a scale degree "
                               "(1..13 with optional # or b)")
    degree = int(match.group(2))
    shift = sum(_ACCIDENTAL[a] for a in match.group(1))
    return (_NATURAL_DEGREE[(degree - 1) % 7] + shift) % 12


def _apply_degree_list(intervals: set[int], body: str, symbol: str) -> None:
    """Add (``b7``) or remove (``*3``) degrees listed in a Harte ``(...)`` group."""
    for item in body.split(","):
        item = item.strip()
        if not item:
            raise ChordSymbolError(f"chord symbol {symbol!r}: empty degree in ({body})")
        if item.startswith("*"):
            intervals.discard(_parse_degree(item[1:], symbol))
        else:
            intervals.add(_parse_degree(item, symbol))


def parse_harte(label: str) -> Chord:
    """Read a Harte chord label (POP909 / mir_eval syntax).

    ``root:quality[(degrees)][/bass]`` or ``root:(degrees)[/bass]`` or ``root[/bass]``
    (quality ``maj``) or ``N`` / ``X`` (no chord). Qualities are the Harte shorthands
    (``HARTE_QUALITIES``); the degree list adds degrees (``b7``, ``9``) or removes them
    (``*3``); the bass is a scale degree above the root and joins the chroma.

    Raises ChordSymbolError naming the label when it cannot be read.
    """
    text = label.strip()
    if text in ("N", "X"):
        return Chord.no_chord()
    if not text:
        raise ChordSymbolError("empty chord symbol")
    root, rest = _parse_root(text, label)
    bass_text = None
    if "/" in rest:
        rest, bass_text = rest.rsplit("/", 1)
    if rest and not rest.startswith(":"):
        raise ChordSymbolError(f"chord symbol {label!r} is not Harte syntax root:quality")
    rest = rest[1:]
    match = re.fullmatch(r"([^()]*)(?:\(([^()]*)\))?", rest)
    if match is None:
        raise ChordSymbolError(f"chord symbol {label!r}: unbalanced degree list")
    shorthand, degrees = match.group(1), match.group(2)
    if shorthand:
        if shorthand not in HARTE_QUALITIES:
            raise ChordSymbolError(f"chord symbol {label!r}: unknown quality {shorthand!r}")
        intervals = set(HARTE_QUALITIES[shorthand])
    elif degrees is not None:
        intervals = {0}
    else:
        intervals = set(HARTE_QUALITIES["maj"])
    if degrees is not None:
        _apply_degree_list(intervals, degrees, label)
    bass = root if bass_text is None else (root + _parse_degree(bass_text, label)) % 12
    return Chord.from_intervals(root, intervals, bass=bass)


# Producer suffixes, matched whole after the root (case sensitive: "M7" is major 7th).
_SYMBOL_SUFFIXES: dict[str, tuple[int, ...]] = {}


def _add_suffixes(intervals: tuple[int, ...], *suffixes: str) -> None:
    for suffix in suffixes:
        _SYMBOL_SUFFIXES[suffix] = intervals


_add_suffixes((0, 4, 7), "", "maj", "M", "major", "Δ", "∆")
_add_suffixes((0, 3, 7), "m", "min", "-", "minor", "mi")
_add_suffixes((0, 3, 6), "dim", "°", "o", "mb5", "m(b5)", "-b5")
_add_suffixes((0, 4, 8), "aug", "+", "#5", "(#5)", "+5")
_add_suffixes((0, 4, 7, 11), "maj7", "M7", "Δ7", "∆7", "ma7", "Maj7", "j7")
_add_suffixes((0, 3, 7, 10), "m7", "min7", "-7", "mi7")
_add_suffixes((0, 4, 7, 10), "7", "dom7")
_add_suffixes((0, 3, 6, 9), "dim7", "°7", "o7")
_add_suffixes((0, 3, 6, 10), "m7b5", "m7(b5)", "min7b5", "-7b5", "ø", "ø7", "hdim7", "hdim")
_add_suffixes((0, 3, 7, 11), "m(maj7)", "mmaj7", "mM7", "minmaj7", "m(M7)", "-maj7", "m∆7")
_add_suffixes((0, 4, 7, 9), "6", "maj6", "M6")
_add_suffixes((0, 3, 7, 9), "m6", "min6", "-6")
_add_suffixes((0, 2, 4, 7, 10), "9", "dom9")
_add_suffixes((0, 2, 4, 7, 11), "maj9", "M9", "∆9", "Δ9")
_add_suffixes((0, 2, 3, 7, 10), "m9", "min9", "-9")
_add_suffixes((0, 2, 4, 5, 7, 10), "11")
_add_suffixes((0, 2, 3, 5, 7, 10), "m11", "min11")
_add_suffixes((0, 2, 4, 7, 9, 10), "13")
_add_suffixes((0, 2, 7), "sus2")
_add_suffixes((0, 5, 7), "sus4", "sus")
_add_suffixes((0, 5, 7, 10), "7sus4", "7sus", "sus4(b7)", "sus7")
_add_suffixes((0, 2, 7, 10), "7sus2")
_add_suffixes((0, 2, 4, 7), "add9", "add2", "(add9)")
_add_suffixes((0, 2, 3, 7), "madd9", "m(add9)", "madd2")
_add_suffixes((0, 4, 8, 10), "aug7", "+7", "7#5", "7(#5)")
_add_suffixes((0, 2, 4, 7, 9), "6/9", "69", "6add9")
_add_suffixes((0, 7), "5")

_NO_CHORD_SYMBOLS = frozenset({"N", "NC", "N.C.", "N.C", "n.c.", "nc", "X"})


def parse_symbol(text: str) -> Chord:
    """Read a chord symbol as producers type it; Harte labels are read too.

    ``root + suffix [/bass]``: the root is a note name with ``#``/``b`` (``♯``/``♭``);
    suffixes include ``m min - maj7 M7 ∆7 7 m7 m7b5 ø dim ° dim7 aug + 6 m6 9 maj9 m9
    sus2 sus4 7sus4 add9 5`` (see ``_SYMBOL_SUFFIXES``) and a Harte degree list in
    parentheses (``C(1,3,5,b9)``, as :meth:`Chord.symbol` writes unnamed sets); the bass
    after ``/`` is a note name. ``N``, ``NC``, ``N.C.`` are no chord.

    Raises ChordSymbolError naming the symbol when it cannot be read.
    """
    stripped = text.strip()
    if stripped in _NO_CHORD_SYMBOLS:
        return Chord.no_chord()
    if not stripped:
        raise ChordSymbolError("empty chord symbol")
    if ":" in stripped:
        return parse_harte(stripped)
    root, rest = _parse_root(stripped, text)
    bass = root
    if "/" in rest and rest not in _SYMBOL_SUFFIXES:  # "6/9" is a quality, not a slash
        rest, tail = rest.rsplit("/", 1)
        bass, leftover = _parse_root(tail, text)
        if leftover:
            raise ChordSymbolError(f"chord symbol {text!r}: the bass {tail!r} is not a "
                                   "note name")
    if rest in _SYMBOL_SUFFIXES:
        intervals = set(_SYMBOL_SUFFIXES[rest])
    else:
        match = re.fullmatch(r"([^()]*)\(([^()]*)\)", rest)
        if match is None or (match.group(1) and match.group(1) not in _SYMBOL_SUFFIXES):
            raise ChordSymbolError(f"unknown chord symbol {text!r}")
        intervals = set(_SYMBOL_SUFFIXES[match.group(1)]) if match.group(1) else {0}
        _apply_degree_list(intervals, match.group(2), text)
    return Chord.from_intervals(root, intervals, bass=bass)


def parse_progression(text: str, *, steps_per_bar: int = 16) -> list[ChordSpan]:
    """Read a progression into chord spans (steps of 16th notes).

    Without ``|``: one chord a bar, ``"C G Am F"``. With ``|`` bar lines
    (``"| C | G Am | F |"``, outer bars optional): the chords inside a bar split it evenly;
    with ``n`` chords the ``i``-th starts at ``floor(i * steps_per_bar / n)``. Symbols are
    read by :func:`parse_symbol`. Raises ChordSymbolError for an unknown symbol, an empty
    progression or an empty bar, or more chords in one bar than it has steps.
    """
    if steps_per_bar < 1:
        raise ValueError(f"steps_per_bar must be >= 1, got {steps_per_bar}")
    if "|" in text:
        parts = text.split("|")
        if not parts[0].strip():
            parts = parts[1:]
        if parts and not parts[-1].strip():
            parts = parts[:-1]
        bars = [part.split() for part in parts]
    else:
        bars = [[token] for token in text.split()]
    if not bars:
        raise ChordSymbolError(f"empty chord progression {text!r}")
    spans: list[ChordSpan] = []
    for bar_index, tokens in enumerate(bars):
        if not tokens:
            raise ChordSymbolError(f"chord progression {text!r}: bar {bar_index + 1} is empty")
        if len(tokens) > steps_per_bar:
            raise ChordSymbolError(f"chord progression {text!r}: bar {bar_index + 1} has "
                                   f"{len(tokens)} chords, more than its {steps_per_bar} steps")
        bar_start = bar_index * steps_per_bar
        bounds = [i * steps_per_bar // len(tokens) for i in range(len(tokens) + 1)]
        for i, token in enumerate(tokens):
            spans.append(ChordSpan(start=bar_start + bounds[i],
                                   duration=bounds[i + 1] - bounds[i],
                                   chord=parse_symbol(token)))
    return spans


def chords_per_step(spans: Iterable[ChordSpan], n_steps: int) -> list[Chord | None]:
    """The chord sounding at each of ``n_steps`` steps; None where no span covers a step.
    Where spans overlap the later one in the sequence wins; spans past the end are cut."""
    out: list[Chord | None] = [None] * n_steps
    for span in spans:
        for step in range(max(span.start, 0), min(span.stop, n_steps)):
            out[step] = span.chord
    return out


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
        (:func:`allowed_pitch_classes`)."""
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
    match = _ROOT_RE.match(stripped)
    if match is None:
        raise ChordSymbolError(f"unknown key {text!r}: expected a note name A-G first")
    tonic, rest = _parse_root(stripped, text)
    rest = rest.strip()
    if rest.startswith(":"):
        rest = rest[1:].strip()
    # "M" / "m" are case sensitive; the words are not ("C Major", "a minor").
    mode = _MODE_WORDS[rest] if rest in ("M", "m") else _MODE_WORDS.get(rest.lower())
    if mode is None:
        raise ChordSymbolError(f"unknown key {text!r}: mode must be major/maj or minor/min/m")
    return Key(tonic=tonic, mode=mode)


def allowed_pitch_classes(chord: Chord | None, key: Key | None) -> np.ndarray:
    """Bool (12,) mask of the pitch classes allowed under ``chord`` in ``key``: the
    chord's tones together with the key's scale (:meth:`Key.scale_mask`), so chromatic
    chord tones (a V7's leading tone in minor, a borrowed chord) stay allowed. With no key
    the chord tones alone; with no chord (None or "N") the scale alone; with neither,
    every pitch class."""
    if key is None and (chord is None or chord.is_no_chord):
        return np.ones(12, dtype=bool)
    mask = np.zeros(12, dtype=bool) if key is None else key.scale_mask()
    if chord is not None:
        mask = mask | chord.pitch_classes()
    return mask


# ------------------------------------------------------------------------ recognition

# Recognition vocabulary: (quality name, intervals). Order breaks exact score ties.
RECOGNITION_VOCABULARY: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("maj", (0, 4, 7)),
    ("min", (0, 3, 7)),
    ("7", (0, 4, 7, 10)),
    ("min7", (0, 3, 7, 10)),
    ("maj7", (0, 4, 7, 11)),
    ("sus2", (0, 2, 7)),
    ("sus4", (0, 5, 7)),
    ("dim", (0, 3, 6)),
    ("aug", (0, 4, 8)),
)


def _templates() -> tuple[np.ndarray, list[tuple[int, tuple[int, ...]]]]:
    rows, labels = [], []
    for _name, intervals in RECOGNITION_VOCABULARY:
        for root in range(12):
            row = np.zeros(12)
            row[[(root + iv) % 12 for iv in intervals]] = 1.0
            rows.append(row / np.linalg.norm(row))
            labels.append((root, intervals))
    return np.stack(rows), labels


_TEMPLATES, _TEMPLATE_LABELS = _templates()


def recognize_chord(pitch_weights: np.ndarray, *, bass_weights: np.ndarray | None = None,
                    bass_bonus: float = 0.1, silence: float = 1e-9) -> Chord:
    """Best-matching chord of ``RECOGNITION_VOCABULARY`` for pitch-class weights.

    ``pitch_weights``: (12,) non-negative, index 0 = C (e.g. sounding duration of each
    pitch class). ``bass_weights``: optional (12,) non-negative weights of the lowest
    sounding pitch class. Score of a template ``T`` (binary, 12 roots x 9 qualities:
    maj, min, 7, min7, maj7, sus2, sus4, dim, aug):

        score = cos(w, T) + bass_bonus * b[root] / sum(b)

    (cosine similarity, as in Fujishima's pitch-class-profile matching, plus a small
    bonus when the template's root is the bass; it settles the ties of symmetric sets,
    Csus2 = Gsus4, Caug = Eaug = Abaug). Exact ties go to the earlier quality, then the
    lower root. The chord's bass is the strongest bass pitch class if it is a chord tone,
    else the root. Total weight <= ``silence`` gives "N".
    """
    weights = np.asarray(pitch_weights, dtype=np.float64)
    if weights.shape != (12,):
        raise ValueError(f"pitch_weights must have shape (12,), got {weights.shape}")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError("pitch_weights must be finite and non-negative")
    total = float(weights.sum())
    if total <= silence:
        return Chord.no_chord()
    scores = _TEMPLATES @ (weights / np.linalg.norm(weights))
    bass_share = None
    if bass_weights is not None:
        bass = np.asarray(bass_weights, dtype=np.float64)
        if bass.shape != (12,) or np.any(bass < 0) or not np.all(np.isfinite(bass)):
            raise ValueError("bass_weights must be finite, non-negative, of shape (12,)")
        if bass.sum() > 0:
            bass_share = bass / bass.sum()
            roots = np.array([root for root, _ in _TEMPLATE_LABELS])
            scores = scores + bass_bonus * bass_share[roots]
    best = int(np.argmax(scores))  # first maximum: vocabulary order, then root
    root, intervals = _TEMPLATE_LABELS[best]
    chord = Chord.from_intervals(root, intervals)
    if bass_share is not None:
        bass_pc = int(np.argmax(bass_share))
        if chord.chroma[bass_pc]:
            chord = Chord(root=chord.root, chroma=chord.chroma, bass=bass_pc)
    return chord


def pitch_class_weights(starts: Sequence[float] | np.ndarray, stops: Sequence[float] | np.ndarray,
                        pitches: Sequence[int] | np.ndarray, *, start: float, stop: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Pitch-class and bass weights of notes inside the window ``[start, stop)``.

    Notes are given as arrays of onset, end (same time unit as the window) and MIDI
    pitch. Returns ``(pitch_weights, bass_weights)``, both float64 (12,): each note adds
    the length of its overlap with the window to its pitch class; the bass weights add,
    for every stretch of the window, its length to the pitch class of the lowest note
    sounding then.
    """
    on = np.asarray(starts, dtype=np.float64)
    off = np.asarray(stops, dtype=np.float64)
    pit = np.asarray(pitches, dtype=np.int64)
    lo = np.maximum(on, start)
    hi = np.minimum(off, stop)
    inside = hi > lo
    lo, hi, pit = lo[inside], hi[inside], pit[inside]
    weights = np.zeros(12)
    np.add.at(weights, pit % 12, hi - lo)
    bass = np.zeros(12)
    if pit.size:
        edges = np.unique(np.concatenate([lo, hi]))
        for a, b in itertools.pairwise(edges):
            sounding = (lo <= a) & (hi >= b)
            if np.any(sounding):
                bass[int(pit[sounding].min()) % 12] += b - a
    return weights, bass


def recognize_chord_from_notes(notes: Iterable, *, start: int, stop: int,
                               bass_bonus: float = 0.1) -> Chord:
    """Recognise the chord of the notes sounding in steps ``[start, stop)``.

    ``notes``: objects with ``start``, ``duration`` (16th steps) and ``pitch`` such as
    :class:`engine.pianoroll.Note`. Each note weighs its sounding steps inside the window
    (velocity is ignored); the bass weights come from the lowest sounding note
    (:func:`pitch_class_weights`), then :func:`recognize_chord`.
    """
    if stop <= start:
        raise ValueError(f"empty window [{start}, {stop})")
    note_list = list(notes)
    weights, bass = pitch_class_weights(
        [n.start for n in note_list], [n.start + n.duration for n in note_list],
        [n.pitch for n in note_list], start=start, stop=stop)
    return recognize_chord(weights, bass_weights=bass, bass_bonus=bass_bonus)
