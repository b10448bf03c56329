"""Training windows from the POP909 cache, with transposition augmentation at load time.

Each song of a :class:`~engine.cache.SongCache` is expanded once into dense per-step
arrays (steps x 128 MIDI pitches, one bit per track and channel); a batch then cuts random
windows of ``window_bars`` bars out of them, transposes each by a random number of
semitones and draws which conditions are present (condition dropout, which is what makes
classifier-free guidance and "any subset of conditions" possible at inference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from engine.cache import CachedSong
from engine.harmony import Chord, ChordSpan, chord_grid
from engine.model import TASK_ACCOMPANIMENT, Conditioning
from engine.pianoroll import N_PITCHES, PITCH_LOW, STEPS_PER_BAR, density_hint

# Bit layout of a song's dense roll: (track, channel) -> bit.
_BIT = {(track, channel): 2 * track + channel for track in range(3) for channel in range(2)}


@dataclass(frozen=True)
class ConditionRates:
    """Probability that each condition is present in a training example."""

    accompaniment_task: float = 0.5
    melody: float = 0.8  # of accompaniment examples
    chords: float = 0.8
    known: float = 0.6
    continuation: float = 0.3  # of examples with a known part: only the bars before are known
    rhythm: float = 0.25
    # of examples with the rhythm condition: the condition a request's density sends
    # (engine.pianoroll.density_hint for the target's notes a bar) instead of the target's
    # own onsets, so a model learns the hint the product gives it (engine.distill)
    density_hint: float = 0.0


@dataclass(frozen=True)
class DenseSong:
    song_id: str
    bits: np.ndarray  # uint8 (steps, 128)
    chroma: np.ndarray  # uint8 (steps, 12)
    bass: np.ndarray  # int8 (steps,), -1 where no chord

    @property
    def n_bars(self) -> int:
        return self.bits.shape[0] // STEPS_PER_BAR


def densify(song: CachedSong, chords: Sequence[Chord]) -> DenseSong:
    """Expand one cached song into per-step arrays; ``chords`` is the parsed chord
    vocabulary (:func:`engine.harmony.parse_vocab`), indexed by the song's chord indices."""
    steps = song.n_bars * STEPS_PER_BAR
    bits = np.zeros((steps, 128), dtype=np.uint8)
    for track, pitch, start, duration, _velocity in song.notes.astype(np.int64):
        if start >= steps:
            continue
        end = min(start + max(duration, 1), steps)
        bits[start, pitch] |= 1 << _BIT[(track, 0)]
        if end > start + 1:
            bits[start + 1 : end, pitch] |= 1 << _BIT[(track, 1)]
    spans = [ChordSpan(max(start, 0), end - max(start, 0), chords[index])
             for start, end, index in song.chords.tolist() if end > max(start, 0)]
    chroma, bass = chord_grid(spans, steps)
    return DenseSong(song.song_id, bits, chroma, bass)


@dataclass(frozen=True)
class Batch:
    x0: torch.Tensor  # float32 (B, 2, T, P) in data units
    cond: Conditioning


def _channels(bits: np.ndarray, tracks: tuple[int, ...]) -> np.ndarray:
    """(…, T, P) uint8 bits -> float32 (…, 2, T, P) onset/sustain in {0, 1}; an onset of
    one track wins over a sustain of another at the same pitch and step."""
    onset = np.zeros(bits.shape, dtype=bool)
    sustain = np.zeros(bits.shape, dtype=bool)
    for track in tracks:
        onset |= (bits >> _BIT[(track, 0)]) & 1 == 1
        sustain |= (bits >> _BIT[(track, 1)]) & 1 == 1
    sustain &= ~onset
    return np.stack([onset, sustain], axis=-3).astype(np.float32)


class WindowSampler:
    """Random training windows; deterministic for a given seed."""

    def __init__(
        self,
        songs: list[DenseSong],
        *,
        window_bars: int = 8,
        transpose: tuple[int, int] = (-5, 6),
        rates: ConditionRates = ConditionRates(),
        seed: int = 0,
    ) -> None:
        self.songs = [s for s in songs if s.n_bars >= window_bars]
        if not self.songs:
            raise ValueError(f"no song has {window_bars} bars")
        self.window_bars = window_bars
        self.transpose = transpose
        self.rates = rates
        self.rng = np.random.default_rng(seed)
        weights = np.array([s.n_bars - window_bars + 1 for s in self.songs], dtype=np.float64)
        self.weights = weights / weights.sum()

    def batch(self, size: int) -> Batch:
        rng, rates = self.rng, self.rates
        steps = self.window_bars * STEPS_PER_BAR
        bits = np.zeros((size, steps, N_PITCHES), dtype=np.uint8)
        chroma = np.zeros((size, steps, 12), dtype=np.float32)
        bass = np.zeros((size, steps, 12), dtype=np.float32)
        for i, index in enumerate(rng.choice(len(self.songs), size=size, p=self.weights)):
            song = self.songs[index]
            bar = rng.integers(0, song.n_bars - self.window_bars + 1)
            shift = int(rng.integers(self.transpose[0], self.transpose[1] + 1))
            rows = slice(bar * STEPS_PER_BAR, bar * STEPS_PER_BAR + steps)
            low = PITCH_LOW - shift
            bits[i] = song.bits[rows, low : low + N_PITCHES]
            chroma[i] = np.roll(song.chroma[rows], shift, axis=1)
            song_bass = song.bass[rows].astype(np.int64)
            has_bass = song_bass >= 0
            bass[i, np.nonzero(has_bass)[0], (song_bass[has_bass] + shift) % 12] = 1.0

        task = (rng.random(size) < rates.accompaniment_task).astype(np.int64)
        full = _channels(bits, (0, 1, 2))
        piano = _channels(bits, (2,))
        target = np.where(task[:, None, None, None] == TASK_ACCOMPANIMENT, piano, full)
        melody = _channels(bits, (0, 1))
        x0 = target * 2.0 - 1.0

        melody_present = (task == TASK_ACCOMPANIMENT) & (rng.random(size) < rates.melody)
        chords_present = rng.random(size) < rates.chords
        rhythm_present = rng.random(size) < rates.rhythm
        known_present = rng.random(size) < rates.known
        mask = np.zeros((size, steps), dtype=np.float32)
        for i in np.nonzero(known_present)[0].tolist():
            if rng.random() < rates.continuation:
                first = int(rng.integers(1, self.window_bars))
                mask[i, : first * STEPS_PER_BAR] = 1.0
            else:
                first = int(rng.integers(0, self.window_bars))
                length = int(rng.integers(1, min(6, self.window_bars - first) + 1))
                mask[i] = 1.0
                mask[i, first * STEPS_PER_BAR : (first + length) * STEPS_PER_BAR] = 0.0
        known = x0 * mask[:, None, :, None]
        rhythm = np.clip(target[:, 0].sum(axis=2) / 4.0, 0.0, 1.0)
        if rates.density_hint > 0.0:  # drawn only when asked: other runs keep their batches
            hinted = rhythm_present & (rng.random(size) < rates.density_hint)
            for i in np.nonzero(hinted)[0].tolist():
                per_bar = float(target[i, 0].sum()) / self.window_bars
                rhythm[i] = density_hint(per_bar, steps)

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a))

        cond = Conditioning(
            task=t(task),
            known=t(known),
            mask=t(mask),
            chroma=t(chroma),
            bass=t(bass),
            melody=t(melody * 2.0 - 1.0),
            rhythm=t(rhythm.astype(np.float32)),
            known_present=t(known_present.astype(np.float32)),
            chords_present=t(chords_present.astype(np.float32)),
            melody_present=t(melody_present.astype(np.float32)),
            rhythm_present=t(rhythm_present.astype(np.float32)),
        )
        return Batch(x0=t(x0.astype(np.float32)), cond=cond)


def concat_batches(parts: Sequence[Batch]) -> Batch:
    """The windows of several batches, in order, as one batch."""

    def cat(tensors: list[torch.Tensor | None]) -> torch.Tensor | None:
        present = [tensor for tensor in tensors if tensor is not None]
        if not present:
            return None
        if len(present) < len(tensors):
            raise ValueError("a condition is set in some of the batches and not in others")
        return torch.cat(present)

    cond = Conditioning.from_fields({
        f.name: cat([getattr(p.cond, f.name) for p in parts]) for f in fields(Conditioning)
    })
    return Batch(x0=torch.cat([p.x0 for p in parts]), cond=cond)


class MixedSampler:
    """Batches of which a fixed share of windows comes from other songs: POP909 mixed into
    a fine-tune on a user's own songs, so that the network does not forget it.

    Each batch of ``size`` holds ``round(share x size)`` windows of ``mix`` (at most
    ``size - 1``) after the windows of ``main``. Both samplers draw from one generator:
    setting ``rng`` (as :func:`engine.train.window_batch` does each step) seeds both.
    """

    def __init__(self, main: WindowSampler, mix: WindowSampler, *, share: float) -> None:
        if not 0.0 < share < 1.0:
            raise ValueError(f"share must be in (0, 1), got {share}")
        if mix.window_bars != main.window_bars:
            raise ValueError("both samplers must cut windows of the same length")
        self.main, self.mix, self.share = main, mix, share
        self.window_bars = main.window_bars

    @property
    def rng(self) -> np.random.Generator:
        return self.main.rng

    @rng.setter
    def rng(self, rng: np.random.Generator) -> None:
        self.main.rng = rng
        self.mix.rng = rng

    def batch(self, size: int) -> Batch:
        n_mix = min(size - 1, round(self.share * size))
        if n_mix <= 0:
            return self.main.batch(size)
        return concat_batches([self.main.batch(size - n_mix), self.mix.batch(n_mix)])
