"""A folder of plain MIDI files in one producer's style, for the own-MIDI fine-tuning check
(README, "Train on your own MIDI"): every song of a cache outside its train split (POP909's
valid songs: never trained on) as a two-track file, its MELODY track and an arpeggiated
piano part written from its annotated chords (engine.baselines.rule_accompaniment, style
"arpeggio"), at 96 BPM.

    python3 scripts/style_folder.py cache/pop909.npz runs/style/midi
"""

import sys
from pathlib import Path

from engine.baselines import rule_accompaniment
from engine.cache import load_cache
from engine.harmony import ChordSpan, parse_vocab
from engine.midifile import write_midi
from engine.pianoroll import STEPS_PER_BAR, Note


def main(cache_path: str, out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = load_cache(cache_path)
    vocab = parse_vocab(cache.chord_vocab)
    written = 0
    for song in cache.songs:
        if song.split == "train":
            continue
        melody = [Note(int(s), int(p), int(d), int(v))
                  for track, p, s, d, v in song.notes if track == 0]
        spans = [ChordSpan(int(a), int(b) - int(a), vocab[int(i)])
                 for a, b, i in song.chords if b > a and a >= 0]
        piano = rule_accompaniment(spans, lo=0, hi=song.n_bars * STEPS_PER_BAR,
                                   style="arpeggio")
        write_midi(out / f"{song.song_id}.mid", [("Melody", melody), ("Piano", piano)],
                   bpm=96)
        written += 1
    print(f"{written} files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
