"""diffjam bridge: OSC server, MIDI ports, live jam and the ``diffjam`` command line."""
