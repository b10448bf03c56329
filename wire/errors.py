"""The root of every error caused by a user's input, shared by the engine and its clients.

Every front end (CLI, OSC server, panel) catches :class:`InputError` and shows its
message as it is: the messages are written for producers, not developers. The engine's
own kinds (:mod:`engine.errors`) derive from it; :class:`ChordSymbolError` lives here
because the chord grammar (:mod:`wire.chords`) is shared with the panel.
"""

from __future__ import annotations

__all__ = ["ChordSymbolError", "InputError"]


class InputError(ValueError):
    """Base class of every error caused by the caller's input."""


class ChordSymbolError(InputError):
    """A chord or key symbol could not be read.

    ``symbol`` is the offending symbol (``"|"`` for an empty bar, ``""`` when unknown),
    ``bar`` its 1-based bar in a progression (None outside one)."""

    def __init__(self, message: str, *, symbol: str = "", bar: int | None = None) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.bar = bar
