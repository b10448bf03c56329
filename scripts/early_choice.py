"""Could the candidates be chosen after a few sampler steps instead of at the end?
(docs/model-card.md, "Choosing candidates early: tried, not shipped")

Drawing candidates costs a larger batch through every step. If the estimate after step k
already told which candidate wins, the others could stop there: ``k x C + (S - k)`` roll
passes instead of ``S x C``. With DDIM (eta 0) a candidate's final sample does not depend
on the others in its batch, so this script runs each request once with ``--candidates``
candidates, records every step's estimate of every candidate (the sampler's denoiser is
wrapped), and reports what choosing on the estimate after step k would have kept: the
mean, over the windows, of the kept candidate's final chord accuracy (accompaniment) or
top-line distance to the real bars (infill).

Windows: those of ``diffjam eval`` (one per song, seed 0; infill: bars 7-10 of 16).

    python3 scripts/early_choice.py --cache cache/pop909.npz --task accompany --candidates 8
    python3 scripts/early_choice.py --cache cache/pop909.npz --task infill --candidates 8 \
        [--chords]
"""

import argparse
import json

import numpy as np
import torch

import engine.pipeline as pipeline_module
from engine import metrics
from engine.baselines import TaskInput
from engine.candidates import chord_fit, line_fit
from engine.evaluate import _task_seed, choose_segments, songs_from_cache
from engine.pianoroll import STEPS_PER_BAR, roll_to_notes
from engine.sampling import BarRange, SamplingOptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", required=True, help="training cache (its valid split)")
    parser.add_argument("--task", choices=("accompany", "infill"), required=True)
    parser.add_argument("--chords", action="store_true", help="infill given the chords")
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--model", help="model file (default: the bundled one)")
    parser.add_argument("--out", help="JSON of every window's per-step scores")
    args = parser.parse_args()
    torch.set_num_threads(1)

    estimates: list[np.ndarray] = []
    sample_ddim = pipeline_module.sample_ddim

    def recording(denoiser, x, times, **kwargs):  # type: ignore[no-untyped-def]
        def record(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            x0 = denoiser(x_t, t)
            estimates.append(x0.float().cpu().numpy())
            return x0
        return sample_ddim(record, x, times, **kwargs)

    pipeline_module.sample_ddim = recording
    pipe = pipeline_module.Pipeline.load(args.model, device="cpu", threads=1)
    window = 8 if args.task == "accompany" else 16
    gap = None if args.task == "accompany" else (6, 10)
    segments = choose_segments(songs_from_cache(args.cache, None, split="valid"),
                               n_per_song=1, seed=0, n_bars=window)
    rows = []  # per window: per step, per candidate (score..., final metric)
    for segment in segments:
        task = TaskInput(task=args.task, segment=segment, seed=0, gap=gap)
        chords = list(task.chords())
        options = SamplingOptions(key=segment.key, seed=_task_seed(task),
                                  candidates=args.candidates)
        estimates.clear()
        if args.task == "accompany":
            result = pipe.accompany(chords, n_bars=segment.n_bars, melody=list(task.given()),
                                    options=options)
            lo, hi = 0, segment.n_bars * STEPS_PER_BAR
            score = chord_fit(chords, start=lo, stop=hi)

            def metric(notes, lo=lo, hi=hi, chords=chords):  # type: ignore[no-untyped-def]
                return metrics.chord_accuracy(notes, chords, start=lo, stop=hi)
        else:
            result = pipe.infill(list(task.given()), n_bars=segment.n_bars,
                                 bars=BarRange(*task.bars), options=options,
                                 chords=chords if args.chords else None)
            lo, hi = task.steps
            score = line_fit(list(task.given()), start_bar=task.bars[0], stop_bar=task.bars[1])
            real = metrics.mean_pitch(metrics.top_line(task.target()))

            def metric(notes, real=real):  # type: ignore[no-untyped-def]
                return abs(metrics.mean_pitch(metrics.top_line(notes)) - real) \
                    if notes else float("nan")
        if score is None or result.candidates != args.candidates:
            continue
        steps = []
        for x0 in estimates:
            per = []
            for roll in np.where(x0 > 0, 1.0, -1.0)[:, :, :segment.n_bars * STEPS_PER_BAR]:
                notes = [n for n in roll_to_notes(roll, threshold=0.0) if lo <= n.start < hi]
                per.append((*score(notes), metric(notes)))
            steps.append(per)
        rows.append(steps)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f)
    n_steps = max(len(r) for r in rows)
    print(f"{len(rows)} windows; the kept candidate's final "
          f"{'chord accuracy' if args.task == 'accompany' else 'top-line distance (st)'}"
          f" when chosen on the estimate after step k")
    print("candidates | " + " | ".join(f"k={k + 1}" for k in range(n_steps)))
    for c in sorted({1, 2, 4, args.candidates}):
        means = []
        for k in range(n_steps):
            kept = []
            for steps in rows:
                at = steps[min(k, len(steps) - 1)][:c]
                best = max(range(c), key=lambda i, at=at: (at[i][:-1], -i))
                kept.append(steps[-1][best][-1])
            means.append(f"{np.nanmean(kept):.3f}")
        print(f"{c} | " + " | ".join(means))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
