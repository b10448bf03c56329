from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cache import ARRAYS, CacheFileError, build_cache, load_cache
from engine.pop909 import load_song

SONGS = {"001": "train", "002": "valid", "034": "train"}


@pytest.fixture(scope="module")
def built(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("cache") / "pop909.npz"
    report = build_cache(data_dir, SONGS, out, workers=2)
    return out, report


def test_layout_has_exactly_the_documented_arrays(built) -> None:
    out, _ = built
    with np.load(out, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(ARRAYS)
        assert npz["notes"].dtype == np.int16 and npz["notes"].shape[1] == 5
        assert npz["chords"].dtype == np.int32 and npz["chords"].shape[1] == 3
        assert npz["keys"].dtype == np.int16 and npz["phrases"].dtype == np.int32
        assert npz["n_bars"].dtype == np.int32
        for name in ("note", "chord", "key", "phrase"):
            offsets = npz[f"{name}_offsets"]
            assert offsets.dtype == np.int64 and offsets.shape == (3,)
        assert npz["song_ids"].tolist() == ["001", "002"]
        assert npz["splits"].tolist() == ["train", "valid"]


def test_report_names_the_dropped_triple_meter_song(built) -> None:
    _, report = built
    assert report.songs_requested == 3 and report.songs_kept == 2
    assert list(report.dropped_songs) == ["034"]
    assert "3/4" in report.dropped_songs["034"]
    assert report.file_bytes > 0
    assert "kept 2/3 songs" in report.summary()


def test_load_matches_the_songs(built, data_dir: Path) -> None:
    out, report = built
    cache = load_cache(out)
    assert cache.meta["format_version"] == 1
    assert cache.meta["steps_per_bar"] == 16
    assert (cache.meta["pitch_low"], cache.meta["n_pitches"]) == (24, 80)
    assert cache.meta["report"]["songs_kept"] == 2
    assert [s.song_id for s in cache.split("valid")] == ["002"]
    for cached in cache.songs:
        song = load_song(data_dir, cached.song_id)
        assert cached.n_bars == song.n_bars
        expected = sorted(
            (track, n.pitch, n.start, n.duration, n.velocity)
            for track, notes in enumerate(song.tracks)
            for n in notes
        )
        assert sorted(map(tuple, cached.notes.tolist())) == expected
        labels = [(int(s), int(e), cache.chord_vocab[i]) for s, e, i in cached.chords]
        assert labels == [(c.start, c.end, c.label) for c in song.chords]
        assert cached.keys.tolist() == [[k.start, k.tonic, k.mode] for k in song.keys]
        assert cached.phrases.tolist() == [
            [p.start_bar, p.n_bars, ord(p.letter)] for p in song.phrases
        ]
    first = cache.songs[0]
    assert first.song_id == "001" and first.n_bars == 73 and len(first.notes) == 1556


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.array(json.dumps({"format_version": 1})))
    with pytest.raises(CacheFileError, match="missing"):
        load_cache(path)
    with pytest.raises(CacheFileError, match="Cannot read"):
        load_cache(tmp_path / "absent.npz")
