"""Sampling defaults and request limits: the one table every front end reads.

:class:`engine.sampling.SamplingOptions` checks its fields against it, the OSC protocol
(:mod:`wire.protocol`) validates params with it, ``/diffjam/status`` sends it to clients
(:func:`limits_json`), and the panel sizes its controls from that reply.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "CONTEXT_BARS",
    "DEFAULT_ACCOMPANY_DENSITY",
    "DEFAULT_CONTEXT_BARS",
    "DENSITY",
    "DEFAULT_GUIDANCE",
    "DEFAULT_JAM_STEPS",
    "DEFAULT_N_BARS",
    "DEFAULT_QUALITY",
    "DEFAULT_REPEAT",
    "DEFAULT_SAMPLER",
    "DEFAULT_REPEAT_STRENGTH",
    "DEFAULT_SONG_KEY",
    "DEFAULT_SONG_STEPS",
    "DEFAULT_STEPS",
    "DEFAULT_TEMPO",
    "FILE_TEMPO",
    "GUIDANCE",
    "GUIDANCE_BELOW",
    "JAM_TEMPO",
    "MAX_BARS",
    "MAX_NOTES",
    "MAX_SEED",
    "MAX_STEPS",
    "MAX_VARIATIONS",
    "PITCH_SETS",
    "QUALITIES",
    "REPEAT",
    "REPEAT_STRENGTH",
    "SONG_STEPS",
    "SONG_TEMPO",
    "SAMPLERS",
    "SEED",
    "STEPS",
    "VARIATIONS",
    "LIMITS",
    "Limits",
    "Range",
    "limits_json",
]


@dataclass(frozen=True)
class Range:
    """An inclusive range ``low..high`` of an int or float setting."""

    low: int | float
    high: int | float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{_number(self.low)}..{_number(self.high)}"

    def to_json(self) -> list[int | float]:
        return [self.low, self.high]


# Classifier-free guidance scale every front end defaults to (docs/model-card.md: at 4 the
# shipped model follows the chords best and comes closest to the data's note density).
DEFAULT_GUIDANCE = 4.0
GUIDANCE = Range(0.0, 20.0)
# Guidance in an interval: the guidance acts only at noise times t <= this (1: every step;
# engine.guidance.GuidedDenoiser). Unset, a request takes the distilled student's interval
# when the student serves it, else the full model's per-task default (engine.pipeline).
GUIDANCE_BELOW = Range(0.05, 1.0)
DEFAULT_STEPS = 10  # sampler steps of a request
# The live jam's steps: the request default, so a model with a distilled student (engine
# .distill) runs the student, 4 network passes a bar, in the jam as everywhere else.
DEFAULT_JAM_STEPS = DEFAULT_STEPS
MAX_STEPS = 1000
STEPS = Range(1, MAX_STEPS)
MAX_VARIATIONS = 8
VARIATIONS = Range(1, MAX_VARIATIONS)
# Candidates a request draws for each variation, keeping the one that best does what was
# asked (engine.candidates: chord fit for accompaniment, the melody's register for infill);
# unset, each task takes its own (engine.pipeline.CANDIDATES_BY_TASK). They run as one
# batch, so the network passes are the same and each costs more.
MAX_CANDIDATES = 16
CANDIDATES = Range(1, MAX_CANDIDATES)
# Samples one request draws at most (variations x candidates): 8 x 8, the most there was
# before a request could ask for 16 candidates. Measured on the 2-core CPU, 64 rolls of
# a 16-bar window took 10.3 s and 2.0 GB peak RSS (engine.pipeline.DEFAULT_MAX_ROLLS), so
# 8 x 16 would need about twice that beside a DAW.
MAX_ROLLS = 64
# The defaults, by request kind (infill: without chords; infill_chords: given chords),
# where a few-step student runs the request; where the full model runs it (--quality
# high, other steps or guidance, a model file without a student); and for each bar of the
# live jam, whose bar has a deadline (measured: engine.pipeline.CANDIDATES_BY_TASK,
# bridge.jam). The CLI's help and the panel's tooltip read them from here.
DEFAULT_CANDIDATES = {"infill": 2, "infill_chords": 1, "accompany": 12, "generate": 1}
FULL_MODEL_CANDIDATES = {**DEFAULT_CANDIDATES, "infill": 4, "accompany": 8}
JAM_CANDIDATES = 4
# ... where the model runs on a CUDA GPU: the one-shot accompaniment's count, since
# there a batch of candidates costs about one (the H200's graph of 8 rolls: 1.4x that of
# one, ~10 ms a window) against the quarter of a bar (500 ms at 120 BPM) the jam has.
JAM_CANDIDATES_GPU = DEFAULT_CANDIDATES["accompany"]
MAX_SEED = 2**63 - 1  # seeds are 0..MAX_SEED (torch's generator takes a signed 64-bit one)
SEED = Range(0, MAX_SEED)
MAX_NOTES = 20_000  # notes in one clip
MAX_BARS = 256  # bars in one clip
DEFAULT_N_BARS = 8  # bars accompany and generate make when a request names none
DEFAULT_TEMPO = 120.0  # BPM
# BPM a written .mid file may have (engine.midifile): set_tempo holds at most 0xFFFFFF
# microseconds a beat (3.58 BPM); the upper bound keeps a beat at least 60 ms.
FILE_TEMPO = Range(4.0, 1000.0)
JAM_TEMPO = Range(20.0, 300.0)  # BPM of the jam's internal clock (bridge.clock)
# "fast": a model's distilled few-step student at the default steps and guidance
# (engine.distill); "high": always the full model.
QUALITIES = ("fast", "high")
DEFAULT_QUALITY = "fast"
# The pitch set of the projection (engine.guidance.InKeyProjection): "key" (the key's
# scale), "key+chord" (the scale and the tones of the chord sounding at each step) or
# "chord" (only the tones and bass of the chord sounding at each step; the scale where none
# sounds). Unset, each task takes its own (engine.pipeline.PITCH_SET_BY_TASK).
PITCH_SETS = ("key", "key+chord", "chord")
# The sampler of a request: "ddim" (deterministic for a seed) or "ddpm" (ancestral DDIM,
# eta = 1: fresh noise every step, engine.pipeline).
SAMPLERS = ("ddim", "ddpm")
DEFAULT_SAMPLER = "ddim"
DEFAULT_CONTEXT_BARS = 3  # bars of the player's notes the jam's model sees
CONTEXT_BARS = Range(1, 16)
# Infill: how strongly the gap starts from the bars the clip repeats there (engine.repeats;
# 0: from noise, 1: the repeated bars themselves). The default applies to an infill given
# no chords; one given chords starts from noise unless it asks. The engine scales it by
# how much the clip repeats (engine.pipeline.DRAFT_FLOOR). Measured, valid split,
# docs/model-card.md: without chords beat pitch-class F1 0.538 (from noise) -> 0.602;
# with chords a draft from other bars fights them, chord accuracy 0.877 -> 0.680 at 0.5.
DEFAULT_REPEAT = 0.8
REPEAT = Range(0.0, 1.0)
# A density hint: notes a bar, given to the model as its rhythm condition (engine.pipeline);
# 0 = no hint. Accompaniment asks for the data's typical density unless told: measured on
# the valid split (docs/model-card.md), the shipped model's accompaniment has 17.2 notes a
# bar without a hint against the real piano's 14.0, and 14.8 with this one.
DENSITY = Range(0.0, 32.0)
DEFAULT_ACCOMPANY_DENSITY = 14.0
# A whole song (engine.song): the key of a song request that names none, and how closely
# a phrase may follow the earlier phrase with its label (0: not at all, 1: a copy).
DEFAULT_SONG_KEY = "C major"
REPEAT_STRENGTH = Range(0.0, 1.0)
DEFAULT_REPEAT_STRENGTH = 0.6
SONG_STEPS = Range(1, 200)  # DDIM steps of a song's lead-sheet stage
DEFAULT_SONG_STEPS = 20
SONG_TEMPO = Range(20.0, 300.0)  # BPM of a song


def _number(value: int | float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


@dataclass(frozen=True)
class Limits:
    """The table above as one value: what ``/diffjam/status`` advertises (``limits``) and
    what a client reads back from it (:meth:`from_json`; keys an older engine does not
    send keep this version's values)."""

    guidance: Range = GUIDANCE
    default_guidance: float = DEFAULT_GUIDANCE
    steps: Range = STEPS
    default_steps: int = DEFAULT_STEPS
    variations: Range = VARIATIONS
    candidates: Range = CANDIDATES
    max_rolls: int = MAX_ROLLS  # variations x candidates of one request
    seed: Range = SEED
    max_notes: int = MAX_NOTES
    max_bars: int = MAX_BARS
    tempo: Range = FILE_TEMPO
    jam_tempo: Range = JAM_TEMPO
    jam_steps: int = DEFAULT_JAM_STEPS
    context_bars: Range = CONTEXT_BARS
    default_context_bars: int = DEFAULT_CONTEXT_BARS
    density: Range = DENSITY
    repeat: Range = REPEAT
    default_repeat: float = DEFAULT_REPEAT
    guidance_below: Range = GUIDANCE_BELOW

    def to_json(self) -> dict[str, Any]:
        return {
            f.name: value.to_json() if isinstance(value, Range) else value
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Limits:
        """Read ``limits`` of a status reply; raises ValueError/TypeError when malformed."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value, default = data[f.name], getattr(LIMITS, f.name)
            if isinstance(default, Range):
                low, high = value
                kind = type(default.low)
                values[f.name] = Range(kind(low), kind(high))
            else:
                values[f.name] = type(default)(value)
        return cls(**values)


LIMITS = Limits()


def limits_json() -> dict[str, Any]:
    """The limits as ``/diffjam/status`` sends them (``limits``; docs/osc-protocol.md)."""
    return LIMITS.to_json()
