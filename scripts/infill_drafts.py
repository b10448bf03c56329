"""How much of an infill is the bars it started from? (docs/model-card.md, "Infill drafts")

On the windows `diffjam eval --task infill --window-bars 16 --gap-bars 4` scores (one per
song, bars 7-10 regenerated, no chords given), with the bundled model at its defaults or
at ``--repeat``: the note F1 (onset and pitch) of the gap against its draft (the bars
it repeats, engine.repeats.find_repeat, or where no period qualifies the bars next to
it, neighbour_guide), of the real bars against the same draft, and of the gap against
the real bars; separately for windows with a repeat period and without. A gap that
keeps much more of its draft than the real bars do is a copy, not a continuation.

    python3 scripts/infill_drafts.py --data ../shared/data \
        --songs ../shared/data/splits/split.txt --subset valid [--repeat 0.8] [--candidates N] \
        [--out F]
"""

import argparse
import json
import os

import numpy as np

from engine import metrics
from engine.evaluate import choose_segments, load_songs, parse_song_ids
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.pipeline import BarRange, Pipeline
from engine.repeats import find_repeat, neighbour_guide
from engine.sampling import SamplingOptions

WINDOW_BARS, GAP = 16, (6, 10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("DIFFJAM_DATA", "../shared/data"))
    parser.add_argument("--songs", required=True, help="song ids or a split file")
    parser.add_argument("--subset", help="the split file's line (e.g. valid)")
    parser.add_argument("--repeat", type=float, help="SamplingOptions.repeat (default: "
                                                     "the engine's)")
    parser.add_argument("--candidates", type=int, help="SamplingOptions.candidates "
                                                       "(default: the engine's)")
    parser.add_argument("--model", help="model file (default: the bundled model)")
    parser.add_argument("--out", help="also write the figures as JSON")
    args = parser.parse_args()
    songs = load_songs(args.data, parse_song_ids(args.songs, subset=args.subset))
    segments = choose_segments(songs, n_per_song=1, seed=0, n_bars=WINDOW_BARS)
    pipeline = Pipeline.load(args.model, threads=1)
    lo, hi = GAP[0] * STEPS_PER_BAR, GAP[1] * STEPS_PER_BAR
    rows: dict[str, list[tuple[float, float, float]]] = {"repeat period": [],
                                                        "no period": []}
    for index, segment in enumerate(segments):
        notes = segment.arrangement()
        context = [n for n in notes if not lo <= n.start < hi]
        real = [n for n in notes if lo <= n.start < hi]
        guide = find_repeat(context, n_bars=WINDOW_BARS, gap=GAP)
        kind = "repeat period"
        if guide is None:
            guide, kind = neighbour_guide(n_bars=WINDOW_BARS, gap=GAP), "no period"
        if guide is None or not real:
            continue
        draft = [Note(n.start + (bar - source) * STEPS_PER_BAR, n.pitch, n.duration,
                      n.velocity)
                 for bar, source in guide.sources.items() for n in context
                 if source * STEPS_PER_BAR <= n.start < (source + 1) * STEPS_PER_BAR]
        options = SamplingOptions(key=segment.key, seed=index, repeat=args.repeat,
                                  candidates=args.candidates)
        result = pipeline.infill(context, n_bars=WINDOW_BARS, bars=BarRange(*GAP),
                                 options=options)
        gap = [n for n in result.variations[0] if lo <= n.start < hi]
        rows[kind].append((metrics.note_f1(gap, draft), metrics.note_f1(real, draft),
                           metrics.note_f1(gap, real)))
    pipeline.close()
    report = {}
    for kind, values in rows.items():
        if not values:
            continue
        mean = np.nanmean(np.array(values), axis=0)
        report[kind] = {"windows": len(values), "gap_vs_draft": round(float(mean[0]), 3),
                        "real_vs_draft": round(float(mean[1]), 3),
                        "gap_vs_real": round(float(mean[2]), 3)}
        print(f"{kind:14s} {len(values):3d} windows  note F1: gap~draft {mean[0]:.3f}  "
              f"real~draft {mean[1]:.3f}  gap~real {mean[2]:.3f}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"repeat": args.repeat, **report}, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
