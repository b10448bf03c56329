"""Chords recognised around an infill gap and carried into it (engine.context_chords)."""

from engine.context_chords import infer_gap_chords
from engine.harmony import parse_symbol
from engine.pianoroll import STEPS_PER_BAR, Note

BAR = STEPS_PER_BAR


def _block(symbol: str, bar: int) -> list[Note]:
    """The chord's tones held for one bar, with its root an octave below."""
    chord = parse_symbol(symbol)
    tones = [48 + pc for pc in range(12) if chord.chroma[pc]]
    root = Note(bar * BAR, 36 + chord.root, BAR, 80)
    return [Note(bar * BAR, p, BAR, 80) for p in tones] + [root]


def _clip(symbols: list[str], gap: tuple[int, int]) -> list[Note]:
    return [n for bar, s in enumerate(symbols) if not gap[0] <= bar < gap[1]
            for n in _block(s, bar)]


def _symbol_at(spans, step):
    chord = next((s.chord for s in reversed(spans) if s.start <= step < s.stop), None)
    return None if chord is None else (chord.root, chord.chroma)


def test_a_four_bar_progression_is_carried_into_the_gap():
    loop = ["C", "Am", "F", "G"]
    symbols = loop * 4  # 16 bars
    gap = (6, 10)
    inferred = infer_gap_chords(_clip(symbols, gap), n_bars=16, gap=gap)
    assert inferred.period_bars == 4
    assert inferred.agreement == 1.0
    for bar in range(16):
        expected = parse_symbol(symbols[bar])
        assert _symbol_at(inferred.spans, bar * BAR + 3) == (expected.root, expected.chroma)
    # consecutive half bars of one chord are merged into one span per bar
    assert len(inferred.spans) == 16


def test_a_gap_at_the_start_takes_the_chords_one_period_later():
    symbols = ["Dm", "G", "C", "A"] * 3
    inferred = infer_gap_chords(_clip(symbols, (0, 2)), n_bars=12, gap=(0, 2))
    assert inferred.period_bars == 4
    assert _symbol_at(inferred.spans, 0)[0] == parse_symbol("Dm").root
    assert _symbol_at(inferred.spans, BAR + 1)[0] == parse_symbol("G").root


def test_no_repetition_gives_no_chords():
    symbols = ["C", "F#", "Bb", "E", "Ab", "D", "B", "Eb", "A", "Db", "G", "Fm"]
    inferred = infer_gap_chords(_clip(symbols, (4, 8)), n_bars=12, gap=(4, 8))
    assert inferred.spans == ()
    assert inferred.period_bars is None


def test_a_loose_repeat_is_carried_too():
    # bars 1-4 and 9-12 share only their first chord (2 of 8 half-bar pairs agree at a
    # period of 8 bars; no other period agrees at all): still the best guess at the gap's
    # harmony, so the gap takes the chords 8 bars after it
    symbols = ["C", "G", "Am", "F", "", "", "", "", "C", "Dm", "Em", "Bb",
               "Eb", "Ab", "Db", "Gb"]
    inferred = infer_gap_chords(_clip(symbols, (4, 8)), n_bars=16, gap=(4, 8))
    assert inferred.period_bars == 8 and inferred.agreement == 0.25
    expected = parse_symbol("Eb")
    assert _symbol_at(inferred.spans, 4 * BAR + 3) == (expected.root, expected.chroma)


def test_too_little_context_gives_no_chords():
    inferred = infer_gap_chords(_clip(["C", "G", "C", "G"], (1, 3)), n_bars=4, gap=(1, 3))
    assert inferred.spans == ()


def test_a_note_ringing_into_the_gap_is_read_only_outside_it():
    symbols = ["C", "G"] * 6
    notes = _clip(symbols, (4, 8))
    notes.append(Note(3 * BAR, 30, 3 * BAR, 80))  # a low F# held from bar 4 deep into the gap
    inferred = infer_gap_chords(notes, n_bars=12, gap=(4, 8))
    assert inferred.period_bars == 2
    assert _symbol_at(inferred.spans, 5 * BAR)[0] == parse_symbol("G").root
