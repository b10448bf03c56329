"""Errors the engine raises for bad user input.

Every front end (CLI, OSC server, panel) catches :class:`InputError` and shows its
message to the user as it is: the messages are written for producers, not developers.
"""

from __future__ import annotations


class InputError(ValueError):
    """Base class of every error caused by the caller's input."""


class UnsupportedMeterError(InputError):
    """The clip's time signature is not one the model can handle (only 4/4)."""


class ChordSymbolError(InputError):
    """A chord or key symbol could not be read."""


class BarRangeError(InputError):
    """A bar range is empty or lies outside the clip."""


class ClipTooLargeError(InputError):
    """A clip has more notes or bars than the engine accepts."""


class ModelFileError(InputError):
    """A model file is missing, unreadable or not a diffjam checkpoint."""
