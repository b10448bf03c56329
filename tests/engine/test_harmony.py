"""Tests of engine/harmony.py, and of its chord recognition against annotated chords
(tests/engine/chord_agreement.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.harmony import (
    Chord,
    ChordSpan,
    ChordSymbolError,
    Key,
    StepGrid,
    allowed_pitch_classes,
    chord_grid,
    parse_harte,
    parse_key,
    parse_progression,
    parse_symbol,
    pitch_class_weights,
    quality_family,
    recognize_chord,
    recognize_chord_from_notes,
    recognize_chords,
)
from engine.pianoroll import Note
from tests.engine.chord_agreement import AgreementCounts, cache_agreement, measure_agreement


def _data_dir() -> Path | None:
    env = os.environ.get("DIFFJAM_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    for path in candidates:
        if (path / "pop909").is_dir():
            return path
    return None


DATA = _data_dir()
needs_data = pytest.mark.skipif(
    DATA is None, reason="POP909 not found: set DIFFJAM_DATA or put it in <repo>/../shared/data")


def _pcs(chord: Chord) -> set[int]:
    return {pc for pc in range(12) if chord.chroma[pc]}


def _pop909_labels() -> set[str]:
    assert DATA is not None
    labels: set[str] = set()
    for path in (DATA / "pop909").glob("*/chord_midi.txt"):
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                labels.add(parts[2].strip())
    return labels


# ------------------------------------------------------------------------ Harte labels


@pytest.mark.parametrize(("label", "root", "pcs", "bass"), [
    ("C#:min7/b7", 1, {1, 4, 8, 11}, 11),
    ("G:sus4(b7)", 7, {7, 0, 2, 5}, 7),
    ("E:maj/3", 4, {4, 8, 11}, 8),
    ("Bb:min", 10, {10, 1, 5}, 10),
    ("C:maj7/7", 0, {0, 4, 7, 11}, 11),
    ("C:min/b3", 0, {0, 3, 7}, 3),
    ("F#:hdim7", 6, {6, 9, 0, 4}, 6),
    ("Ab:dim7", 8, {8, 11, 2, 5}, 8),
    ("Eb:minmaj7", 3, {3, 6, 10, 2}, 3),
    ("D:maj6", 2, {2, 6, 9, 11}, 2),
    ("A:aug", 9, {9, 1, 5}, 9),
    ("G:sus2", 7, {7, 9, 2}, 7),
    ("B:7/3", 11, {11, 3, 6, 9}, 3),
    ("D:9", 2, {2, 6, 9, 0, 4}, 2),
    ("C:(1,5)", 0, {0, 7}, 0),
    ("C:maj(*3)", 0, {0, 7}, 0),
    ("C:(b3,5)", 0, {0, 3, 7}, 0),
    ("A", 9, {9, 1, 4}, 9),
    ("C:maj/2", 0, {0, 2, 4, 7}, 2),
])
def test_harte_chromas_checked_by_hand(label: str, root: int, pcs: set[int], bass: int) -> None:
    chord = parse_harte(label)
    assert chord.root == root
    assert _pcs(chord) == pcs
    assert chord.bass == bass


def test_harte_no_chord() -> None:
    chord = parse_harte("N")
    assert chord == Chord.no_chord()
    assert chord.root is None and chord.bass is None and sum(chord.chroma) == 0
    assert chord.symbol() == "N"


@pytest.mark.parametrize(("label", "symbol"), [
    ("C#:min7/b7", "C#m7/B"), ("G:sus4(b7)", "G7sus4"), ("E:maj/3", "E/G#"),
    ("Bb:min", "Bbm"), ("C:maj7/7", "Cmaj7/B"), ("F#:hdim7", "F#m7b5"),
    ("Eb:minmaj7", "Ebm(maj7)"), ("D:maj6", "D6"), ("Ab:min/b3", "Abm/B"),
    ("A:7/b7", "A7/G"), ("C:dim7", "Cdim7"), ("G:aug", "Gaug"),
])
def test_symbol_of_harte_labels(label: str, symbol: str) -> None:
    assert parse_harte(label).symbol() == symbol


@pytest.mark.parametrize("label", ["H:maj", "C:foo", "C:maj(b3", "C:maj/x", "Cmaj", "", "C:(,)"])
def test_bad_harte_labels_raise_naming_the_label(label: str) -> None:
    with pytest.raises(ChordSymbolError) as err:
        parse_harte(label)
    if label:
        assert repr(label) in str(err.value)


@needs_data
def test_every_pop909_label_parses_and_round_trips() -> None:
    labels = _pop909_labels()
    assert len(labels) >= 300
    for label in labels:
        chord = parse_harte(label)
        back = parse_symbol(chord.symbol())
        assert (back.root, back.chroma, back.bass) == (chord.root, chord.chroma, chord.bass), label
        assert chord.harte() == label
        assert chord.family != "other", label


# ---------------------------------------------------------------------- plain symbols


@pytest.mark.parametrize(("text", "root", "intervals", "bass"), [
    ("C", 0, (0, 4, 7), 0),
    ("Cm", 0, (0, 3, 7), 0),
    ("Cmin", 0, (0, 3, 7), 0),
    ("C-", 0, (0, 3, 7), 0),
    ("Am7", 9, (0, 3, 7, 10), 9),
    ("F#m7b5", 6, (0, 3, 6, 10), 6),
    ("Bb/D", 10, (0, 4, 7), 2),
    ("Cmaj7", 0, (0, 4, 7, 11), 0),
    ("CM7", 0, (0, 4, 7, 11), 0),
    ("C∆7", 0, (0, 4, 7, 11), 0),
    ("Cdim", 0, (0, 3, 6), 0),
    ("C°", 0, (0, 3, 6), 0),
    ("Caug", 0, (0, 4, 8), 0),
    ("C+", 0, (0, 4, 8), 0),
    ("C7", 0, (0, 4, 7, 10), 0),
    ("C9", 0, (0, 2, 4, 7, 10), 0),
    ("Csus2", 0, (0, 2, 7), 0),
    ("Csus4", 0, (0, 5, 7), 0),
    ("C7sus4", 0, (0, 5, 7, 10), 0),
    ("C6", 0, (0, 4, 7, 9), 0),
    ("Cm6", 0, (0, 3, 7, 9), 0),
    ("Cadd9", 0, (0, 2, 4, 7), 0),
    ("Ebmaj7", 3, (0, 4, 7, 11), 3),
    ("Dbm", 1, (0, 3, 7), 1),
    ("C6/9", 0, (0, 2, 4, 7, 9), 0),
    ("C/D", 0, (0, 2, 4, 7), 2),
    ("C#:min7/b7", 1, (0, 3, 7, 10), 11),
])
def test_plain_symbols(text: str, root: int, intervals: tuple[int, ...], bass: int) -> None:
    chord = parse_symbol(text)
    assert (chord.root, chord.intervals, chord.bass) == (root, intervals, bass)


@pytest.mark.parametrize("text", ["N", "NC", "N.C.", " N "])
def test_no_chord_symbols(text: str) -> None:
    assert parse_symbol(text) == Chord.no_chord()


@pytest.mark.parametrize("text", ["H", "Cfoo", "C/Q", "Xmaj", "C7b99", "C(1,3,", "7", "Am/"])
def test_bad_symbols_raise_naming_the_symbol(text: str) -> None:
    with pytest.raises(ChordSymbolError, match="chord symbol") as err:
        parse_symbol(text)
    assert repr(text) in str(err.value)


def test_empty_symbol_raises() -> None:
    with pytest.raises(ChordSymbolError, match="empty"):
        parse_symbol("  ")


@pytest.mark.parametrize("chord", [
    Chord.from_intervals(root, ivs, bass=(root + b) % 12)
    for root in (0, 1, 6, 10)
    for ivs in [(0, 4, 7), (0, 3, 7, 10), (0, 1, 4, 7), (0, 2, 5, 9), (0, 6), (0,)]
    for b in (0, 2, 6)
])
def test_symbol_round_trip(chord: Chord) -> None:
    back = parse_symbol(chord.symbol())
    assert (back.root, back.chroma, back.bass) == (chord.root, chord.chroma, chord.bass)


def test_unnamed_set_is_written_in_degree_syntax() -> None:
    chord = parse_symbol("C(1,3,5,b9)")
    assert chord.intervals == (0, 1, 4, 7)
    assert chord.symbol() == "C(1,b2,3,5)"
    assert chord.quality == ""
    assert chord.family == "other"


def test_chord_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="chroma"):
        Chord(root=0, chroma=(1, 0, 0), bass=0)
    with pytest.raises(ValueError, match="root"):
        Chord(root=1, chroma=(1,) + (0,) * 11, bass=0)
    with pytest.raises(ValueError, match="bass"):
        Chord(root=0, chroma=(1,) + (0,) * 11, bass=4)


def test_quality_and_family() -> None:
    assert parse_symbol("Am7").quality == "min7"
    assert parse_symbol("G7sus4").family == "sus"
    assert parse_symbol("Bdim7").family == "dim"
    assert parse_symbol("C/B").quality == "maj7"  # the slash bass is a chord tone here
    assert quality_family("N") == "N"
    assert quality_family("whatever") == "other"


# ------------------------------------------------------------------------ progressions


def test_progression_one_chord_a_bar() -> None:
    spans = parse_progression("C G Am F")
    assert [(s.start, s.duration, s.chord.symbol()) for s in spans] == [
        (0, 16, "C"), (16, 16, "G"), (32, 16, "Am"), (48, 16, "F")]


def test_progression_with_bar_lines_splits_bars_evenly() -> None:
    spans = parse_progression("| C | G Am | F G C |")
    assert [(s.start, s.duration, s.chord.symbol()) for s in spans] == [
        (0, 16, "C"), (16, 8, "G"), (24, 8, "Am"), (32, 5, "F"), (37, 5, "G"), (42, 6, "C")]
    assert parse_progression("C | G", steps_per_bar=12)[1] == ChordSpan(12, 12, parse_symbol("G"))


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty chord progression"), ("C | | G", "bar 2 is empty"), ("C Hm", "'Hm'"),
    ("| C C C C C |", "more than its 4 steps"),
])
def test_bad_progressions(text: str, message: str) -> None:
    with pytest.raises(ChordSymbolError, match=message):
        parse_progression(text, steps_per_bar=16 if "C C" not in text else 4)


def test_chord_grid() -> None:
    c, g, n = parse_symbol("C"), parse_symbol("G/B"), parse_symbol("N")
    chroma, bass = chord_grid([ChordSpan(1, 2, c), ChordSpan(2, 5, g), ChordSpan(6, 2, c),
                               ChordSpan(7, 1, n)], 8)
    assert chroma.dtype == np.uint8 and chroma.shape == (8, 12)
    assert bass.dtype == np.int8 and bass.tolist() == [-1, 0, 11, 11, 11, 11, 0, -1]
    # none before the first span; the later span wins where they overlap; "N" is no chord
    assert [tuple(row) for row in chroma] == [
        (0,) * 12, c.chroma, g.chroma, g.chroma, g.chroma, g.chroma, c.chroma, (0,) * 12]
    # spans past the end are cut
    assert chord_grid([ChordSpan(3, 10, g)], 4)[1].tolist() == [-1, -1, -1, 11]


# -------------------------------------------------------------------------------- keys


@pytest.mark.parametrize(("text", "tonic", "mode"), [
    ("C:min", 0, "minor"), ("Am", 9, "minor"), ("C major", 0, "major"),
    ("F# minor", 6, "minor"), ("Gb:maj", 6, "major"), ("Eb", 3, "major"),
    ("Bbm", 10, "minor"), ("D:maj", 2, "major"), ("a minor", 9, "minor"), ("CM", 0, "major"),
])
def test_parse_key(text: str, tonic: int, mode: str) -> None:
    assert parse_key(text) == Key(tonic, mode)


@pytest.mark.parametrize("text", ["H", "C dorian", "", "Cmm", "C:mix"])
def test_bad_keys_raise_naming_the_text(text: str) -> None:
    with pytest.raises(ChordSymbolError, match="unknown key") as err:
        parse_key(text)
    assert repr(text) in str(err.value)


def test_key_scale_masks() -> None:
    assert np.flatnonzero(Key(0, "major").scale_mask()).tolist() == [0, 2, 4, 5, 7, 9, 11]
    assert np.flatnonzero(Key(9, "minor").scale_mask()).tolist() == [0, 2, 4, 5, 7, 9, 11]
    assert np.flatnonzero(Key(0, "minor").scale_mask()).tolist() == [0, 2, 3, 5, 7, 8, 10]
    assert Key(0, "major").scale_mask().dtype == np.bool_
    assert parse_key("F#:min").harte() == "F#:min" and str(parse_key("Eb")) == "Eb major"
    with pytest.raises(ValueError, match="mode"):
        Key(0, "dorian")


def test_allowed_pitch_classes() -> None:
    a_minor, e7 = Key(9, "minor"), parse_symbol("E7")
    # the dominant's leading tone G# joins the A natural minor scale
    assert np.flatnonzero(allowed_pitch_classes(e7, a_minor)).tolist() == [
        0, 2, 4, 5, 7, 8, 9, 11]
    assert np.flatnonzero(allowed_pitch_classes(e7, None)).tolist() == [2, 4, 8, 11]
    assert np.array_equal(allowed_pitch_classes(Chord.no_chord(), a_minor), a_minor.scale_mask())
    assert np.array_equal(allowed_pitch_classes(None, a_minor), a_minor.scale_mask())
    assert allowed_pitch_classes(None, None).all()


# ------------------------------------------------------------------------- recognition


def _weights(**by_name: float) -> np.ndarray:
    names = {"C": 0, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "Gb": 6, "G": 7, "Ab": 8,
             "A": 9, "Bb": 10, "B": 11}
    w = np.zeros(12)
    for name, value in by_name.items():
        w[names[name]] = value
    return w


@pytest.mark.parametrize(("weights", "symbol"), [
    (_weights(C=1, E=1, G=1), "C"),
    (_weights(C=2, E=1, G=1, D=0.3, F=0.3), "C"),            # passing tones
    (_weights(A=1, C=1, E=1), "Am"),
    (_weights(G=1, B=1, D=1, F=1), "G7"),
    (_weights(D=1, F=1, A=1, C=1), "Dm7"),
    (_weights(F=1, A=1, C=1, E=1), "Fmaj7"),
    (_weights(B=1, D=1, F=1), "Bdim"),
    (_weights(C=1, F=1, G=1), "Fsus2"),  # = Csus4; with no bass, sus2 wins the tie
    (_weights(C=1, E=1, Ab=1), "Caug"),
    (_weights(C=4, G=4, E=1), "C"),
])
def test_recognize_chord(weights: np.ndarray, symbol: str) -> None:
    assert recognize_chord(weights).symbol() == symbol


def test_recognize_silence_is_no_chord() -> None:
    assert recognize_chord(np.zeros(12)) == Chord.no_chord()


def test_recognize_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="shape"):
        recognize_chord(np.ones(7))
    with pytest.raises(ValueError, match="non-negative"):
        recognize_chord(-np.ones(12))


def test_bass_breaks_symmetric_ties() -> None:
    csus2 = _weights(C=1, D=1, G=1)  # the same pitch set as Gsus4
    assert recognize_chord(csus2, bass_weights=_weights(C=1)).symbol() == "Csus2"
    assert recognize_chord(csus2, bass_weights=_weights(G=1)).symbol() == "Gsus4"


def test_exact_ties_go_to_the_earlier_quality() -> None:
    # F, Ab, C and F, G, C carry the same weight (5 of 6): Fm (min) comes before Fsus2 in
    # the vocabulary; D, F, Ab and D, F, A (6 of 8): Dm before Ddim. A matrix product's
    # rounding once settled both the other way.
    assert recognize_chord(_weights(C=2, F=2, G=1, Ab=1)).symbol() == "Fm"
    assert recognize_chord(_weights(D=1, F=3, Ab=2, A=2)).symbol() == "Dm"


def test_many_windows_read_as_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    # whole-step weights with many ties, some windows silent, some without a bass
    weights = rng.integers(0, 4, (400, 12)) * (rng.random((400, 12)) < 0.4)
    bass = np.zeros((400, 12))
    bass[np.arange(400), rng.integers(0, 12, 400)] = rng.integers(0, 3, 400)
    one_by_one = [recognize_chord(w.astype(float), bass_weights=b)
                  for w, b in zip(weights, bass, strict=True)]
    assert recognize_chords(weights, bass) == one_by_one
    assert len(set(one_by_one)) > 50 and Chord.no_chord() in one_by_one
    notes = [Note(start=s, pitch=int(p), duration=int(d)) for s, p, d in zip(
        range(0, 64, 3), rng.integers(40, 80, 22), rng.integers(1, 9, 22), strict=True)]
    grid = StepGrid(notes, lo=0, hi=64)
    starts = list(range(0, 62, 2))
    assert grid.chords(starts, [s + 3 for s in starts]) == [grid.chord(s, s + 3) for s in starts]
    with pytest.raises(ValueError, match=r"empty window \[4, 4\)"):
        grid.chords([0, 4], [2, 4])
    with pytest.raises(ValueError, match="shape"):
        recognize_chords(weights[:, :11], bass[:, :11])
    with pytest.raises(ValueError, match="non-negative"):
        recognize_chords(-weights, bass)


def test_inversion_keeps_root_and_reports_bass() -> None:
    chord = recognize_chord(_weights(C=1, E=1, G=1), bass_weights=_weights(E=1))
    assert (chord.root, chord.bass, chord.symbol()) == (0, 4, "C/E")
    # a bass outside the recognised chord is not reported
    assert recognize_chord(_weights(C=1, E=1, G=1, D=0.1),
                           bass_weights=_weights(D=1)).symbol() == "C"


def test_pitch_class_weights_overlap_and_bass() -> None:
    weights, bass = pitch_class_weights([0, 2, 0], [8, 6, 4], [64, 48, 67], start=1, stop=7)
    assert weights.tolist() == pytest.approx([4, 0, 0, 0, 6, 0, 0, 3, 0, 0, 0, 0])
    # E4 lowest on [1, 2) and [6, 7), C3 on [2, 6)
    assert bass.tolist() == pytest.approx([4, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])


def test_recognize_chord_from_notes() -> None:
    notes = [Note(start=0, pitch=52, duration=16), Note(start=0, pitch=60, duration=16),
             Note(start=0, pitch=67, duration=8), Note(start=4, pitch=62, duration=1),
             Note(start=16, pitch=45, duration=16)]
    assert recognize_chord_from_notes(notes, start=0, stop=16).symbol() == "C/E"
    assert recognize_chord_from_notes(notes, start=100, stop=116) == Chord.no_chord()
    with pytest.raises(ValueError, match="empty window"):
        recognize_chord_from_notes(notes, start=4, stop=4)


# ------------------------------------------------------------------ chord agreement


def test_measure_agreement_counts() -> None:
    # bar 1: C major notes under "C:maj"; bar 2: A minor notes under "C:maj" (root miss);
    # bar 3: C minor notes under "C:maj7" (root match, family miss); bar 4: "N", skipped.
    starts = [0, 0, 0, 16, 16, 16, 32, 32, 32]
    stops = [16, 16, 16, 32, 32, 32, 48, 48, 48]
    pitches = [48, 52, 55, 45, 48, 52, 48, 51, 55]
    counts = measure_agreement(starts, stops, pitches, [0, 16, 32, 48], [16, 32, 48, 64],
                               ["C:maj", "C:maj", "C:maj7", "N"], window=16)
    assert counts == AgreementCounts(windows=3, root_matches=2, full_matches=1)
    assert counts.root_rate == pytest.approx(2 / 3) and counts.full_rate == pytest.approx(1 / 3)
    with_n = measure_agreement(starts, stops, pitches, [0, 16, 32, 48], [16, 32, 48, 64],
                               ["C:maj", "C:maj", "C:maj7", "N"], window=16,
                               include_no_chord=True)
    assert with_n == AgreementCounts(4, 3, 2)
    assert AgreementCounts().root_rate == 0.0


@dataclass(frozen=True)
class _FakeSong:
    n_bars: int
    notes: np.ndarray
    chords: np.ndarray


def test_cache_agreement_uses_the_chosen_tracks() -> None:
    notes = np.array([[2, 48, 0, 16, 80], [2, 52, 0, 16, 80], [2, 55, 0, 16, 80],
                      [0, 49, 0, 16, 80], [0, 53, 0, 16, 80], [0, 56, 0, 16, 80]], np.int16)
    song = _FakeSong(n_bars=1, notes=notes, chords=np.array([[0, 16, 1]], np.int32))
    vocab = ["N", "C:maj"]
    assert cache_agreement([song], vocab, window_steps=4) == AgreementCounts(4, 4, 4)
    assert cache_agreement([song], vocab, window_steps=16, tracks=(0,)) == AgreementCounts(1, 0, 0)


def _song_in_beats(song_dir: Path) -> tuple[tuple[np.ndarray, ...], list[str], float]:
    """PIANO notes and chord labels of one POP909 song, in beats from its first beat."""
    import mido

    beats = np.loadtxt(song_dir / "beat_midi.txt")
    times = beats[:, 0]
    index = np.arange(len(times), dtype=np.float64)

    def to_beats(seconds: np.ndarray) -> np.ndarray:
        first, last = (times[1] - times[0]), (times[-1] - times[-2])
        inside = np.interp(seconds, times, index)
        before = (seconds - times[0]) / first
        after = index[-1] + (seconds - times[-1]) / last
        return np.where(seconds < times[0], before, np.where(seconds > times[-1], after, inside))

    midi = mido.MidiFile(song_dir / f"{song_dir.name}.mid")
    tempo_map: list[tuple[int, int]] = []
    tick = 0
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "set_tempo":
            tempo_map.append((tick, message.tempo))

    def seconds_at(ticks: int) -> float:
        seconds, last_tick, tempo = 0.0, 0, 500000
        for at, new_tempo in tempo_map:
            if at >= ticks:
                break
            seconds += mido.tick2second(at - last_tick, midi.ticks_per_beat, tempo)
            last_tick, tempo = at, new_tempo
        return seconds + mido.tick2second(ticks - last_tick, midi.ticks_per_beat, tempo)

    piano = next(t for t in midi.tracks if any(m.type == "track_name" and m.name == "PIANO"
                                               for m in t))
    notes, sounding, tick = [], {}, 0
    for message in piano:
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding.setdefault(message.note, []).append(tick)
        elif message.type in ("note_on", "note_off") and sounding.get(message.note):
            notes.append((seconds_at(sounding[message.note].pop(0)), seconds_at(tick),
                          message.note))
    arr = np.array(notes)
    rows = [line.split("\t") for line in (song_dir / "chord_midi.txt").read_text().splitlines()
            if line.strip()]
    chord_on = to_beats(np.array([float(r[0]) for r in rows]))
    chord_off = to_beats(np.array([float(r[1]) for r in rows]))
    origin = float(np.flatnonzero(beats[:, 2] == 1)[0])
    return ((to_beats(arr[:, 0]), to_beats(arr[:, 1]), arr[:, 2].astype(int), chord_on,
             chord_off), [r[2].strip() for r in rows], origin)


@needs_data
def test_agreement_with_pop909_labels_on_real_songs() -> None:
    assert DATA is not None
    per_beat, per_bar = AgreementCounts(), AgreementCounts()
    for song_id in ("001", "003", "005"):
        arrays, labels, origin = _song_in_beats(DATA / "pop909" / song_id)
        per_beat = per_beat + measure_agreement(*arrays, labels, window=1.0, origin=origin)
        per_bar = per_bar + measure_agreement(*arrays, labels, window=4.0, origin=origin)
    # measured on these three songs (PIANO track only): 901 beats, 223 bars
    assert per_beat.windows == 901 and per_bar.windows == 223
    assert per_beat.root_rate == pytest.approx(0.968, abs=0.005)
    assert per_beat.full_rate == pytest.approx(0.899, abs=0.005)
    assert per_bar.root_rate == pytest.approx(0.753, abs=0.005)


def test_recognition_can_be_kept_inside_a_scale():
    from engine.harmony import Key, recognize_chord

    weights = np.zeros(12)
    weights[[9, 4]] = 1.0  # A and E: A major and A minor tie, major first
    assert recognize_chord(weights).chroma[1] == 1
    in_c = recognize_chord(weights, allowed=Key(0, "major").scale_mask())
    assert in_c.root == 9 and in_c.chroma[0] == 1 and in_c.chroma[1] == 0  # A minor
    nothing = np.zeros(12, dtype=bool)
    assert recognize_chord(weights, allowed=nothing).root is None


def test_a_step_grid_reads_every_window_as_the_notes_themselves_do():
    rng = np.random.default_rng(0)
    for _ in range(100):
        notes = [Note(int(rng.integers(0, 128)), int(rng.integers(0, 128)),
                      int(rng.integers(1, 20))) for _ in range(int(rng.integers(0, 40)))]
        lo, hi = int(rng.integers(0, 40)), int(rng.integers(60, 140))
        grid = StepGrid(notes, lo=lo, hi=hi)
        for _ in range(5):
            a = int(rng.integers(lo, hi - 1))
            b = int(rng.integers(a + 1, hi + 1))
            # the edge-by-edge weights of pitch_class_weights, from the notes themselves
            expected = pitch_class_weights([n.start for n in notes],
                                           [n.start + n.duration for n in notes],
                                           [n.pitch for n in notes], start=a, stop=b)
            weights, bass = grid.weights(a, b)
            assert np.array_equal(weights, expected[0]) and np.array_equal(bass, expected[1])
            assert grid.chord(a, b) == recognize_chord(expected[0], bass_weights=expected[1])
