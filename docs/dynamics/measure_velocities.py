"""Velocities of the real notes of 4-bar gaps (3 random gaps a song, valid split, PIANO
and MELODY), predicted from the notes around them: one flat value (the context's median,
what diffjam did before) against engine.dynamics.VelocityProfile.

DIFFJAM_DATA=... python docs/dynamics/measure_velocities.py   (~1 min)
"""

import os
import statistics

import numpy as np

from engine.dynamics import VelocityProfile
from engine.errors import InputError
from engine.pop909 import load_song, read_split_file

DATA = os.environ["DIFFJAM_DATA"]
ids = [s for s, split in read_split_file(f"{DATA}/splits/split.txt").items() if split == "valid"]
rng = np.random.default_rng(0)
rows: dict[tuple[str, str], list] = {}
for sid in ids:
    try:
        song = load_song(DATA, sid, phrases=False)
    except InputError:
        continue
    for part, notes in (("piano", song.tracks[2]), ("melody", song.tracks[0])):
        if len(notes) < 100:
            continue
        for _ in range(3):
            g = int(rng.integers(2, song.n_bars - 6))
            lo, hi = g * 16, (g + 4) * 16
            gap = [n for n in notes if lo <= n.start < hi]
            context = [n for n in notes if not lo <= n.start < hi]
            if len(gap) < 8:
                continue
            real = np.array([n.velocity for n in gap], float)
            flat = np.full(len(gap), int(statistics.median(n.velocity for n in context)))
            profile = VelocityProfile.fit(context, near=(lo, hi))
            fitted = profile.velocities(np.array([n.start for n in gap]),
                                        np.array([n.pitch for n in gap])).astype(float)
            for name, pred in (("flat", flat), ("profile", fitted)):
                both = pred.std() > 0 and real.std() > 0
                corr = np.corrcoef(pred, real)[0, 1] if both else np.nan
                rows.setdefault((part, name), []).append(
                    (np.abs(pred - real).mean(), pred.mean() - real.mean(), pred.std(),
                     real.std(), corr))
for (part, name), values in rows.items():
    a = np.array(values)
    print(f"{part:6s} {name:8s} gaps {len(a)}  MAE {a[:, 0].mean():.2f}  "
          f"mean error {a[:, 1].mean():+.2f}  std in the gap {a[:, 2].mean():.1f} "
          f"(real {a[:, 3].mean():.1f})  r in the gap {np.nanmean(a[:, 4]):.2f}")
