"""Errors the engine raises for bad user input.

Every front end (CLI, OSC server, panel) catches :class:`InputError` and shows its
message to the user as it is: the messages are written for producers, not developers.
:class:`InputError` and :class:`ChordSymbolError` are :mod:`wire.errors`' (the panel reads
chords with the same grammar); the kinds below are the engine's own.
"""

from __future__ import annotations

from wire.errors import ChordSymbolError, InputError  # shared with the panel

__all__ = [
    "BarRangeError",
    "ChordSymbolError",
    "ClipTooLargeError",
    "InputError",
    "ModelFileError",
    "UnsupportedMeterError",
]


class UnsupportedMeterError(InputError):
    """The clip's time signature is not one the model can handle (only 4/4)."""


class BarRangeError(InputError):
    """A bar range is empty or lies outside the clip."""


class ClipTooLargeError(InputError):
    """A clip has more notes or bars than the engine accepts."""


class ModelFileError(InputError):
    """A model file is missing, unreadable or not a diffjam checkpoint."""
