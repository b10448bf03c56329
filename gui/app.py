"""Running the panel as an application: the Qt app, the client, the optional engine."""

from __future__ import annotations

import logging
import signal
import sys

from gui.client import EngineClient
from gui.engine_process import EngineProcess
from gui.panel import PanelWindow
from gui.qt import QApplication, QSettings, QTimer

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "main"]

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
ORGANIZATION = "diffjam"
APPLICATION = "panel"


def main(
    *,
    host: str | None,
    port: int | None,
    start_engine: bool,
    settings: QSettings | None = None,
) -> int:
    """Open the panel and run until it is closed; return the exit status.

    ``host``/``port`` default to the last ones used (saved in ``settings``, the user's
    ``diffjam/panel`` settings unless given), else 127.0.0.1:9000.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    settings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)
    host = host or str(settings.value("engine/host", DEFAULT_HOST))
    port = port or int(settings.value("engine/port", DEFAULT_PORT))
    if not 1 <= port <= 65535:
        print(f"diffjam panel: error: port {port} is outside 1..65535", file=sys.stderr)
        return 2
    settings.setValue("engine/host", host)
    settings.setValue("engine/port", port)
    process = None
    if start_engine:
        process = EngineProcess(host=host, port=port)
        try:
            process.start()
        except OSError as err:
            print(f"diffjam panel: error: {err}", file=sys.stderr)
            return 1
    client = EngineClient(host=host, port=port)
    window = PanelWindow(client=client, settings=settings, engine_process=process)
    app.aboutToQuit.connect(window.save_settings)
    previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
    wake = QTimer()  # lets Python run its signal handler while Qt's loop waits
    wake.timeout.connect(lambda: None)
    wake.start(250)
    client.start()
    window.show()
    try:
        return int(app.exec())
    finally:
        wake.stop()
        signal.signal(signal.SIGINT, previous)
        client.close()
        if process is not None:
            process.stop()
