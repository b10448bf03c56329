"""POP909's piano velocity profile (engine.dynamics.POP909_PIANO, PIANO_UNDER_MELODY).

DIFFJAM_DATA=... python docs/dynamics/pop909_profile.py   (train split, ~5 min on 2 cores)
"""

import os
import statistics

from engine.dynamics import register_band
from engine.errors import InputError
from engine.pop909 import load_song, read_split_file

DATA = os.environ["DIFFJAM_DATA"]
ids = [s for s, split in read_split_file(f"{DATA}/splits/split.txt").items() if split == "train"]
levels, under, songs = [], [], []
by_position: list[list[float]] = [[] for _ in range(16)]
for sid in ids:
    try:
        song = load_song(DATA, sid, phrases=False)
    except InputError:
        continue
    piano, melody = song.tracks[2], song.tracks[0]
    if len(piano) < 50:
        continue
    median = statistics.median(n.velocity for n in piano)
    levels.append(median)
    if len(melody) >= 20:
        under.append(median - statistics.median(n.velocity for n in melody))
    songs.append((median, piano))
    for n in piano:
        by_position[n.start % 16].append(n.velocity - median)
position = [statistics.median(values) for values in by_position]
by_register: list[list[float]] = [[] for _ in range(7)]
for median, piano in songs:
    for n in piano:
        by_register[register_band(n.pitch)].append(n.velocity - median - position[n.start % 16])
print(f"songs {len(songs)}, level {statistics.median(levels)}, "
      f"piano under melody {statistics.median(under)}")
print("by_position", tuple(position))
print("by_register", tuple(statistics.median(v) if v else 0.0 for v in by_register),
      [len(v) for v in by_register])
