"""The panel's chord progression, read with the one chord grammar (wire.chords)."""

from __future__ import annotations

import pytest

from gui.chords import ChordSymbolError, Progression, check_symbol, parse_progression

PLAIN = [
    "C", "Cm", "Am7", "F#m7b5", "Bb/D", "Cmaj7", "Cdim", "Caug", "Csus4", "C7sus4", "C6",
    "Cadd9", "N", "Ebm", "G7", "Dbmaj7/F", "Bdim7", "E9", "Abm6",
]  # fmt: skip
HARTE = ["C#:min7/b7", "G:sus4(b7)", "C:maj(9)", "A:min", "F:maj/3", "B:hdim7", "D:7"]
BAD = ["H7", "c", "Cxyz", "C/H", "Bb/", "C:foo", "m7", "C##", "", "C#:min7/q"]


@pytest.mark.parametrize("symbol", PLAIN + HARTE)
def test_accepts(symbol: str) -> None:
    check_symbol(symbol)


@pytest.mark.parametrize("symbol", BAD)
def test_rejects_and_names_the_symbol(symbol: str) -> None:
    with pytest.raises(ChordSymbolError) as info:
        check_symbol(symbol)
    assert info.value.symbol == symbol
    assert repr(symbol) in str(info.value) or "quality" in str(info.value)


def test_plain_progression_is_one_chord_a_bar() -> None:
    progression = parse_progression("C G Am F")
    assert progression == Progression(bars=(("C",), ("G",), ("Am",), ("F",)))
    assert progression.n_bars == 4
    assert progression.text() == "C G Am F"


def test_bar_lines_group_chords() -> None:
    progression = parse_progression("| C G | Am | F#m7b5 Bb/D |")
    assert progression.bars == (("C", "G"), ("Am",), ("F#m7b5", "Bb/D"))
    assert progression.text() == "C G | Am | F#m7b5 Bb/D"


def test_error_names_the_offending_symbol_and_bar() -> None:
    with pytest.raises(ChordSymbolError) as info:
        parse_progression("C G | Am H7 | F")
    assert info.value.symbol == "H7"
    assert info.value.bar == 2
    assert str(info.value) == "bar 2: unknown chord symbol 'H7'"


def test_unknown_quality_is_named() -> None:
    with pytest.raises(ChordSymbolError, match=r"bar 3: unknown chord quality 'maj8' in 'Cmaj8'"):
        parse_progression("C F Cmaj8")


def test_empty_bar_is_an_error() -> None:
    with pytest.raises(ChordSymbolError, match="bar 2 is empty"):
        parse_progression("C | | G")


def test_empty_text_is_an_empty_progression() -> None:
    assert parse_progression("   ").n_bars == 0


def test_agrees_with_the_engine_where_it_exists() -> None:
    """Every symbol the panel accepts here, the engine's parser reads too."""
    harmony = pytest.importorskip("engine.harmony", reason="engine.harmony not available")
    for symbol in PLAIN + HARTE:
        harmony.parse_symbol(symbol)
    for symbol in ["H7", "Cxyz", "C/H"]:
        with pytest.raises(ValueError):
            harmony.parse_symbol(symbol)
