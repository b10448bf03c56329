"""Are given chords followed in whole songs? (issue 18's target; docs/model-card.md)

On the valid songs' forms (engine.song_eval.choose_forms) with the bundled models:
(a) the real chords given (FixedParts.chords): the song's accompaniment chord accuracy
against them, and the accompaniment model alone on the same chords and the song's
melody, with the paired difference and its bootstrap 95 % interval; (b) the lead sheet's
own chords; out-of-key notes of the song; seconds per 32 bars.

    DIFFJAM_DATA=../shared/data python3 scripts/song_chords.py 40
"""

import json
import os
import sys

import numpy as np

from engine import metrics
from engine.bootstrap import SongBootstrap, percentile_interval
from engine.evaluate import load_songs, parse_song_ids
from engine.pianoroll import STEPS_PER_BAR
from engine.pipeline import Pipeline
from engine.sampling import SamplingOptions
from engine.song import FixedParts, SongOptions
from engine.song_eval import choose_forms


def main(limit: int) -> int:
    data = os.environ.get("DIFFJAM_DATA", "../shared/data")
    ids = parse_song_ids(os.path.join(data, "splits", "split.txt"), subset="valid")
    tasks = choose_forms(load_songs(data, ids), seed=0, limit=limit)[0]
    pipeline = Pipeline.load(threads=1)
    out: dict[str, list[float]] = {k: [] for k in (
        "song_given", "alone_given", "song_generated", "ook", "seconds_per_32_bars")}
    for task in tasks:
        n = task.n_bars * STEPS_PER_BAR
        given = [c for c in task.truth.chords if c.start < n]
        song = pipeline.song(task.phrases, key=task.key, options=SongOptions(seed=task.seed),
                             fixed=FixedParts(chords=tuple(given)))
        out["song_given"].append(metrics.chord_accuracy(song.accompaniment, given,
                                                        start=0, stop=n))
        alone = pipeline.accompany(given, n_bars=task.n_bars, melody=list(song.melody),
                                   options=SamplingOptions(seed=task.seed % 2**62,
                                                           key=task.key))
        out["alone_given"].append(metrics.chord_accuracy(alone.variations[0], given,
                                                         start=0, stop=n))
        free = pipeline.song(task.phrases, key=task.key, options=SongOptions(seed=task.seed))
        out["song_generated"].append(metrics.chord_accuracy(free.accompaniment, free.chords,
                                                            start=0, stop=n))
        scale = task.key.scale_mask()
        notes = [*free.melody, *free.accompaniment]
        out["ook"].append(sum(not scale[x.pitch % 12] for x in notes) / max(len(notes), 1))
        out["seconds_per_32_bars"].append(free.seconds["total"] * 32 / free.n_bars)
    result: dict[str, object] = {k: float(np.nanmean(v)) for k, v in out.items()}
    diff = np.array(out["song_given"]) - np.array(out["alone_given"])
    resamples = SongBootstrap([task.song_id for task in tasks]).means(diff)
    result["song_minus_alone"] = float(np.nanmean(diff))
    result["song_minus_alone_95"] = list(percentile_interval(resamples))
    result["songs"] = len(tasks)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
