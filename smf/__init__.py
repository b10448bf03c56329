"""Standard MIDI Files at the level of their events: notes paired in ticks, the bar grid
a file's meters allow, and splicing new notes into some bars of a file while every other
event stays exactly as it was.

This package depends on mido only. The engine (``diffjam infill``, ``accompany``) and the
panel (``gui``, which may not import the engine) both read and edit files through it, so
there is one note pairing, one meter rule and one splice.
"""

from smf.meter import BEATS_PER_BAR, BarGrid, MeterError, bar_grid
from smf.notes import (
    DRUM_CHANNEL,
    TickNote,
    absolute_ticks,
    free_channel,
    main_channel,
    track_notes,
)
from smf.splice import (
    NewNote,
    Splice,
    add_track,
    apply_groove,
    groove_offsets,
    splice_notes,
)

__all__ = [
    "BEATS_PER_BAR",
    "BarGrid",
    "DRUM_CHANNEL",
    "MeterError",
    "NewNote",
    "Splice",
    "TickNote",
    "absolute_ticks",
    "add_track",
    "apply_groove",
    "bar_grid",
    "free_channel",
    "groove_offsets",
    "main_channel",
    "splice_notes",
    "track_notes",
]
