"""The lead-sheet stage of the song cascade: melody and chords diffused jointly over whole
phrases, conditioned on the form.

Representation (one column per 16th step, in a key-normalised space: every song is moved
so that its tonic is C; the mode is a condition):

=============  ========  ================================================================
channels       count     meaning (data units: -1 off, +1 on)
=============  ========  ================================================================
0 .. 47        48        melody onsets, MIDI 48..95 (C3..B5 + an octave; folded into it)
48 .. 95       48        melody sustain (the steps after an onset while the note sounds)
96 .. 107      12        chord tones (chroma, index 0 = the tonic)
108 .. 119     12        chord bass (one-hot pitch class)
=============  ========  ================================================================

The chords are *output* channels beside the melody (Music-Diff's joint perturbation of
notes and chords), so a song gets chords when none are given; given chords, like given
melody bars, are known parts (inpainting), with a mask per part.

Conditions per step (:func:`form_features`): the phrase label (one-hot over
:data:`LABELS`; index 0 = no label), the place in the phrase (fraction, the phrase's
length, the bars left, whether this is its first bar), the place in the song, the mode,
and the metre phase (sin/cos at 1 bar, 2 bars and a beat). With the form dropped
(``use_form=False``: label 0, phrase places 0) the same network is the no-form baseline.

Network (:class:`LeadSheetNet`): a 1-D U-Net over time (16th steps -> 8 steps per bar
at the coarsest level) with self-attention at the coarsest level, so a 32-bar window sees
all of itself; v-prediction on the zero-terminal-SNR cosine schedule of
:mod:`engine.diffusion`, as the accompaniment model.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from engine.diffusion import add_noise, x0_from_v
from engine.errors import ModelFileError
from engine.harmony import Chord, ChordSpan, chord_grid, recognize_chord
from engine.model import (
    PitchConvBlock,
    PitchRowAttention,
    ResBlock,
    TransformerBlock,
    _timestep_embedding,
    _zero_init,
)
from engine.pianoroll import STEPS_PER_BAR, Note
from engine.samplers import sample_ddim

__all__ = [
    "CHANNELS",
    "COND_DIM",
    "LABELS",
    "LEADSHEET_FORMAT",
    "LeadSheet",
    "LeadSheetConfig",
    "LeadSheetNet",
    "LeadSheetSampler",
    "MEL_LOW",
    "MEL_PITCHES",
    "decode_chords",
    "decode_melody",
    "encode",
    "form_features",
    "key_shift",
    "load_leadsheet",
    "save_leadsheet",
]

LEADSHEET_FORMAT = "diffjam-leadsheet"
MEL_LOW = 48
MEL_PITCHES = 48
ONSET, SUSTAIN, CHROMA, BASS = 0, MEL_PITCHES, 2 * MEL_PITCHES, 2 * MEL_PITCHES + 12
MELODY_CHANNELS = 2 * MEL_PITCHES
CHANNELS = MELODY_CHANNELS + 24
LABELS = "-ABCDEXiobx"  # POP909's phrase letters; "-" = no label (outside a phrase, no form)
COND_DIM = len(LABELS) + 4 + 1 + 1 + 6
BEAT = STEPS_PER_BAR // 4
HALF_BAR = STEPS_PER_BAR // 2


def label_index(letter: str) -> int:
    """Index of a phrase letter in :data:`LABELS`: POP909's letters map to themselves,
    another upper-case letter to ``X`` (a melodic phrase of its own), another lower-case
    one to ``x``."""
    if letter in LABELS[1:]:
        return LABELS.index(letter)
    return LABELS.index("X" if letter.isupper() else "x")


def key_shift(tonic: int) -> int:
    """Semitones that move ``tonic`` to C by the shorter way (-5 .. +6)."""
    shift = (-tonic) % 12
    return shift - 12 if shift > 6 else shift


def _fold(pitch: int) -> int:
    while pitch < MEL_LOW:
        pitch += 12
    while pitch >= MEL_LOW + MEL_PITCHES:
        pitch -= 12
    return pitch


# ------------------------------------------------------------------------- data

@dataclass(frozen=True)
class LeadSheet:
    """A song's lead sheet on the step grid, key-normalised (tonic = C)."""

    x: np.ndarray  # float32 (CHANNELS, T) in data units
    phrases: tuple[tuple[int, int, str], ...]  # (start bar, bars, letter)
    minor: bool

    @property
    def n_bars(self) -> int:
        return self.x.shape[1] // STEPS_PER_BAR


def encode(melody: Sequence[Note], chords: Sequence[ChordSpan], n_steps: int, *,
           shift: int = 0) -> np.ndarray:
    """Melody notes and chord spans -> (CHANNELS, n_steps) data units, transposed by
    ``shift`` semitones; melody pitches fold into the melody range by octaves; where
    melody notes overlap, the later onset cuts the earlier note (one line)."""
    x = -np.ones((CHANNELS, n_steps), dtype=np.float32)
    line = np.full(n_steps, -1, dtype=np.int64)
    onset = np.zeros(n_steps, dtype=bool)
    for note in sorted(melody, key=lambda n: (n.start, -n.pitch)):
        if not 0 <= note.start < n_steps:
            continue
        pitch = _fold(note.pitch + shift) - MEL_LOW
        end = min(note.start + max(note.duration, 1), n_steps)
        line[note.start:end] = pitch
        onset[note.start] = True
    for step in np.nonzero(line >= 0)[0].tolist():
        x[(ONSET if onset[step] else SUSTAIN) + line[step], step] = 1.0
    chroma, bass = chord_grid(chords, n_steps)
    chroma = np.roll(chroma, shift, axis=1)
    x[CHROMA:CHROMA + 12] = np.where(chroma.T > 0, 1.0, -1.0)
    has = bass >= 0
    x[BASS + (bass[has].astype(np.int64) + shift) % 12, np.nonzero(has)[0]] = 1.0
    return x


def form_features(phrases: Sequence[tuple[int, int, str]], n_bars: int, *, minor: bool,
                  use_form: bool = True) -> np.ndarray:
    """(COND_DIM, n_bars * STEPS_PER_BAR) float32: the per-step conditions of a form
    (see the module docstring). Bars no phrase covers get label 0."""
    steps = n_bars * STEPS_PER_BAR
    f = np.zeros((COND_DIM, steps), dtype=np.float32)
    f[0] = 1.0
    n = len(LABELS)
    if use_form:
        for start, bars, letter in phrases:
            lo, hi = start * STEPS_PER_BAR, min((start + bars) * STEPS_PER_BAR, steps)
            if hi <= lo or lo < 0:
                continue
            f[0, lo:hi] = 0.0
            f[label_index(letter), lo:hi] = 1.0
            local = np.arange(hi - lo, dtype=np.float32)
            f[n, lo:hi] = local / (bars * STEPS_PER_BAR)
            f[n + 1, lo:hi] = bars / 16.0
            f[n + 2, lo:hi] = (bars - local // STEPS_PER_BAR) / 16.0
            f[n + 3, lo:min(lo + STEPS_PER_BAR, hi)] = 1.0
    position = np.arange(steps, dtype=np.float32)
    f[n + 4] = position / max(steps, 1)
    f[n + 5] = float(minor)
    for row, period in enumerate((STEPS_PER_BAR, 2 * STEPS_PER_BAR, BEAT)):
        angle = 2 * math.pi * position / period
        f[n + 6 + 2 * row] = np.sin(angle)
        f[n + 7 + 2 * row] = np.cos(angle)
    return f


# ------------------------------------------------------------------------ network

@dataclass(frozen=True)
class LeadSheetConfig:
    channels: tuple[int, ...] = (96, 160, 224, 288)
    attention_layers: int = 2
    heads: int = 4
    emb_dim: int = 256
    dropout: float = 0.0
    window_bars: int = 32
    stem_channels: int = 0  # 0: none; else the melody's pitch stem (LeadSheetNet)
    stem_heads: int = 2
    stem_attention: bool = False  # time attention in each pitch row (7x the CPU cost)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LeadSheetConfig:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        if "channels" in known:
            known["channels"] = tuple(int(c) for c in known["channels"])
        return cls(**known)


class LeadSheetNet(nn.Module):
    """v-prediction U-Net over time. Input per step: x_t, the known parts, their two masks
    (melody, chords) and the form features; output: v for every channel.

    With ``stem_channels`` > 0 the melody also goes through a **pitch stem**, as in the
    accompaniment model that won this project's bake-off (docs/model-card.md): per cell of
    (time, melody pitch) the planes x_t and known (onset, sustain), the melody mask, and
    the chord tone of the cell's pitch class in x_t and known; 3x3 convolutions (and,
    with ``stem_attention``, self-attention along time within each pitch row), weights
    shared by every pitch; the
    stem enters the U-Net folded into channels and comes back as a 2-D head added to the
    melody's output, so "this pitch continues" is learnt once for all pitches.
    """

    def __init__(self, config: LeadSheetConfig) -> None:
        super().__init__()
        self.config = config
        ch = config.channels
        emb = config.emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(emb, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.inp = nn.Conv1d(2 * CHANNELS + 2 + COND_DIM, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.pool = nn.ModuleList()
        for i, width in enumerate(ch):
            prev = ch[i - 1] if i else ch[0]
            self.down.append(nn.ModuleList([ResBlock(prev, width, emb, config.dropout),
                                            ResBlock(width, width, emb, config.dropout)]))
            if i < len(ch) - 1:
                self.pool.append(nn.Conv1d(width, width, 4, stride=2, padding=1))
        self.attn = nn.ModuleList(TransformerBlock(ch[-1], config.heads, config.dropout)
                                  for _ in range(config.attention_layers))
        self.up = nn.ModuleList()
        self.unpool = nn.ModuleList()
        for i in reversed(range(len(ch))):
            nxt = ch[i - 1] if i else ch[0]
            self.up.append(nn.ModuleList([ResBlock(2 * ch[i], ch[i], emb, config.dropout),
                                          ResBlock(ch[i], nxt, emb, config.dropout)]))
            if i:
                self.unpool.append(nn.ConvTranspose1d(nxt, nxt, 4, stride=2, padding=1))
        self.out_norm = nn.GroupNorm(8, ch[0])
        self.out = nn.Conv1d(ch[0], CHANNELS, 3, padding=1)
        _zero_init(self.out)
        stem = config.stem_channels
        if stem:
            self.stem_in = nn.Conv2d(STEM_PLANES, stem, 3, padding=1)
            self.stem_block = PitchConvBlock(stem, emb)
            self.stem_attention: nn.Module = PitchRowAttention(
                stem, config.stem_heads) if config.stem_attention else nn.Identity()
            self.stem_fold = nn.Conv1d(stem * MEL_PITCHES, ch[0], 1)
            self.stem_unfold = nn.Conv1d(ch[0], stem * MEL_PITCHES, 1)
            self.stem_head = nn.Conv2d(stem, 2, 3, padding=1)
            _zero_init(self.stem_fold)
            _zero_init(self.stem_head)

    @property
    def time_multiple(self) -> int:
        return 2 ** (len(self.config.channels) - 1)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, known: torch.Tensor,
                masks: torch.Tensor, form: torch.Tensor) -> torch.Tensor:
        """x_t, known (B, CHANNELS, T); masks (B, 2, T) (melody, chords known);
        form (B, COND_DIM, T); t (B,) -> v (B, CHANNELS, T)."""
        emb = self.time_mlp(_timestep_embedding(t, self.config.emb_dim))
        h = self.inp(torch.cat([x_t, known, masks, form], dim=1))
        stem = None
        if self.config.stem_channels:
            stem = self.stem_attention(self.stem_block(
                self.stem_in(_stem_planes(x_t, known, masks)), emb))
            b, c, steps, p = stem.shape
            h = h + self.stem_fold(stem.permute(0, 1, 3, 2).reshape(b, c * p, steps))
        skips = []
        for i, blocks in enumerate(self.down):
            for block in cast(nn.ModuleList, blocks):
                h = block(h, emb)
            skips.append(h)
            if i < len(self.pool):
                h = self.pool[i](h)
        if len(self.attn):
            tokens = h.transpose(1, 2)
            for layer in self.attn:
                tokens = layer(tokens)
            h = tokens.transpose(1, 2)
        for i, blocks in enumerate(self.up):
            first, second = cast(nn.ModuleList, blocks)
            h = first(torch.cat([h, skips.pop()], dim=1), emb)
            h = second(h, emb)
            if i < len(self.unpool):
                h = self.unpool[i](h)
        h = F.silu(self.out_norm(h))
        out = self.out(h)
        if stem is not None:
            b, c, steps, p = stem.shape
            back = self.stem_unfold(h).reshape(b, c, p, steps).permute(0, 1, 3, 2)
            melody = self.stem_head(F.silu(stem + back))  # (B, 2, T, P)
            out = out + torch.cat([melody[:, 0].transpose(1, 2), melody[:, 1].transpose(1, 2),
                                   torch.zeros_like(out[:, MELODY_CHANNELS:])], dim=1)
        return out


STEM_PLANES = 7
_PITCH_CLASS = (torch.arange(MEL_PITCHES) + MEL_LOW) % 12


def _stem_planes(x_t: torch.Tensor, known: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(B, STEM_PLANES, T, MEL_PITCHES): per melody cell, x_t and known (onset, sustain),
    the melody mask, and x_t's and known's chord tone at the cell's pitch class."""
    steps = x_t.shape[2]
    pcs = _PITCH_CLASS.to(x_t.device)

    def cells(x: torch.Tensor, first: int) -> torch.Tensor:  # (B, MEL_PITCHES, T) -> (B,T,P)
        return x[:, first:first + MEL_PITCHES].transpose(1, 2)

    def chord_tone(x: torch.Tensor) -> torch.Tensor:
        return x[:, CHROMA:CHROMA + 12][:, pcs].transpose(1, 2)

    mask = masks[:, 0, :, None].expand(-1, steps, MEL_PITCHES)
    return torch.stack([cells(x_t, ONSET), cells(x_t, SUSTAIN), cells(known, ONSET),
                        cells(known, SUSTAIN), mask, chord_tone(x_t), chord_tone(known)], dim=1)


def expand_masks(masks: torch.Tensor) -> torch.Tensor:
    """(B, 2, T) part masks -> (B, CHANNELS, T): the melody mask on the melody channels,
    the chord mask on the chord channels."""
    return torch.cat([masks[:, :1].expand(-1, MELODY_CHANNELS, -1),
                      masks[:, 1:].expand(-1, CHANNELS - MELODY_CHANNELS, -1)], dim=1)


# ------------------------------------------------------------------------ files

def save_leadsheet(path: str | os.PathLike[str], net: LeadSheetNet,
                   info: dict[str, Any] | None = None) -> Path:
    """The network's weights (float16) with its config and ``info`` in the metadata."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu", torch.float16).contiguous()
               for k, v in net.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={
        "format": LEADSHEET_FORMAT, "config": json.dumps(net.config.to_dict()),
        "info": json.dumps(info or {})})
    os.replace(tmp, path)
    return path


def load_leadsheet(path: str | os.PathLike[str], device: torch.device | str = "cpu"
                   ) -> tuple[LeadSheetNet, dict[str, Any]]:
    """A network saved by :func:`save_leadsheet`, in float32 eval mode, and its info."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        if metadata.get("format") != LEADSHEET_FORMAT:
            raise ModelFileError(f"{path} is not a diffjam lead-sheet model")
        net = LeadSheetNet(LeadSheetConfig.from_dict(json.loads(metadata["config"])))
        tensors = load_file(str(path))
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
    except (OSError, SafetensorError, KeyError, ValueError, RuntimeError) as err:
        if isinstance(err, ModelFileError):
            raise
        raise ModelFileError(f"cannot read lead-sheet model {path}: {err}") from err
    return net.to(device).eval(), json.loads(metadata.get("info", "{}"))


# ------------------------------------------------------------------------ sampling

@dataclass
class LeadSheetSampler:
    """DDIM over one window with inpainting of the known parts."""

    net: LeadSheetNet
    device: torch.device

    @torch.inference_mode()
    def sample(self, *, known: np.ndarray, masks: np.ndarray, form: np.ndarray,
               steps: int, generator: torch.Generator, start: np.ndarray | None = None,
               strength: float = 0.0, scale: np.ndarray | None = None,
               callback: Callable[[int, int], None] | None = None) -> np.ndarray:
        """One window: ``known`` (CHANNELS, T) data units, ``masks`` (2, T), ``form``
        (COND_DIM, T). Without ``start`` the sampler starts from noise at t = 1; with it
        (a draft of the window in data units) from the draft noised to ``1 - strength``
        (SDEdit), with proportionally fewer steps. ``scale``: bool (12,) pitch classes
        allowed (index 0 = the tonic): every estimate has the melody notes, chord tones
        and basses outside it switched off (the in-key projection of the accompaniment
        model, on the lead sheet). Returns x0 (CHANNELS, T)."""
        dev = self.device
        width = known.shape[1]
        multiple = self.net.time_multiple
        padded = -(-width // multiple) * multiple

        def pad(a: np.ndarray, value: float) -> torch.Tensor:
            out = np.full((a.shape[0], padded), value, dtype=np.float32)
            out[:, :width] = a
            return torch.from_numpy(out)[None].to(dev)

        known_t = pad(known, -1.0)
        masks_t = pad(masks, 1.0)  # padding is known silence
        form_t = pad(form, 0.0)
        keep = expand_masks(masks_t) > 0.5
        known_t = torch.where(keep, known_t, torch.zeros_like(known_t))

        banned = None
        if scale is not None:
            pcs = ~np.asarray(scale, dtype=bool)
            rows = pcs[(np.arange(MEL_PITCHES) + MEL_LOW) % 12]  # per melody pitch
            banned = torch.from_numpy(np.concatenate([rows, rows, pcs, pcs]))[None, :, None]
            banned = banned.to(dev)

        def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            v = self.net(x, t, known_t, masks_t, form_t)
            x0 = x0_from_v(x, v, t).clamp(-1.0, 1.0)
            if banned is not None:
                x0 = torch.where(banned, torch.full_like(x0, -1.0), x0)
            return torch.where(keep, known_t, x0)

        noise = torch.randn((1, CHANNELS, padded), generator=generator).to(dev)
        t0 = 1.0
        x = noise
        if start is not None and strength > 0.0:
            t0 = max(1.0 - strength, 1e-3)
            x = add_noise(pad(start, -1.0), noise, torch.full((1,), t0, device=dev))
        n = max(1, round(steps * t0))
        x0 = sample_ddim(denoise, x, torch.linspace(t0, 0.0, n + 1), callback=callback)
        return x0[0, :, :width].float().cpu().numpy()


def decode_melody(x: np.ndarray, *, shift: int = 0, velocity: int = 90) -> list[Note]:
    """The melody channels of ``x`` (CHANNELS, T) as one line of notes transposed by
    ``shift``: a note starts where the strongest onset is on, holds while its pitch's
    sustain is on, and ends at the next onset."""
    onsets = x[ONSET:ONSET + MEL_PITCHES]
    sustain = x[SUSTAIN:SUSTAIN + MEL_PITCHES]
    notes: list[Note] = []
    current: tuple[int, int] | None = None  # (start, pitch index)
    steps = x.shape[1]

    def close(end: int) -> None:
        if current is not None:
            notes.append(Note(start=current[0], pitch=MEL_LOW + current[1] + shift,
                              duration=max(end - current[0], 1), velocity=velocity))

    for step in range(steps):
        best = int(np.argmax(onsets[:, step]))
        if onsets[best, step] > 0.0:
            close(step)
            current = (step, best)
        elif current is not None and sustain[current[1], step] <= 0.0:
            close(step)
            current = None
    close(steps)
    return notes


def decode_chords(x: np.ndarray, *, shift: int = 0, scale: np.ndarray | None = None,
                  unit: int = HALF_BAR) -> list[ChordSpan]:
    """The chord channels of ``x`` as chord spans, one decision per ``unit`` steps (half
    a bar by default: POP909's chords rarely change faster): the tones on for most of the
    unit, snapped to the recognition vocabulary (only to chords inside ``scale``, bool
    (12,), tonic = 0, when given), the bass as the strongest bass channel; consecutive
    equal chords merged; transposed by ``shift``."""
    allowed = None if scale is None else np.roll(np.asarray(scale, dtype=bool), shift)
    steps = x.shape[1]
    spans: list[ChordSpan] = []
    for lo in range(0, steps, unit):
        hi = min(lo + unit, steps)
        tones = (x[CHROMA:CHROMA + 12, lo:hi] > 0).mean(axis=1)
        if tones.max() < 0.5:
            chord = Chord.no_chord()
        else:
            weights = np.roll((tones >= 0.5).astype(np.float64), shift)
            bass = np.roll(np.clip(x[BASS:BASS + 12, lo:hi].mean(axis=1) + 1.0, 0, None),
                           shift)
            chord = recognize_chord(weights, bass_weights=bass if bass.sum() > 0 else None,
                                    bass_bonus=0.2, allowed=allowed)
        if spans and spans[-1].chord == chord and spans[-1].stop == lo:
            last = spans[-1]
            spans[-1] = ChordSpan(last.start, last.duration + hi - lo, chord)
        else:
            spans.append(ChordSpan(lo, hi - lo, chord))
    return [s for s in spans if s.chord.root is not None]
