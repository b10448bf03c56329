"""A mido backend module (``--backend tests.bridge.dead_midi``) whose ports are listed but
dead: opening one fails as python-rtmidi fails for a device that was unplugged."""

from __future__ import annotations

from typing import Any

from mido.ports import BaseInput, BaseOutput


def get_devices(**_kwargs: Any) -> list[dict[str, Any]]:
    return [{"name": "Dead Keys", "is_input": True, "is_output": False},
            {"name": "Dead Synth", "is_input": False, "is_output": True}]


class _Dead:
    def _open(self, **_kwargs: Any) -> None:
        raise OSError(f"MIDI device {self.name!r} is gone (unplugged?)")


class Input(_Dead, BaseInput):
    pass


class Output(_Dead, BaseOutput):
    pass
