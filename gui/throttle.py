"""A throttle that merges bursts of calls (slider moves) into few calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gui.qt import QObject, QTimer

__all__ = ["Throttle"]


class Throttle(QObject):
    """Call ``func`` at most once per ``delay_ms``, always ending with the latest arguments.

    The first call of a burst goes through at once; calls during the following
    ``delay_ms`` are merged, and the last of them is made when the delay ends. So a slider
    dragged for a second sends a handful of messages, and the final value always arrives.
    """

    def __init__(
        self, func: Callable[..., Any], *, delay_ms: int, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
        self._func = func
        self._pending: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._on_timeout)

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._timer.isActive():
            self._pending = (args, kwargs)
            return
        self._func(*args, **kwargs)
        self._timer.start()

    def flush(self) -> None:
        """Make the merged pending call now, if there is one."""
        self._timer.stop()
        if self._pending is not None:
            args, kwargs = self._pending
            self._pending = None
            self._func(*args, **kwargs)

    def cancel(self) -> None:
        """Forget the pending call."""
        self._timer.stop()
        self._pending = None

    def _on_timeout(self) -> None:
        if self._pending is not None:
            args, kwargs = self._pending
            self._pending = None
            self._func(*args, **kwargs)
            self._timer.start()
