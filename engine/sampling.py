"""The pipeline's request and result types: bar ranges, sampling options, the result.

The defaults and limits :class:`SamplingOptions` checks are :mod:`wire.limits`' (one
table, shared with the OSC protocol and the panel) and are re-exported here.

Kept free of torch so the CLI parsers, the OSC protocol, the live jam and the benchmarks
can use them without loading the network code (:mod:`engine.pipeline` does that).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import BarRangeError, InputError
from engine.harmony import ChordSpan, Key
from engine.pianoroll import Note
from wire.limits import (  # the one table of defaults and limits; re-exported here
    CANDIDATES,
    DEFAULT_ACCOMPANY_DENSITY,
    DEFAULT_GUIDANCE,
    DEFAULT_QUALITY,
    DEFAULT_REPEAT,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
    DENSITY,
    GUIDANCE,
    GUIDANCE_BELOW,
    MAX_BARS,
    MAX_NOTES,
    MAX_ROLLS,
    MAX_SEED,
    MAX_STEPS,
    MAX_VARIATIONS,
    PITCH_SETS,
    QUALITIES,
    REPEAT,
    SAMPLERS,
    SEED,
    STEPS,
    VARIATIONS,
)

__all__ = [
    "CANDIDATES",
    "DEFAULT_ACCOMPANY_DENSITY",
    "DEFAULT_GUIDANCE",
    "DEFAULT_QUALITY",
    "DEFAULT_REPEAT",
    "DEFAULT_SAMPLER",
    "DEFAULT_STEPS",
    "GUIDANCE_BELOW",
    "MAX_BARS",
    "MAX_NOTES",
    "MAX_ROLLS",
    "MAX_SEED",
    "MAX_STEPS",
    "MAX_VARIATIONS",
    "PITCH_SETS",
    "QUALITIES",
    "SAMPLERS",
    "BarRange",
    "Cancelled",
    "Result",
    "SamplingOptions",
]


@dataclass(frozen=True)
class SamplingOptions:
    """Per-request sampling settings.

    ``allowed`` picks the pitch set of the in-key projection (:data:`PITCH_SETS`):
    ``"key"`` (the key's scale: no note outside it can come out), ``"key+chord"`` (the
    scale plus the tones of the chord sounding at each step, for borrowed and
    secondary-dominant chords) or ``"chord"`` (only the tones and bass of the chord
    sounding at each step, the scale where none sounds: a chromatic chord's own tones can
    leave the key); None: the task's default (:data:`engine.pipeline.PITCH_SET_BY_TASK`).
    ``binarize`` projects every x0 estimate onto {-1, +1} (:class:`~engine.guidance.Binarize`);
    ``None`` takes the model file's measured default for the task, else
    :data:`engine.pipeline.BINARIZE_BY_TASK`.
    ``infer_chords``: an infill request without chords gets chords recognised around the
    gap and carried into it along the clip's repeat period
    (:func:`engine.context_chords.infer_gap_chords`).
    ``below_melody``: with a melody, new notes stay below the lowest melody note of each
    bar (:mod:`engine.register`); without one it changes nothing.
    ``register``: new notes keep to a register: an accompaniment to the piano's, from C2 up
    to the melody's highest note, G5 without one, the chord's bass alone under G2
    (:func:`engine.register.piano_register_mask`, :func:`~engine.register.bass_line_mask`),
    an infill to the clip's around the gap, within a few semitones of the notes of the
    bars next to it (:func:`engine.register.context_register_mask`); False: anywhere;
    None: the task's default (:data:`engine.pipeline.REGISTER_BY_TASK`: accompaniment and
    infill given chords). A new clip has no register to keep.
    ``quality``: ``"fast"`` runs a model's distilled few-step student (:mod:`engine.distill`)
    when the request asks for the default steps and the guidance the student was distilled
    at; ``"high"`` always runs the full model (the teacher) at ``steps`` and ``guidance``.
    ``guidance_below``: the guidance acts only at noise times ``t <= guidance_below``
    (guidance in a limited interval, :class:`engine.guidance.GuidedDenoiser`; 1: every
    step; :data:`GUIDANCE_BELOW`); None: the interval the student was distilled with
    when the student serves the request, else the full model's default for the task
    (:data:`engine.pipeline.TEACHER_GUIDANCE_BELOW`).
    A model without a student runs the same either way.
    ``repeat`` (infill): the gap starts from the bars it repeats (:mod:`engine.repeats`;
    where nothing repeats, the bars next to it), noised to ``1 - repeat`` times how much
    the clip repeats (``engine.pipeline.DRAFT_FLOOR``; 0: from noise); None:
    :data:`DEFAULT_REPEAT`. With chords given, only a repeat period whose source bars
    carry the gap bars' own chords makes a draft (none from the bars next to the gap): a
    draft of other chords pulls the gap off the given harmony.
    ``density``: notes a bar wanted, given to the model as its rhythm condition
    (:func:`engine.pianoroll.density_hint`); 0: no hint, the model chooses; None: the
    task's default (accompaniment: the model file's ``info["accompany_density"]``, else
    :data:`DEFAULT_ACCOMPANY_DENSITY`; the others none).
    ``candidates``: samples drawn for each variation, in one batch, of which the one that
    best does what was asked is kept (:mod:`engine.candidates`: an accompaniment the one
    that plays the given chords most, an infill the one whose top line stays nearest the
    register of the bars around the gap); None: the task's default
    (:data:`engine.pipeline.CANDIDATES_BY_TASK`, or ``FULL_MODEL_CANDIDATES_BY_TASK`` where
    the full model runs the request, fewer where many variations would make
    more than :data:`engine.pipeline.DEFAULT_MAX_ROLLS` rolls); 1: the first sample as it
    comes.
    ``bass_anchor`` (accompaniment with chords): below the lowest note the sample puts on a
    chord's bass, nothing else sounds in that chord's span
    (:class:`engine.guidance.BassProjection`). Off by default: measured against the
    shipped default in docs/model-card.md ("The bass under G2"), not yet made it.
    """

    guidance: float = DEFAULT_GUIDANCE
    in_key: bool = True
    key: Key | None = None
    steps: int = DEFAULT_STEPS
    seed: int | None = None
    variations: int = 1
    sampler: str = DEFAULT_SAMPLER
    allowed: str | None = None
    binarize: bool | None = None
    infer_chords: bool = True
    below_melody: bool = False
    register: bool | None = None
    quality: str = DEFAULT_QUALITY
    repeat: float | None = None
    density: float | None = None
    guidance_below: float | None = None
    candidates: int | None = None
    bass_anchor: bool = False

    def __post_init__(self) -> None:
        if self.guidance not in GUIDANCE:
            raise InputError(f"guidance must be in {GUIDANCE}, got {self.guidance}")
        if self.steps not in STEPS:
            raise InputError(f"steps must be in {STEPS}, got {self.steps}")
        if self.seed is not None and self.seed not in SEED:
            raise InputError(f"seed must be in {SEED} (2^63 - 1), got {self.seed}")
        if self.variations not in VARIATIONS:
            raise InputError(f"variations must be in {VARIATIONS}, got {self.variations}")
        if self.candidates is not None and self.candidates not in CANDIDATES:
            raise InputError(f"candidates must be in {CANDIDATES}, got {self.candidates}")
        if self.candidates is not None and self.variations * self.candidates > MAX_ROLLS:
            raise InputError(f"variations x candidates must be at most {MAX_ROLLS} samples "
                             f"at once, got {self.variations} x {self.candidates}")
        if self.sampler not in SAMPLERS:
            raise InputError(f"sampler must be one of {', '.join(SAMPLERS)}, got "
                             f"{self.sampler!r}")
        if self.allowed is not None and self.allowed not in PITCH_SETS:
            raise InputError(f"allowed must be one of {', '.join(PITCH_SETS)}, got "
                             f"{self.allowed!r}")
        if self.density is not None and self.density not in DENSITY:
            raise InputError(f"density must be in {DENSITY} notes a bar, got {self.density}")
        if self.repeat is not None and self.repeat not in REPEAT:
            raise InputError(f"repeat must be in {REPEAT}, got {self.repeat}")
        if self.guidance_below is not None and self.guidance_below not in GUIDANCE_BELOW:
            raise InputError(f"guidance_below must be in {GUIDANCE_BELOW}, got "
                             f"{self.guidance_below}")
        if self.quality not in QUALITIES:
            raise InputError(f"quality must be 'fast' or 'high', got {self.quality!r}")


class Cancelled(Exception):
    """Raised inside a generation when its cancel event is set."""


@dataclass(frozen=True)
class BarRange:
    """Bars ``start`` .. ``stop - 1``, 0-based (bar 1 of the user is ``start = 0``)."""

    start: int
    stop: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.stop <= self.start:
            raise BarRangeError(f"empty or negative bar range {self.start + 1}-{self.stop}")

    @classmethod
    def parse(cls, text: str) -> BarRange:
        """Read a user's 1-based inclusive range: ``"5-8"`` or ``"5"``."""
        try:
            first, _, last = text.partition("-")
            start, stop = int(first), int(last or first)
        except ValueError as err:
            raise BarRangeError(f"bar range {text!r} is not like '5-8'") from err
        if start < 1 or stop < start:
            raise BarRangeError(f"bar range {text!r}: bars count from 1 and first <= last")
        return cls(start - 1, stop)

    def __str__(self) -> str:
        return f"{self.start + 1}-{self.stop}"


@dataclass(frozen=True)
class Result:
    variations: tuple[tuple[Note, ...], ...]
    n_bars: int
    generated: BarRange
    key: Key | None
    nfe: int
    seconds: float
    # Chords an infill without chords was given from the bars around the gap, whole clip
    # (engine.context_chords); empty when chords were given or none could be inferred.
    inferred_chords: tuple[ChordSpan, ...] = ()
    # Samples drawn for each variation (SamplingOptions.candidates as the request ran it:
    # 1 where the task has nothing to choose by).
    candidates: int = 1
