"""What the engine and its clients agree on, pure Python (no torch, mido or Qt).

- :mod:`wire.limits`: sampling defaults and the limits of a request (one table);
- :mod:`wire.errors`: :class:`~wire.errors.InputError`, the root of user-input errors;
- :mod:`wire.chords`: the chord and key grammar (one quality table), the language of the
  ``chords`` and ``key`` params and of POP909's labels;
- :mod:`wire.protocol`: the OSC protocol, both directions (needs python-osc).

The engine imports the first three; the server and the panel all four. This package
imports nothing of the project, and this file imports nothing at all.
"""
