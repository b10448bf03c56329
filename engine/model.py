"""The denoising network: a 1-D U-Net over time with the pitch axis as channels.

Input and output shapes (B = batch, T = steps, a multiple of 16, P = ``N_PITCHES``):

* ``x_t``: float32 (B, 2, T, P), the noisy roll (onset, sustain) in data units [-1, 1];
* ``t``: float32 (B,), diffusion time in [0, 1];
* ``cond``: a :class:`Conditioning` (see below);
* output: float32 (B, 2, T, P), the v-prediction (Salimans & Ho 2022, section 4).

Why pitch as channels: a 2-D U-Net over (time, pitch) costs ~3 GFLOP per 8-bar window,
too much for 20 evaluations in a second on a 2-core CPU. Folding the 80 pitches into the
channel axis makes every layer see every pitch of a step at once (chords are global
over the pitch axis anyway) and costs ~0.2 GFLOP per window. Transposition invariance,
which a 2-D convolution gets for free, is learned from transposition augmentation.

Conditions are all optional. Each comes with a presence flag that the network embeds
together with the diffusion time, so "absent" is explicit, not a magic tensor value:

* ``known`` (B, 2, T, P) in [-1, 1] and ``mask`` (B, T) in {0, 1}: the part of the target
  roll that is given (infilling); ``mask = 1`` where the roll is known;
* ``chroma`` and ``bass`` (B, T, 12) in {0, 1}: chord tones and chord bass per step;
* ``melody`` (B, 2, T, P) in [-1, 1]: the lead the accompaniment plays under;
* ``rhythm`` (B, T) in [0, 1]: onsets per step of the target, divided by 4 and clipped;
* ``task`` (B,) int64: 0 = full arrangement, 1 = accompaniment only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F

from engine.pianoroll import N_PITCHES

STEPS_PER_BAR = 16
N_FLAGS = 4  # known, chords, melody, rhythm


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of :class:`DenoiserNet`; stored inside every checkpoint."""

    n_pitches: int = N_PITCHES
    widths: tuple[int, ...] = (128, 192, 256)
    blocks_per_level: int = 2
    attention_layers: int = 3
    attention_heads: int = 4
    dropout: float = 0.0
    window_bars: int = 8

    def __post_init__(self) -> None:
        if len(self.widths) < 2:
            raise ValueError("ModelConfig.widths needs at least two levels")
        if self.widths[-1] % self.attention_heads:
            raise ValueError("the last width must be divisible by attention_heads")

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """Build a config from a checkpoint's dict; unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown ModelConfig keys: {sorted(unknown)}")
        values = dict(values)
        if "widths" in values:
            values["widths"] = tuple(values["widths"])
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Conditioning:
    """The optional conditions of one batch; ``None`` means absent for the whole batch.

    Per-example absence (used by condition dropout in training and by classifier-free
    guidance) is expressed with the ``*_present`` float vectors (B,) in {0, 1}.
    """

    task: torch.Tensor
    known: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    chroma: torch.Tensor | None = None
    bass: torch.Tensor | None = None
    melody: torch.Tensor | None = None
    rhythm: torch.Tensor | None = None
    known_present: torch.Tensor | None = None
    chords_present: torch.Tensor | None = None
    melody_present: torch.Tensor | None = None
    rhythm_present: torch.Tensor | None = None

    def flags(self, batch: int, device: torch.device) -> torch.Tensor:
        """Presence flags (B, N_FLAGS) float32."""
        columns = []
        for tensor, present in (
            (self.known, self.known_present),
            (self.chroma, self.chords_present),
            (self.melody, self.melody_present),
            (self.rhythm, self.rhythm_present),
        ):
            if tensor is None:
                columns.append(torch.zeros(batch, device=device))
            elif present is None:
                columns.append(torch.ones(batch, device=device))
            else:
                columns.append(present.float())
        return torch.stack(columns, dim=1)

    def repeat(self, times: int) -> Conditioning:
        """The same conditioning for a batch ``times`` as large (classifier-free guidance)."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                value = value.repeat(times, *([1] * (value.dim() - 1)))
            values[f.name] = value
        return Conditioning(**values)


def _timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of diffusion time t in [0, 1] (scaled by 1000 as in DDPM)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = (t.float() * 1000.0)[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    """Pre-norm residual block of two kernel-3 convolutions with FiLM from the embedding."""

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(8, in_ch)
        self.conv1 = nn.Conv1d(in_ch, out_ch, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * out_ch)
        self.norm2 = nn.GroupNorm(8, out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(out_ch, out_ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


class TransformerBlock(nn.Module):
    """Pre-norm self-attention block over time, at the coarsest resolution."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class DenoiserNet(nn.Module):
    """v-prediction network; see the module docstring for shapes."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        p = config.n_pitches
        w0 = config.widths[0]
        emb_dim = 4 * w0
        # Per-step input features: x_t, known, melody (2P each), mask, rhythm (1 each),
        # chroma and bass (12 each).
        in_features = 6 * p + 2 + 24
        self.input = nn.Conv1d(in_features, w0, 3, padding=1)
        self.step_in_bar = nn.Embedding(STEPS_PER_BAR, w0)
        self.time_mlp = nn.Sequential(
            nn.Linear(w0, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        self.flag_embed = nn.Linear(N_FLAGS, emb_dim)
        self.task_embed = nn.Embedding(2, emb_dim)

        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skip_widths = []
        width = w0
        for level, out_width in enumerate(config.widths):
            blocks = nn.ModuleList()
            for _ in range(config.blocks_per_level):
                blocks.append(ResBlock(width, out_width, emb_dim, config.dropout))
                width = out_width
                skip_widths.append(width)
            self.down.append(blocks)
            last = level == len(config.widths) - 1
            self.downsample.append(
                nn.Identity() if last else nn.Conv1d(width, width, 4, stride=2, padding=1)
            )
        self.mid = nn.ModuleList(
            TransformerBlock(width, config.attention_heads, config.dropout)
            for _ in range(config.attention_layers)
        )
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level, out_width in reversed(list(enumerate(config.widths))):
            blocks = nn.ModuleList()
            for _ in range(config.blocks_per_level):
                blocks.append(
                    ResBlock(width + skip_widths.pop(), out_width, emb_dim, config.dropout)
                )
                width = out_width
            self.up.append(blocks)
            self.upsample.append(
                nn.Identity()
                if level == 0
                else nn.ConvTranspose1d(width, width, 4, stride=2, padding=1)
            )
        self.out_norm = nn.GroupNorm(8, width)
        self.output = nn.Conv1d(width, 2 * p, 3, padding=1)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    @property
    def time_multiple(self) -> int:
        """T must be a multiple of this (the down-sampling factor, and whole bars)."""
        return max(STEPS_PER_BAR, 2 ** (len(self.config.widths) - 1))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: Conditioning) -> torch.Tensor:
        b, _, steps, p = x_t.shape
        if steps % self.time_multiple:
            raise ValueError(f"T={steps} is not a multiple of {self.time_multiple}")
        zeros_roll = x_t.new_zeros(b, 2, steps, p)
        zeros_step = x_t.new_zeros(b, steps)
        zeros_chroma = x_t.new_zeros(b, steps, 12)
        flags = cond.flags(b, x_t.device)
        known = cond.known if cond.known is not None else zeros_roll
        mask = cond.mask if cond.mask is not None else zeros_step
        melody = cond.melody if cond.melody is not None else zeros_roll
        rhythm = cond.rhythm if cond.rhythm is not None else zeros_step
        chroma = cond.chroma if cond.chroma is not None else zeros_chroma
        bass = cond.bass if cond.bass is not None else zeros_chroma
        # An absent condition contributes zeros whatever the caller put in the tensor.
        known = known * flags[:, 0, None, None, None]
        mask = mask * flags[:, 0, None]
        chroma = chroma * flags[:, 1, None, None]
        bass = bass * flags[:, 1, None, None]
        melody = melody * flags[:, 2, None, None, None]
        rhythm = rhythm * flags[:, 3, None]

        def per_step(roll: torch.Tensor) -> torch.Tensor:  # (B, 2, T, P) -> (B, 2P, T)
            return roll.permute(0, 1, 3, 2).reshape(b, 2 * p, steps)

        features = torch.cat(
            [
                per_step(x_t),
                per_step(known),
                per_step(melody),
                mask[:, None, :],
                rhythm[:, None, :],
                chroma.transpose(1, 2),
                bass.transpose(1, 2),
            ],
            dim=1,
        )
        h = self.input(features)
        positions = torch.arange(steps, device=x_t.device) % STEPS_PER_BAR
        h = h + self.step_in_bar(positions).T[None]
        emb = self.time_mlp(_timestep_embedding(t, self.config.widths[0]))
        emb = emb + self.flag_embed(flags) + self.task_embed(cond.task)

        skips = []
        for blocks, downsample in zip(self.down, self.downsample):
            for block in blocks:
                h = block(h, emb)
                skips.append(h)
            h = downsample(h)
        h = h.transpose(1, 2)
        for block in self.mid:
            h = block(h)
        h = h.transpose(1, 2)
        for blocks, upsample in zip(self.up, self.upsample):
            for block in blocks:
                h = block(torch.cat([h, skips.pop()], dim=1), emb)
            h = upsample(h)
        out = self.output(F.silu(self.out_norm(h)))  # (B, 2P, T)
        return out.reshape(b, 2, p, steps).permute(0, 1, 3, 2)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
