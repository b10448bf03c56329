"""The bar grid of a MIDI file: which meters diffjam reads, and how.

diffjam's model writes 4/4 bars of 16 sixteenths, so every file is read in bars of
``BEATS_PER_BAR`` quarter notes counted from the file's first tick (bar 1 = beats 0-4).

1. The time signatures of every track are collected; of several at one tick, the last
   one read counts (POP909 writes 4/4 and then 1/4 at tick 0). No time signature is 4/4,
   as the MIDI standard says.
2. 4/4 and 2/2 are bars of 4 quarter notes already. Each such signature must start on a
   bar line of the grid, or the user's bar numbers would not be the file's (a pickup bar,
   or an odd number of 2/4 bars before it): that is a :class:`MeterError`.
3. 2/4 and 1/4 (how POP909 writes most of its songs, whatever their real meter) are
   regrouped: two 2/4 bars, or four 1/4 bars, make one 4/4 bar of the grid. Their own
   bar lines need not fall on the grid.
4. Every other meter is a :class:`MeterError` naming it and where it starts: triple and
   compound meters (3/4, 6/8, 12/8) and odd ones (5/4, 7/8) are not supported yet.

A file can only tell its meter through these events: a song played in 3/4 but written
as 1/4 (POP909 has some) is read in 4/4 bars.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido

from smf.notes import absolute_ticks

__all__ = ["BEATS_PER_BAR", "BarGrid", "MeterError", "bar_grid"]

BEATS_PER_BAR = 4
_WHOLE_BARS = {(4, 4), (2, 2)}
_REGROUPED = {(2, 4), (1, 4)}
SUPPORTED = "4/4 (2/2, 2/4 and 1/4 are read in 4/4 bars)"


class MeterError(ValueError):
    """A file's meter is one diffjam cannot read in 4/4 bars."""


@dataclass(frozen=True)
class BarGrid:
    """Bars of 4 quarter notes from tick 0; ``regrouped`` names the signatures of the
    file that were read in 4/4 bars (e.g. ``("2/4",)``), in order of appearance."""

    ticks_per_beat: int
    regrouped: tuple[str, ...] = ()

    @property
    def ticks_per_bar(self) -> int:
        return BEATS_PER_BAR * self.ticks_per_beat

    def bar_start(self, bar: int) -> int:
        """The first tick of 0-based bar ``bar``."""
        return bar * self.ticks_per_bar


def _signatures(midi: mido.MidiFile) -> list[tuple[int, int, int]]:
    """(tick, numerator, denominator) of the signature in force from each tick on."""
    found: dict[int, tuple[int, int]] = {}
    for track in midi.tracks:
        for tick, msg in zip(absolute_ticks(track), track, strict=True):
            if msg.type == "time_signature":
                found[tick] = (msg.numerator, msg.denominator)
    return [(tick, *found[tick]) for tick in sorted(found)]


def bar_grid(midi: mido.MidiFile, *, name: str = "the file") -> BarGrid:
    """The 4/4 grid of ``midi`` (steps 1-4 of the module docstring); ``name`` is used in
    the error messages."""
    tpb = midi.ticks_per_beat
    if not isinstance(tpb, int) or not 0 < tpb < 0x8000:
        raise MeterError(f"{name} uses SMPTE time division, which is not supported")
    bar = BEATS_PER_BAR * tpb
    regrouped: list[str] = []
    for tick, numerator, denominator in _signatures(midi):
        meter = f"{numerator}/{denominator}"
        where = "from the start" if tick == 0 else f"from beat {tick / tpb:g}"
        if (numerator, denominator) in _WHOLE_BARS:
            if tick % bar:
                raise MeterError(
                    f"{name} has a {meter} bar line at beat {tick / tpb:g}, which is not a "
                    f"whole number of 4-beat bars from the start (a pickup bar, or an odd "
                    f"number of 2/4 bars before it): diffjam counts 4/4 bars from the "
                    f"file's first beat")
        elif (numerator, denominator) in _REGROUPED:
            if meter not in regrouped:
                regrouped.append(meter)
        else:
            raise MeterError(f"{name} is in {meter} {where}: diffjam reads {SUPPORTED}; "
                             f"{meter} is not supported yet")
    return BarGrid(ticks_per_beat=tpb, regrouped=tuple(regrouped))
