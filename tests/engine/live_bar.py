"""A live jam's bar asked for in the middle of another generation: the tests' way to put
an urgent call (engine.pipeline.ModelThread) between a running request's sampler steps
(tests/engine/test_pipeline.py, tests/engine/test_song.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from engine.harmony import parse_progression
from engine.sampling import Result, SamplingOptions

WAIT_S = 60.0  # upper bound for a thread to get where a test waits for it; not a timing


def wait_until(condition: Callable[[], Any]) -> None:
    """Return once ``condition()`` is true; fail the test after :data:`WAIT_S`."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)


def ask_live_bar(pipeline: Any, progress: Callable[[float], None] | None = None) -> Result:
    """The bar: two bars of F G, the second written, live."""
    return pipeline.accompany(parse_progression("F G"), n_bars=2,
                              options=SamplingOptions(steps=3, seed=9), progress=progress,
                              live=True)


class LiveBar:
    """A running generation's progress callback that, at its first step, asks from another
    thread for :func:`ask_live_bar` and waits until that call is queued. ``events``
    records the running generation's steps (its stage, for a song, else "request") and the
    live bar's ("live"), in the order the model thread ran them."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.events: list[str] = []
        self.result: Result | None = None
        self._thread: threading.Thread | None = None

    def __call__(self, *progress: Any) -> None:
        self.events.append(progress[0] if isinstance(progress[0], str) else "request")
        if self._thread is None:
            self._thread = threading.Thread(target=self._ask)
            self._thread.start()
            wait_until(lambda: self.pipeline._runner._urgent)

    def _ask(self) -> None:
        self.result = ask_live_bar(self.pipeline,
                                   progress=lambda fraction: self.events.append("live"))

    def join(self) -> Result:
        """The live bar's result, once its thread is done."""
        assert self._thread is not None, "the generation never reported a step"
        self._thread.join(WAIT_S)
        assert self.result is not None
        return self.result

    def nested(self) -> tuple[str, int]:
        """(the running generation's first event, the live bar's steps) when the live bar
        ran whole between the generation's first and second step; fails otherwise."""
        live = self.events.count("live")
        first = self.events[0]
        assert live > 0 and self.events[:1 + live] == [first] + ["live"] * live
        assert len(self.events) > 1 + live and "live" not in self.events[1 + live:]
        return first, live
