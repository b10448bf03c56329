"""One chord grammar: every symbol the engine writes is read by every parser (the engine's
and the panel's), and the symbols the two used to disagree on behave the same everywhere."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine import harmony
from gui import chords as panel_chords
from wire.chords import (
    HARTE_QUALITIES,
    QUALITIES,
    Chord,
    ChordSymbolError,
    parse_harte,
    parse_symbol,
    split_progression,
)


def parsers() -> dict[str, object]:
    """Every reader of a single chord symbol, by who uses it."""
    return {
        "wire.parse_symbol": parse_symbol,
        "engine.parse_progression": lambda s: harmony.parse_progression(s),
        "panel.check_symbol": panel_chords.check_symbol,
        "panel.parse_progression": panel_chords.parse_progression,
    }


def accepted_by(symbol: str) -> dict[str, bool]:
    verdicts = {}
    for name, parse in parsers().items():
        try:
            parse(symbol)  # type: ignore[operator]
        except ChordSymbolError:
            verdicts[name] = False
        else:
            verdicts[name] = True
    return verdicts


def written_by_the_engine() -> list[Chord]:
    """Chords the engine writes as symbols: every quality of the table on every root, with
    each of its tones in the bass and one bass outside it, and every recognition result."""
    out = []
    for quality, root in itertools.product(QUALITIES, range(12)):
        chord = Chord.from_intervals(root, quality.intervals)
        basses = [pc for pc in range(12) if chord.chroma[pc]] + [(root + 1) % 12]
        out += [Chord.from_intervals(root, quality.intervals, bass=bass) for bass in basses]
    for _name, intervals in harmony.RECOGNITION_VOCABULARY:
        for root in range(12):
            weights = np.zeros(12)
            weights[[(root + iv) % 12 for iv in intervals]] = 1.0
            out.append(harmony.recognize_chord(weights))
    return [*out, Chord.no_chord()]


def test_every_symbol_the_engine_writes_is_read_everywhere() -> None:
    chords = written_by_the_engine()
    assert len(chords) > 2000
    for chord in chords:
        symbol = chord.symbol()
        assert all(accepted_by(symbol).values()), (symbol, accepted_by(symbol))
        back = parse_symbol(symbol)
        assert (back.root, back.chroma, back.bass) == (chord.root, chord.chroma, chord.bass)
        label = chord.harte()  # how the caches and POP909 write labels
        back = parse_harte(label)
        assert (back.root, back.chroma, back.bass) == (chord.root, chord.chroma, chord.bass)
        assert all(accepted_by(label).values()), label


def test_pop909_style_labels_convert_to_symbols_read_everywhere() -> None:
    labels = [f"{root}:{shorthand}{bass}" for root in ("C", "C#", "Eb", "F#", "Bb")
              for shorthand in HARTE_QUALITIES for bass in ("", "/3", "/b7", "/5")]
    labels += ["G:sus4(b7)", "C:maj(9)", "A:min(*5)", "D:(1,b3,5)", "N", "X"]
    for label in labels:
        chord = parse_harte(label)
        assert all(accepted_by(chord.symbol()).values()), (label, chord.symbol())


# The symbols issue 15 found read differently by the panel and the engine.
DIVERGENT_ACCEPTED = [
    "Cm13", "C9sus4", "C7b9", "C7#9", "C7#11", "Cmaj13", "Cadd11", "C7b5", "Cm69",
    "NC", "N.C.", "C°", "CΔ", "Cmi7", "Cm(maj7)", "C6/9", "C∆7", "Cø", "C+", "Cdom7",
    "Cmaj", "C-7", "Csus", "C7sus", "CM7",
]
DIVERGENT_REFUSED = ["am", "c", "C##", "Cbb7", "H7"]


@pytest.mark.parametrize("symbol", DIVERGENT_ACCEPTED)
def test_formerly_divergent_symbols_are_read_everywhere(symbol: str) -> None:
    assert set(accepted_by(symbol).values()) == {True}, accepted_by(symbol)


@pytest.mark.parametrize("symbol", DIVERGENT_REFUSED)
def test_formerly_divergent_symbols_are_refused_everywhere(symbol: str) -> None:
    assert set(accepted_by(symbol).values()) == {False}, accepted_by(symbol)


def test_extensions_the_panel_read_mean_what_they_say() -> None:
    assert parse_symbol("C7b9").intervals == (0, 1, 4, 7, 10)
    assert parse_symbol("Cm13").intervals == (0, 2, 3, 7, 9, 10)
    assert parse_symbol("Cadd11").intervals == (0, 4, 5, 7)
    assert parse_symbol("C7b9").symbol() == "C(1,b2,3,5,b7)"  # written as degrees


def test_engine_and_panel_split_progressions_alike() -> None:
    text = "| C G | Am | F#m7b5 Bb/D |"
    bars = split_progression(text)
    assert panel_chords.parse_progression(text).bars == bars
    spans = harmony.parse_progression(text)
    assert [s.chord.symbol() for s in spans] == ["C", "G", "Am", "F#m7b5", "Bb/D"]
    with pytest.raises(ChordSymbolError) as err:
        split_progression("C | Am H7")
    assert (err.value.symbol, err.value.bar, str(err.value)) == (
        "H7", 2, "bar 2: unknown chord symbol 'H7'")


def test_the_table_is_the_only_source_of_lookups() -> None:
    names = [q.name for q in QUALITIES]
    assert len(names) == len(set(names))
    suffixes = [s for q in QUALITIES for s in q.suffixes]
    assert len(suffixes) == len(set(suffixes))
    assert set(HARTE_QUALITIES) == {q.harte for q in QUALITIES if q.harte and "(" not in q.harte}
    assert [name for name, _ in harmony.RECOGNITION_VOCABULARY] == [
        "maj", "min", "7", "min7", "maj7", "sus2", "sus4", "dim", "aug"]
