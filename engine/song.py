"""Whole songs from a form: the cascade form -> lead sheet -> accompaniment.

1. **Form**: a phrase string such as ``i4A8B8A8o4`` (:mod:`wire.form`) and a key.
2. **Lead sheet** (:mod:`engine.leadsheet`): melody and chords of the whole song,
   diffused jointly (the chords are output channels beside the melody, as in
   Music-Diff), conditioned on each step's phrase label, its place in the phrase and in
   the song, and the mode. Phrases are written left to right with everything before them
   as known context; a phrase whose label was heard before starts from that phrase
   (noised to ``1 - repeat_strength``: a variation of it, not a copy), which is what
   relates the second A to the first.
3. **Accompaniment**: the engine's model (:meth:`engine.pipeline.Pipeline.accompany`)
   under the lead sheet's melody and chords.

Any part can be fixed (:class:`FixedParts`): given melody bars and given chords are
known parts of the lead-sheet stage, given accompaniment bars are known context of the
accompaniment stage; the cascade fills the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.harmony import ChordSpan, Key
from engine.pianoroll import Note
from engine.sampling import SamplingOptions
from wire.form import Phrase

__all__ = ["STAGES", "FixedParts", "Song", "SongOptions"]

STAGES = ("lead sheet", "accompaniment")


@dataclass(frozen=True)
class SongOptions:
    """Settings of one song request.

    ``steps``: DDIM steps of the lead-sheet stage. ``repeat_strength`` in [0, 1]: how
    closely a phrase follows the earlier phrase with the same label (0: written from
    scratch with only the bars before it as context). ``use_form=False`` drops the
    phrase labels (the no-form baseline of the evaluation). ``accompaniment``: the
    settings of the accompaniment stage (guidance, in-key projection, quality, seed is
    derived from ``seed``).
    """

    seed: int | None = None
    steps: int = 20
    repeat_strength: float = 0.6
    use_form: bool = True
    accompaniment: SamplingOptions = field(default_factory=SamplingOptions)


@dataclass(frozen=True)
class FixedParts:
    """Parts of the song given by the user (16th steps, song time, the song's key).

    ``melody`` notes are kept in ``melody_bars`` (0-based bars); ``chords`` are kept
    wherever they lie; ``accompaniment`` notes are kept in ``accompaniment_bars``.
    """

    melody: tuple[Note, ...] = ()
    melody_bars: tuple[int, ...] = ()
    chords: tuple[ChordSpan, ...] = ()
    accompaniment: tuple[Note, ...] = ()
    accompaniment_bars: tuple[int, ...] = ()


@dataclass(frozen=True)
class Song:
    """A generated song: three parts on the 16th grid of ``n_bars`` 4/4 bars."""

    phrases: tuple[Phrase, ...]
    key: Key
    tempo: float
    n_bars: int
    melody: tuple[Note, ...]
    chords: tuple[ChordSpan, ...]
    accompaniment: tuple[Note, ...]
    seed: int
    seconds: dict[str, float]  # per stage (STAGES), plus "total"
