"""The bundled model on valid songs: infill PIANO bars 9-12 under MELODY and BRIDGE (as
`diffjam infill SONG.mid --bars 9-12 --track PIANO`), with and without --below-melody;
how many new notes reach the lowest note of the kept tracks in their bar, and the new
notes' velocities against the real bars'.

DIFFJAM_DATA=... python docs/dynamics/measure_register.py [SONGS [DEVICE]]
(40 songs: ~6 min on 2 CPU cores)
"""

import os
import sys
import time
from pathlib import Path

import numpy as np

from engine.clipfile import infill_file, pick_tracks, read_clip_file
from engine.errors import InputError
from engine.pipeline import Pipeline
from engine.pop909 import read_split_file
from engine.sampling import BarRange, SamplingOptions

DATA = Path(os.environ["DIFFJAM_DATA"])
ids = [s for s, split in read_split_file(DATA / "splits/split.txt").items() if split == "valid"]
n_songs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
device = sys.argv[2] if len(sys.argv) > 2 else "cpu"
pipeline = Pipeline.load(device=device)
bars = BarRange(8, 12)
stats: dict[bool, list] = {False: [], True: []}
real_velocity, new_velocity = [], []
started = time.time()
for sid in ids:
    if len(real_velocity) >= n_songs:
        break
    try:
        clip = read_clip_file(DATA / "pop909" / sid / f"{sid}.mid")
        (piano,) = pick_tracks(clip, ["PIANO"])
    except InputError:
        continue
    lo, hi = clip.grid.bar_start(8), clip.grid.bar_start(12)
    real = [n.velocity for n in clip.notes[piano] if lo <= n.start < hi]
    if clip.n_bars < 16 or len(real) < 8:
        continue
    for below in (False, True):
        out = infill_file(clip, pipeline, bars=bars, tracks=[piano],
                          options=SamplingOptions(seed=int(sid), below_melody=below))
        stats[below].append((out.crossings[0], out.new_notes[0]))
        if not below:
            new = [n.velocity for n in out.result.variations[0]] or [np.nan]
            real_velocity.append((np.mean(real), np.std(real)))
            new_velocity.append((np.mean(new), np.std(new)))
print(f"{len(real_velocity)} songs, {time.time() - started:.0f} s on {device}")
for below, rows in stats.items():
    a = np.array(rows, float)
    print(f"below_melody={below}: {a[:, 0].sum():.0f} of {a[:, 1].sum():.0f} new notes reach "
          f"the floor ({100 * a[:, 0].sum() / max(1, a[:, 1].sum()):.1f} %), runs with one "
          f"{(a[:, 0] > 0).sum()} of {len(a)}, new notes per run {a[:, 1].mean():.1f}")
r, n = np.array(real_velocity), np.array(new_velocity)
print(f"velocity in bars 9-12: real mean {np.nanmean(r[:, 0]):.1f} std {np.nanmean(r[:, 1]):.1f}; "
      f"new mean {np.nanmean(n[:, 0]):.1f} std {np.nanmean(n[:, 1]):.1f}; per song |mean "
      f"difference| {np.nanmean(np.abs(n[:, 0] - r[:, 0])):.1f}")
