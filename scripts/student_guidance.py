"""The student with classifier-free guidance added at some of its steps (docs/model-card.md,
"The refinement round", "The first-step round"): what a further distillation round could
fold in.

The engine runs a distilled student with its guidance folded in, one pass a step. This
script routes the student's requests through the sampler with guidance ``scale`` at noise
times ``above < t <= below`` on top of that (two passes at those steps), and prints the
mean figures of ``diffjam eval``'s windows (one per song of ``--split``, seed 0; infill:
bars 7-10 of 16) for each ``scale:below[:above]`` given (``above`` 0 when left out).
``1:1`` is the student as it ships. ``--split train --songs 120`` tunes on training songs
and leaves the valid split to the evaluation.

    python3 scripts/student_guidance.py --cache cache/pop909.npz --task infill_chords 1:1 2:0.55
    python3 scripts/student_guidance.py --cache cache/pop909.npz --task accompany \
        --candidates 4 1:1 1.25:0.55
    python3 scripts/student_guidance.py --cache cache/pop909.npz --task infill_chords \
        --model engine/weights/diffjam-v5-fast2.safetensors --split train --songs 120 \
        1:1 2:1:0.8 3:1:0.8 4:1:0.8 2:1:0.5
"""

import argparse
import functools

import numpy as np
import torch

import engine.pipeline as pipeline_module
from engine.baselines import TaskInput
from engine.evaluate import _task_seed, choose_segments, segment_metrics, songs_from_cache
from engine.sampling import BarRange, SamplingOptions

FIGURES = ("chord_acc", "chord_acc_beat", "beat_pc_f1", "density_ratio", "topline_abs_diff",
           "note_f1", "density", "polyphony")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", required=True, help="training cache (its valid split)")
    parser.add_argument("--task", choices=("accompany", "infill_chords", "infill"),
                        required=True, help="infill: no chords given")
    parser.add_argument("--candidates", type=int, default=1)
    parser.add_argument("--model", help="student file (default: the bundled one)")
    parser.add_argument("--split", default="valid", help="the cache split whose songs to use")
    parser.add_argument("--songs", type=int, help="only the split's first N songs")
    parser.add_argument("--quality", default="fast",
                        help="high: the teacher instead (nothing added to it)")
    parser.add_argument("--guidance-below", type=float,
                        help="the request's guidance interval (the teacher's; default: its own)")
    parser.add_argument("settings", nargs="+", help="scale:below[:above]")
    args = parser.parse_args()
    torch.set_num_threads(1)
    pipe = pipeline_module.Pipeline.load(args.model, device="cpu", threads=1)
    if pipe.student is None:
        parser.error("the model has no student")
    # the file's own student runs every kind here, whatever its students table hands on
    # (the bundled diffjam-v5-fast2 hands infill given chords to diffjam-v5-fast5)
    pipe.task_students.clear()
    routed = pipeline_module.Pipeline._network_for
    extra: dict[str, float] = {}

    def network_for(self, options, task):  # type: ignore[no-untyped-def]
        net, steps, scale, below = routed(self, options, task)
        if net is self.student[0]:
            return net, steps, extra["scale"], extra["below"]
        return net, steps, scale, below

    pipeline_module.Pipeline._network_for = network_for  # type: ignore[method-assign]
    # the interval's lower end, for the sampler's denoiser and its count of passes
    plain_denoiser, plain_steps = pipeline_module.GuidedDenoiser, pipeline_module.guided_steps
    window = 8 if args.task == "accompany" else 16
    songs = songs_from_cache(args.cache, None, split=args.split)[:args.songs]
    segments = choose_segments(songs, n_per_song=1, seed=0, n_bars=window, warn=False)
    for setting in args.settings:
        extra["scale"], extra["below"], above = (*map(float, setting.split(":")), 0.0)[:3]
        pipeline_module.GuidedDenoiser = functools.partial(  # type: ignore[misc,assignment]
            plain_denoiser, above=above)
        pipeline_module.guided_steps = functools.partial(plain_steps, above=above)
        rows, nfe = [], 0
        for segment in segments:
            task = TaskInput(task="accompany" if args.task == "accompany" else "infill",
                             segment=segment, seed=0,
                             gap=None if args.task == "accompany" else (6, 10))
            options = SamplingOptions(key=segment.key, seed=_task_seed(task),
                                      candidates=args.candidates, quality=args.quality,
                                      guidance_below=args.guidance_below)
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
