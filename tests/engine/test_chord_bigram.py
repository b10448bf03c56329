"""The chord bigram model: Roman tokens, fitting, add-one scoring and sampling, on tiny
progressions (no POP909 needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import chord_bigram as cb
from engine.cache import CachedSong, SongCache
from engine.harmony import ChordSpan, Key, parse_symbol

C_MAJOR = Key(0, "major")


def spans(symbols: str, *, steps: int = 16) -> list[ChordSpan]:
    """One chord per ``steps`` steps ("N" allowed)."""
    return [ChordSpan(start=i * steps, duration=steps, chord=parse_symbol(s))
            for i, s in enumerate(symbols.split())]


def song(symbols: str, key: Key = C_MAJOR, *, steps: int = 16
         ) -> tuple[list[ChordSpan], list[tuple[int, Key]], int]:
    chords = spans(symbols, steps=steps)
    return chords, [(0, key)], max(c.stop for c in chords)


def pop_table() -> cb.ChordBigram:
    """Ten songs of I V vi IV in several keys (G as G7 in two of them), one oddity."""
    songs = [song("C G Am F " * 4),
             song("G D Em C " * 4, Key(7, "major")),
             song("D A Bm G " * 4, Key(2, "major")),
             song("C G7 Am F " * 4), song("C G7 Am F " * 4)]
    songs += [song("C G Am F C G Am F") for _ in range(5)]
    songs.append(song("C Db C Db", C_MAJOR))
    songs.append(song("Am F C G " * 2, Key(9, "minor")))
    return cb.fit_bigram(songs)


def test_chords_are_read_as_roman_tokens() -> None:
    def name(symbol: str, key: Key = C_MAJOR) -> str:
        token = cb.chord_token(parse_symbol(symbol), key)
        assert token is not None
        return cb.token_name(token)

    assert [name(s) for s in ("C", "Cmaj7", "G7", "Am", "Am/C", "Bb", "Bdim", "Dsus4")] == [
        "I", "I", "V", "vi", "vi", "bVII", "vii°", "IIsus"]
    assert name("Am", Key(9, "minor")) == "i"
    assert name("F", Key(9, "minor")) == "bVI"
    assert cb.chord_token(parse_symbol("N"), C_MAJOR) is None


def test_progressions_merge_equal_tokens_and_break_at_no_chord() -> None:
    chords = spans("C Cmaj7 G N Am F F")
    assert [(mode, [cb.token_name(t) for _, t in p])
            for mode, p in cb.progression_tokens(chords, [(0, C_MAJOR)])] == [
        (0, ["I", "V"]), (0, ["vi", "IV"])]
    # a key change is followed: the same chord is a different token after it
    moved = cb.progression_tokens(spans("C G C G"), [(0, C_MAJOR), (32, Key(7, "major"))])
    assert [[cb.token_name(t) for _, t in p] for _, p in moved] == [["I", "V", "IV", "I"]]


def test_add_one_smoothing_is_exact() -> None:
    table = cb.fit_bigram([song("C G C G C F")])
    one, five, four = (cb.chord_token(parse_symbol(s), C_MAJOR) for s in ("C", "G", "F"))
    assert one is not None and five is not None and four is not None
    # from I: 2 changes to V, 1 to IV, 3 in all; T - 1 alternatives
    assert table.log_prob(one, five, 0) == pytest.approx(math.log(3 / (3 + cb.N_TOKENS - 1)))
    assert table.log_prob(one, four, 0) == pytest.approx(math.log(2 / (3 + cb.N_TOKENS - 1)))
    row = [math.exp(table.log_prob(one, t, 0)) for t in range(cb.N_TOKENS) if t != one]
    assert sum(row) == pytest.approx(1.0)
    # an unseen row is uniform over the other tokens
    assert table.log_prob(four + 1, one, 0) == pytest.approx(-math.log(cb.N_TOKENS - 1))


def test_the_model_prefers_a_common_progression() -> None:
    table = pop_table()
    common, _ = cb.progression_log_prob(table, spans("C G Am F C G Am F"), [(0, C_MAJOR)])
    odd, n_odd = cb.progression_log_prob(table, spans("C Db Ebm E F#"), [(0, C_MAJOR)])
    assert n_odd == 4
    assert common > odd + 1.0
    # key-relative: the same progression in E major scores the same
    moved, _ = cb.progression_log_prob(table, spans("E B C#m A E B C#m A"),
                                       [(0, Key(4, "major"))])
    assert moved == pytest.approx(common)
    assert math.isnan(cb.progression_log_prob(table, spans("C Cmaj7"), [(0, C_MAJOR)])[0])


def test_harmonic_rhythm_on_the_half_bar_grid() -> None:
    per_bar = cb.fit_bigram([song("C G Am F " * 4)])
    assert per_bar.change.tolist() == [1.0, 0.0]  # changes on bar lines only
    per_half = cb.fit_bigram([song("C G Am F " * 4, steps=8)])
    assert per_half.change.tolist() == [1.0, 1.0]
    # every other bar line
    two_bars = cb.fit_bigram([song("C G Am F", steps=32)])
    assert two_bars.change.tolist() == [pytest.approx(3 / 7), 0.0]


def test_voicing_follows_the_most_common_quality() -> None:
    table = pop_table()
    five = cb.chord_token(parse_symbol("G"), C_MAJOR)
    assert five is not None
    assert table.voicing[0][five] == (0, 4, 7)  # G in most songs, G7 in two
    g7 = cb.fit_bigram([song("C G7 C G7 C G")])
    assert g7.voicing[0][five] == (0, 4, 7, 10)
    unseen = cb.chord_token(parse_symbol("Ebm"), C_MAJOR)
    assert unseen is not None and table.voicing[0][unseen] == (0, 3, 7)


def test_sampled_progressions_tile_the_bars_in_the_key() -> None:
    table = pop_table()
    key = Key(2, "major")  # D major: I V vi IV = D A Bm G
    chords = cb.sample_progression(table, 8, key, np.random.default_rng(3))
    assert chords[0].start == 0 and chords[-1].stop == 8 * 16
    assert all(a.stop == b.start for a, b in zip(chords, chords[1:], strict=False))
    assert all(c.start % cb.SLOT_STEPS == 0 and c.duration % cb.SLOT_STEPS == 0
               for c in chords)
    assert all(a.chord != b.chord for a, b in zip(chords, chords[1:], strict=False))
    # one chord per bar in the training songs: every change lands on a bar line
    assert all(c.start % 16 == 0 for c in chords)
    names = {c.chord.symbol() for c in chords}
    assert names <= {"D", "A", "Bm", "G", "Eb"}, names  # only changes the songs have
    again = cb.sample_progression(table, 8, key, np.random.default_rng(3))
    assert again == chords
    # a minor key uses the minor table (i bVI bIII bVII of A minor, here in E minor)
    minor = cb.sample_progression(table, 8, Key(4, "minor"), np.random.default_rng(0))
    assert {c.chord.symbol() for c in minor} <= {"Em", "C", "G", "D"}
    with pytest.raises(ValueError, match="n_bars"):
        cb.sample_progression(table, 0, key, np.random.default_rng(0))


def test_sampling_from_an_empty_table_still_gives_chords() -> None:
    empty = cb.fit_bigram([])
    chords = cb.sample_progression(empty, 4, C_MAJOR, np.random.default_rng(0))
    assert chords[-1].stop == 64 and all(not c.chord.is_no_chord for c in chords)
    assert empty.change.tolist() == [0.5, 0.5] and empty.songs == 0


def test_fit_cache_reads_one_split() -> None:
    vocab = ["C:maj", "G:maj", "A:min", "F:maj", "N"]
    rows = np.array([(16 * i, 16 * i + 16, i % 4) for i in range(8)], dtype=np.int32)

    def cached(song_id: str, split: str, chords: np.ndarray) -> CachedSong:
        return CachedSong(song_id=song_id, split=split, n_bars=8,
                          notes=np.zeros((0, 5), np.int16), chords=chords,
                          keys=np.array([(0, 0, 0)], np.int16),
                          phrases=np.zeros((0, 3), np.int32))

    cache = SongCache(songs=[cached("001", "train", rows),
                             cached("002", "valid", rows[::-1].copy())],
                      chord_vocab=vocab, meta={})
    train = cb.fit_cache(cache)
    both = cb.fit_cache(cache, split=None)
    assert train.songs == 1 and both.songs == 2
    assert train.counts.sum() == 7 and both.counts.sum() == 14
    summary = train.to_json()
    assert summary["songs"] == 1
    assert summary["top_changes"]["major"][0][0] in {"I -> V", "V -> vi", "vi -> IV"}
