"""diffjam panel: a PyQt6 desktop client of the engine, over OSC only.

The panel never imports :mod:`engine` or :mod:`bridge` (``tests/test_layering.py``
checks): it speaks ``docs/osc-protocol.md`` through :mod:`wire.protocol`, the one
definition the engine uses too, reads chords with :mod:`wire.chords` and the engine's
limits from ``/diffjam/status``, and starts ``diffjam serve`` as a child process when
asked to. Modules:

- :mod:`gui.qt` — the one place Qt is imported from;
- :mod:`gui.protocol` — the failures the panel makes up itself and the error texts people
  read (no Qt, no sockets);
- :mod:`gui.client` — the UDP socket, its receiving thread and the Qt signals;
- :mod:`gui.clip`, :mod:`gui.chords` — notes in beats and MIDI files, chord-progression
  validation (forms are read with :mod:`wire.form`);
- :mod:`gui.throttle`, :mod:`gui.rollview`, :mod:`gui.editors`, :mod:`gui.jam`,
  :mod:`gui.panel` — the widgets and the main window;
- :mod:`gui.app`, :mod:`gui.cli`, :mod:`gui.engine_process` — ``diffjam panel``;
- :mod:`gui.screenshots` — the documentation screenshots.
"""
