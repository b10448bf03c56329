"""The student with classifier-free guidance added at its last steps (docs/model-card.md,
"The refinement round"): what a second distillation round could fold in.

The engine runs a distilled student with its guidance folded in, one pass a step. This
script routes the student's requests through the sampler with guidance ``scale`` at noise
times ``t <= below`` on top of that (two passes at those steps), and prints the mean
figures of ``diffjam eval``'s windows (one per valid song, seed 0; infill: bars 7-10 of
16) for each ``scale:below`` given. ``1:1`` is the student as it ships.

    python3 scripts/student_guidance.py --cache cache/pop909.npz --task infill_chords 1:1 2:0.55
    python3 scripts/student_guidance.py --cache cache/pop909.npz --task accompany \
        --candidates 4 1:1 1.25:0.55
"""

import argparse

import numpy as np
import torch

import engine.pipeline as pipeline_module
from engine.baselines import TaskInput
from engine.evaluate import _task_seed, choose_segments, segment_metrics, songs_from_cache
from engine.sampling import BarRange, SamplingOptions

FIGURES = ("chord_acc", "beat_pc_f1", "density_ratio", "topline_abs_diff", "note_f1",
           "density", "polyphony")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", required=True, help="training cache (its valid split)")
    parser.add_argument("--task", choices=("accompany", "infill_chords", "infill"),
                        required=True, help="infill: no chords given")
    parser.add_argument("--candidates", type=int, default=1)
    parser.add_argument("--model", help="student file (default: the bundled one)")
    parser.add_argument("settings", nargs="+", help="scale:below pairs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    pipe = pipeline_module.Pipeline.load(args.model, device="cpu", threads=1)
    if pipe.student is None:
        parser.error("the model has no student")
    routed = pipeline_module.Pipeline._network_for
    extra: dict[str, float] = {}

    def network_for(self, options, task):  # type: ignore[no-untyped-def]
        net, steps, scale, below = routed(self, options, task)
        if net is self.student[0]:
            return net, steps, extra["scale"], extra["below"]
        return net, steps, scale, below

    pipeline_module.Pipeline._network_for = network_for  # type: ignore[method-assign]
    window = 8 if args.task == "accompany" else 16
    segments = choose_segments(songs_from_cache(args.cache, None, split="valid"),
                               n_per_song=1, seed=0, n_bars=window)
    for setting in args.settings:
        extra["scale"], extra["below"] = map(float, setting.split(":"))
        rows, nfe = [], 0
        for segment in segments:
            task = TaskInput(task="accompany" if args.task == "accompany" else "infill",
                             segment=segment, seed=0,
                             gap=None if args.task == "accompany" else (6, 10))
            options = SamplingOptions(key=segment.key, seed=_task_seed(task),
                                      candidates=args.candidates)
            if args.task == "accompany":
                result = pipe.accompany(list(task.chords()), n_bars=segment.n_bars,
                                        melody=list(task.given()), options=options)
                produced = tuple(sorted(result.variations[0]))
            else:
                result = pipe.infill(list(task.given()), n_bars=segment.n_bars,
                                     bars=BarRange(*task.bars), options=options,
                                     chords=list(task.chords())
                                     if args.task == "infill_chords" else None)
                lo, hi = task.steps
                produced = tuple(sorted(n for n in result.variations[0] if lo <= n.start < hi))
            nfe = max(nfe, result.nfe)
            rows.append(segment_metrics(task, produced).values)
        means = {k: float(np.nanmean([r[k] for r in rows if k in r])) for k in FIGURES}
        print(f"{args.task} guidance {setting} ({len(rows)} windows, up to {nfe} passes): "
              + ", ".join(f"{k} {v:.3f}" for k, v in means.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
