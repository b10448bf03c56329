"""Starting an engine (``diffjam serve``) for the panel when none is running."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Sequence

__all__ = ["EngineProcess", "serve_command"]

log = logging.getLogger(__name__)


def serve_command(*, host: str, port: int) -> list[str]:
    """The command line that starts an engine on ``host:port``.

    This interpreter running the CLI module: the panel's own installation (a project
    virtual environment need not be on ``PATH``, and a ``diffjam`` found there may belong
    to another one). The panel never imports the server; it only runs it.
    """
    command = [sys.executable, "-m", "diffjam", "serve", "--port", str(port)]
    if host not in ("127.0.0.1", "localhost"):
        # the user asked for this interface explicitly; the server logs its own warning
        command += ["--host", host, "--allow-remote"]
    return command


class EngineProcess:
    """A ``diffjam serve`` child process, stopped with the panel."""

    def __init__(self, *, host: str, port: int, command: Sequence[str] | None = None) -> None:
        """``command`` replaces :func:`serve_command` (an engine started another way)."""
        self.command = list(command) if command is not None else serve_command(host=host, port=port)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log.info("starting the engine: %s", " ".join(self.command))
        try:
            self._process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)
        except OSError as err:
            raise OSError(f"cannot start the engine ({' '.join(self.command)}): {err}") from err

    def exit_code(self) -> int | None:
        """``None`` while running (or never started), else the exit status."""
        return None if self._process is None else self._process.poll()

    def stop(self, *, timeout: float = 10.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        if sys.platform == "win32":
            self._process.terminate()  # Windows cannot send SIGINT to another process
        else:
            self._process.send_signal(signal.SIGINT)  # the server's clean shutdown path
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("the engine did not stop in %.0f s; killing it", timeout)
            self._process.kill()
            self._process.wait(timeout=timeout)
