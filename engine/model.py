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

The optional *pitch stem* (``ModelConfig.stem = "pitch2d"``) adds a path that never
folds the pitch axis: 2-D convolutions over (time, pitch) and self-attention along time
within each pitch row (rotary positions), weights shared across pitches, so a figure four
bars back is one attention hop away at full pitch resolution and the path is
transposition-equivariant (as the 2-D models of Min et al. 2023 and Zhu et al. 2024 are).
It enters the 1-D U-Net as extra input channels and leaves through a 2-D head added to
the U-Net's output; both joins start at zero, so a model with the stem initialised from a
model without it computes exactly what that model computes, and training grows the stem
from there. Cost: ~1 GFLOP more per 16-bar window at 16 stem channels.

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

import contextlib
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from engine.pianoroll import N_PITCHES, PITCH_LOW

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
    stem: str = "none"  # "none" | "pitch2d" (see the module docstring)
    stem_channels: int = 16
    stem_layers: int = 2  # conv + time-attention pairs in the pitch stem
    stem_heads: int = 2

    def __post_init__(self) -> None:
        """Every value a network can be built from and run on whole-bar windows; anything
        else (from a hand-made config or a crafted model file) is a ValueError naming it."""
        from engine.sampling import MAX_BARS

        def whole(name: str, low: int, high: int) -> int:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"ModelConfig.{name} must be an integer in {low}..{high}, "
                                 f"got {value!r}")
            return value

        if self.n_pitches != N_PITCHES:
            raise ValueError(f"ModelConfig.n_pitches must be {N_PITCHES} (the roll's pitch "
                             f"range), got {self.n_pitches!r}")
        if not isinstance(self.widths, tuple) or not 2 <= len(self.widths) <= 5:
            raise ValueError("ModelConfig.widths needs two to five levels (a bar of 16 steps "
                             f"must survive the down-sampling), got {self.widths!r}")
        for width in self.widths:
            if isinstance(width, bool) or not isinstance(width, int) or not (
                    8 <= width <= 4096 and width % 8 == 0):
                raise ValueError("ModelConfig.widths must be multiples of 8 in 8..4096 "
                                 f"(group norm in groups of 8), got {self.widths!r}")
        whole("blocks_per_level", 1, 16)
        whole("attention_layers", 0, 64)
        heads = whole("attention_heads", 1, self.widths[-1])
        if self.widths[-1] % heads:
            raise ValueError("the last width must be divisible by attention_heads")
        dropout = self.dropout
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not (
                0.0 <= dropout < 1.0):
            raise ValueError(f"ModelConfig.dropout must be in [0, 1), got {dropout!r}")
        whole("window_bars", 1, MAX_BARS)
        if self.stem not in ("none", "pitch2d"):
            raise ValueError(f"ModelConfig.stem must be 'none' or 'pitch2d', got {self.stem!r}")
        channels = whole("stem_channels", 1, 256)
        whole("stem_layers", 0, 16)
        stem_heads = whole("stem_heads", 1, channels)
        if self.stem == "pitch2d" and (
            channels % (2 * stem_heads) or self.stem_layers < 1
            or channels % min(8, channels)
        ):
            raise ValueError("stem_channels must be a multiple of 2 x stem_heads (and of 8 "
                             "above 8), and stem_layers >= 1")

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


# The tasks the network is conditioned on: Conditioning.task, the task embedding's rows.
TASK_FULL = 0  # every track
TASK_ACCOMPANIMENT = 1  # the accompaniment under a given melody
N_TASKS = 2


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

    def given_steps(self) -> torch.Tensor | None:
        """(B, T) float, 1 at the steps whose notes the conditioning gives (``mask`` where
        the known part is present); None without a known part. The sampler writes these
        over its estimate (engine.guidance.Inpaint) and losses leave them out."""
        if self.known is None or self.mask is None:
            return None
        given = self.mask.float()
        if self.known_present is not None:
            given = given * self.known_present.float()[:, None]
        return given

    def without_chords(self) -> Conditioning:
        """The same conditioning with the chords marked absent in every example: the
        unconditional branch of classifier-free guidance on the chords."""
        absent = torch.zeros(self.task.shape[0], device=self.task.device)
        return replace(self, chords_present=absent)

    def take(self, rows: torch.Tensor) -> Conditioning:
        """The conditioning of the examples ``rows`` (indices or a bool mask over the batch)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return Conditioning.from_fields(
            {name: None if value is None else value[rows] for name, value in values.items()})

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

    @classmethod
    def from_fields(cls, values: Mapping[str, torch.Tensor | None]) -> Conditioning:
        """A Conditioning from ``{field name: tensor or None}``; ``task`` must be a tensor."""
        task = values["task"]
        if task is None:
            raise ValueError("a Conditioning needs its task")
        return cls(task=task, **{name: v for name, v in values.items() if name != "task"})


@dataclass(frozen=True)
class EncodedConditions:
    """What a pass of :class:`DenoiserNet` computes from its conditions alone, the same at
    every step of a sampling loop (:meth:`DenoiserNet.encode`), so a sampler computes it
    once a window instead of once a pass: the conditions' share of the input layer, with
    the step-in-bar embedding, ``features`` (R, w0, T); their share of the pitch stem's
    first convolution, ``stem`` (R, c, T, P) or None; the presence flags' and task's
    embedding, ``emb`` (R, E). ``R`` is the batch, or 1 for conditions every row of the
    batch shares (they broadcast).

    Two parts depend on the window's length and the weights only, and are kept here so a
    pass does not rebuild them (a CUDA graph replays every kernel of a pass): ``film``,
    every FiLM layer's weight and bias stacked into one layer, the scales' bias raised
    by 1, so one product gives each block's ``(1 + scale, shift)``
    (:meth:`DenoiserNet.film_layer`); ``rotary``, the stem attention's rotation tables
    ``(cos, sin)`` (T, D / 2) or None. Absent, a pass computes them itself."""

    features: torch.Tensor
    stem: torch.Tensor | None
    emb: torch.Tensor
    film: tuple[torch.Tensor, torch.Tensor] | None = None
    rotary: tuple[torch.Tensor, torch.Tensor] | None = None

    def rows(self, n: int) -> EncodedConditions:
        """The same conditions as ``n`` rows (views where they are shared)."""
        def expand(x: torch.Tensor) -> torch.Tensor:
            return x.expand(n, *x.shape[1:]) if x.shape[0] == 1 else x

        return EncodedConditions(expand(self.features),
                                 None if self.stem is None else expand(self.stem),
                                 expand(self.emb), self.film, self.rotary)

    @staticmethod
    def stack(first: EncodedConditions, second: EncodedConditions, n: int
              ) -> EncodedConditions:
        """``first``'s ``n`` rows then ``second``'s: the conditions of one batch of 2n
        (classifier-free guidance's conditional and unconditional halves)."""
        a, b = first.rows(n), second.rows(n)
        return EncodedConditions(
            torch.cat([a.features, b.features]),
            None if a.stem is None or b.stem is None else torch.cat([a.stem, b.stem]),
            torch.cat([a.emb, b.emb]), a.film, a.rotary)


def _timestep_embedding(t: torch.Tensor, dim: int, freqs: torch.Tensor | None = None
                        ) -> torch.Tensor:
    """Sinusoidal embedding of diffusion time t in [0, 1] (scaled by 1000 as in DDPM);
    ``freqs``: :func:`_sinusoid_freqs` of ``dim`` where the caller keeps them."""
    if freqs is None:
        freqs = _sinusoid_freqs(dim, t.device)
    angles = (t.float() * 1000.0)[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _sinusoid_freqs(dim: int, device: torch.device | None = None) -> torch.Tensor:
    """The dim / 2 frequencies of a sinusoidal embedding of size ``dim`` (Vaswani et al.
    2017): the time embedding's and the rotary tables'."""
    half = dim // 2
    return torch.exp(-math.log(10000.0) * torch.arange(half, device=device) / half)


def _zero_init(layer: nn.Conv1d | nn.Conv2d | nn.Linear) -> None:
    """Zero a layer's weight and bias: the residual branch it ends starts as nothing."""
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


# A block's FiLM as it is applied: (1 + scale, shift), each (B, C)
Film = tuple[torch.Tensor, torch.Tensor]


def _film(layer: nn.Linear, emb: torch.Tensor | None) -> Film:
    """One block's FiLM from the embedding through its own layer."""
    if emb is None:
        raise ValueError("a block needs the embedding or its FiLM")
    scale, shift = layer(emb).chunk(2, dim=1)
    return 1 + scale, shift


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
        _zero_init(self.conv2)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None,
                film: Film | None = None) -> torch.Tensor:
        """``film``: this block's ``(1 + scale, shift)`` (computed from ``emb`` when not
        given)."""
        scale, shift = film if film is not None else _film(self.film, emb)
        h = self.conv1(F.silu(self.norm1(x)))
        h = torch.addcmul(shift[:, :, None], self.norm2(h), scale[:, :, None])
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


# Pause points: a pass of the network on a CPU takes a few hundred ms at 16 rolls, and a
# live jam's next bar cannot wait that long (engine.pipeline.ModelThread). Inside
# ``pausing(serve)`` a pass calls ``serve()`` between its blocks, and the pitch stem's
# attention between chunks of its rows, on the thread that entered it; what ``serve``
# runs there must leave the pass's own tensors alone (another generation does). Outside
# (training, CUDA graph capture, other threads) the pass runs whole.
_PAUSES = threading.local()
ATTENTION_ROWS_PER_PAUSE = 320  # pitch rows (4 rolls of 80 pitches) between two pauses


@contextlib.contextmanager
def pausing(serve: Callable[[], None]) -> Iterator[None]:
    """Within this block, passes of any network on this thread call ``serve()`` at their
    pause points (:func:`pause_point`); blocks nest, the innermost ``serve`` counts."""
    previous = _serve()
    _PAUSES.serve = serve
    try:
        yield
    finally:
        _PAUSES.serve = previous


def pause_point() -> None:
    """Call this thread's ``serve`` (:func:`pausing`), if any."""
    serve = _serve()
    if serve is not None:
        serve()


def _serve() -> Callable[[], None] | None:
    """This thread's ``serve`` (:func:`pausing`); None outside."""
    return getattr(_PAUSES, "serve", None)


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


def rotary_tables(steps: int, dim: int, device: torch.device
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The rotation tables ``(cos, sin)``, each (steps, dim / 2), of rotary position
    embedding (Su et al. 2021, eq. 34) at the positions 0..steps-1 in 16th steps, for
    features of size ``dim``."""
    freqs = _sinusoid_freqs(dim, device)
    angles = torch.arange(steps, device=device).float()[:, None] * freqs[None, :]
    return angles.cos(), angles.sin()


def _rotate(x: torch.Tensor, tables: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Rotary position embedding of x (..., T, D) by :func:`rotary_tables`: pairs of
    features turn by position x frequency."""
    half = x.shape[-1] // 2
    cos, sin = tables[0].to(x.dtype), tables[1].to(x.dtype)
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


class PitchRowAttention(nn.Module):
    """Self-attention along time inside every pitch row of a (B, C, T, P) map, with
    rotary positions in 16th steps; weights shared by all pitches."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(min(8, channels), channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)
        _zero_init(self.out)

    def forward(self, h: torch.Tensor,
                rotary: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """``rotary``: :func:`rotary_tables` of this window (made here when not given)."""
        b, c, steps, p = h.shape
        if rotary is None:
            rotary = rotary_tables(steps, c // self.heads, h.device)
        rows = self.norm(h).permute(0, 3, 2, 1).reshape(b * p, steps, c)  # (B*P, T, C)
        # one contiguous copy: the rotation reads q and k 6x faster than through the
        # permuted view (the stem's largest cost after the attention itself)
        qkv = self.qkv(rows).reshape(b * p, steps, 3, self.heads, c // self.heads
                                     ).permute(2, 0, 3, 1, 4).contiguous()
        q, k = _rotate(qkv[:2], rotary)  # q and k turned together
        if _serve() is not None:  # rows are independent: chunks give the same numbers, with pauses
            chunks = []
            for first in range(0, b * p, ATTENTION_ROWS_PER_PAUSE):
                rows_now = slice(first, first + ATTENTION_ROWS_PER_PAUSE)
                chunks.append(F.scaled_dot_product_attention(
                    q[rows_now], k[rows_now], qkv[2, rows_now]))
                pause_point()
            a = torch.cat(chunks)
        else:
            a = F.scaled_dot_product_attention(q, k, qkv[2])  # (B*P, heads, T, D)
        a = self.out(a.transpose(1, 2).reshape(b * p, steps, c))
        return h + a.reshape(b, p, steps, c).permute(0, 3, 2, 1)


class PitchConvBlock(nn.Module):
    """Residual 3x3 convolution over (time, pitch) with FiLM from the embedding."""

    def __init__(self, channels: int, emb_dim: int) -> None:
        super().__init__()
        groups = min(8, channels)
        self.norm1 = nn.GroupNorm(groups, channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * channels)
        self.norm2 = nn.GroupNorm(groups, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        _zero_init(self.conv2)

    def forward(self, h: torch.Tensor, emb: torch.Tensor | None = None,
                film: Film | None = None) -> torch.Tensor:
        """``film``: this block's ``(1 + scale, shift)`` (computed from ``emb`` when not
        given)."""
        scale, shift = film if film is not None else _film(self.film, emb)
        x = self.conv1(F.silu(self.norm1(h)))
        x = torch.addcmul(shift[:, :, None, None], self.norm2(x), scale[:, :, None, None])
        return h + self.conv2(F.silu(x))


# Per-cell input planes of the pitch stem: x_t, known, melody (onset and sustain each),
# mask, rhythm, and whether the cell's pitch class is a chord tone / the chord's bass.
STEM_INPUTS = 10


class DenoiserNet(nn.Module):
    """v-prediction network; see the module docstring for shapes."""

    pitch_class: torch.Tensor  # buffer of the pitch2d stem: each pitch's pitch class
    time_freqs: torch.Tensor  # buffer: the time embedding's frequencies
    film_offset: torch.Tensor  # buffer: 1 on the scales' bias of film_layer, else 0

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
        if config.stem == "pitch2d":
            c = config.stem_channels
            self.stem_in = nn.Conv2d(STEM_INPUTS, c, 3, padding=1)
            self.stem_blocks = nn.ModuleList(
                PitchConvBlock(c, 4 * w0) for _ in range(config.stem_layers))
            self.stem_attention = nn.ModuleList(
                PitchRowAttention(c, config.stem_heads) for _ in range(config.stem_layers))
            self.stem_fold = nn.Conv1d(c * p, w0, 1)  # the stem into the U-Net
            self.stem_unfold = nn.Conv1d(w0, c * p, 1)  # the U-Net back into the stem
            self.stem_head = nn.Conv2d(c, 2, 3, padding=1)
            for layer in (self.stem_fold, self.stem_head):
                _zero_init(layer)
            self.register_buffer(
                "pitch_class", (torch.arange(p) + PITCH_LOW) % 12, persistent=False)
        self.step_in_bar = nn.Embedding(STEPS_PER_BAR, w0)
        self.register_buffer("time_freqs", _sinusoid_freqs(w0), persistent=False)
        self.time_mlp = nn.Sequential(
            nn.Linear(w0, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        self.flag_embed = nn.Linear(N_FLAGS, emb_dim)
        self.task_embed = nn.Embedding(N_TASKS, emb_dim)

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
        _zero_init(self.output)
        # the FiLM layers' outputs in one product (film_layer): each block's share of it,
        # and 1 on the scales' bias
        self.film_sizes = tuple(block.film.out_features for block in self.film_blocks())
        self.register_buffer("film_offset", torch.cat([
            torch.cat([torch.ones(size // 2), torch.zeros(size // 2)])
            for size in self.film_sizes]), persistent=False)

    def film_blocks(self) -> list[ResBlock | PitchConvBlock]:
        """The blocks with a FiLM layer, in the order a pass runs them."""
        stem = list(self.stem_blocks) if self.config.stem == "pitch2d" else []
        down = [block for blocks in self.down for block in cast(nn.ModuleList, blocks)]
        up = [block for blocks in self.up for block in cast(nn.ModuleList, blocks)]
        return cast(list[ResBlock | PitchConvBlock], stem + down + up)

    def film_layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every FiLM layer stacked into one (weight, bias), the scales' bias raised by 1:
        ``F.linear(emb, *film_layer())`` is each block's ``(1 + scale, shift)`` in
        :meth:`film_blocks` order."""
        layers = [block.film for block in self.film_blocks()]
        weight = torch.cat([layer.weight for layer in layers])
        bias = torch.cat([layer.bias for layer in layers]) + self.film_offset
        return weight, bias

    def _films(self, emb: torch.Tensor, layer: tuple[torch.Tensor, torch.Tensor] | None
               ) -> list[Film]:
        """Each FiLM block's ``(1 + scale, shift)`` for ``emb`` from one product."""
        weight, bias = layer if layer is not None else self.film_layer()
        out = F.linear(emb, weight, bias)
        return [(part[:, :size // 2], part[:, size // 2:])
                for part, size in zip(out.split(self.film_sizes, dim=1), self.film_sizes,
                                      strict=True)]

    @property
    def time_multiple(self) -> int:
        """T must be a multiple of this (the down-sampling factor, and whole bars)."""
        return max(STEPS_PER_BAR, 2 ** (len(self.config.widths) - 1))

    def encode(self, cond: Conditioning, steps: int | None = None) -> EncodedConditions:
        """The part of a pass that depends on ``cond`` alone (:class:`EncodedConditions`),
        for its batch; ``steps``: the window's length when no condition gives it. The
        input layer and the stem's first convolution are linear in their input channels,
        so a pass adds the noisy roll's share to these (:meth:`forward`)."""
        b = cond.task.shape[0]
        device = cond.task.device
        if steps is None:
            steps = _window_steps(cond)
        p = self.config.n_pitches
        zeros_roll = torch.zeros(b, 2, steps, p, device=device)
        zeros_step = torch.zeros(b, steps, device=device)
        zeros_chroma = torch.zeros(b, steps, 12, device=device)
        flags = cond.flags(b, device)
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

        features = torch.cat(
            [
                _per_step(known),
                _per_step(melody),
                mask[:, None, :],
                rhythm[:, None, :],
                chroma.transpose(1, 2),
                bass.transpose(1, 2),
            ],
            dim=1,
        )  # the input layer's channels after the noisy roll's 2P
        h = F.conv1d(features, self.input.weight[:, 2 * p:], self.input.bias, padding=1)
        positions = torch.arange(steps, device=device) % STEPS_PER_BAR
        h = h + self.step_in_bar(positions).T[None]
        stem = None
        if self.config.stem == "pitch2d":
            cells = torch.cat([
                known, melody,
                mask[:, None, :, None].expand(b, 1, steps, p),
                rhythm[:, None, :, None].expand(b, 1, steps, p),
                chroma[:, None][..., self.pitch_class],
                bass[:, None][..., self.pitch_class],
            ], dim=1)  # the stem's input channels after the noisy roll's 2
            stem = F.conv2d(cells, self.stem_in.weight[:, 2:], self.stem_in.bias, padding=1)
        emb = self.flag_embed(flags) + self.task_embed(cond.task)
        rotary = None
        if self.config.stem == "pitch2d":
            rotary = rotary_tables(steps, self.config.stem_channels // self.config.stem_heads,
                                   device)
        return EncodedConditions(h, stem, emb, self.film_layer(), rotary)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: Conditioning | None,
                encoded: EncodedConditions | None = None) -> torch.Tensor:
        """v for the noisy rolls ``x_t`` at times ``t`` under ``cond``; ``encoded``: the
        conditions as :meth:`encode` made them (computed here when not given, and
        ``cond`` is then not read)."""
        b, _, steps, p = x_t.shape
        if steps % self.time_multiple:
            raise ValueError(f"T={steps} is not a multiple of {self.time_multiple}")
        if encoded is None:
            if cond is None:
                raise ValueError("a pass needs its conditions or their encoding")
            encoded = self.encode(cond, steps)
        h = F.conv1d(_per_step(x_t), self.input.weight[:, :2 * p], None, padding=1)
        h = h + encoded.features
        emb = self.time_mlp(_timestep_embedding(t, self.config.widths[0], self.time_freqs)
                            ) + encoded.emb
        films = iter(self._films(emb, encoded.film))
        stem = None
        if self.config.stem == "pitch2d":
            assert encoded.stem is not None
            stem = F.conv2d(x_t, self.stem_in.weight[:, :2], None, padding=1) + encoded.stem
            for block, attention in zip(self.stem_blocks, self.stem_attention, strict=True):
                stem = block(stem, film=next(films))
                pause_point()
                stem = attention(stem, encoded.rotary)
            h = h + self.stem_fold(stem.permute(0, 1, 3, 2).reshape(b, -1, steps))

        skips = []
        for blocks, downsample in zip(self.down, self.downsample, strict=True):
            for block in cast(nn.ModuleList, blocks):
                h = block(h, film=next(films))
                skips.append(h)
                pause_point()
            h = downsample(h)
        h = h.transpose(1, 2)
        for block in self.mid:
            h = block(h)
        h = h.transpose(1, 2)
        pause_point()
        for blocks, upsample in zip(self.up, self.upsample, strict=True):
            for block in cast(nn.ModuleList, blocks):
                h = block(torch.cat([h, skips.pop()], dim=1), film=next(films))
                pause_point()
            h = upsample(h)
        h = F.silu(self.out_norm(h))
        out = self.output(h).reshape(b, 2, p, steps).permute(0, 1, 3, 2)  # (B, 2, T, P)
        if stem is not None:
            back = self.stem_unfold(h).reshape(b, -1, p, steps).permute(0, 1, 3, 2)
            out = out + self.stem_head(F.silu(stem + back))
        return out


def _window_steps(cond: Conditioning) -> int:
    """The window's length in steps, read from the first per-step condition present."""
    for value, axis in ((cond.mask, 1), (cond.chroma, 1), (cond.rhythm, 1),
                        (cond.known, 2), (cond.melody, 2)):
        if value is not None:
            return value.shape[axis]
    raise ValueError("the conditions do not give the window's length: pass steps")


def _per_step(roll: torch.Tensor) -> torch.Tensor:
    """(B, 2, T, P) -> (B, 2P, T): a roll as per-step features (onsets' pitches, then
    sustains')."""
    b, two, steps, p = roll.shape
    return roll.permute(0, 1, 3, 2).reshape(b, two * p, steps)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
