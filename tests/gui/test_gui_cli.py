"""``diffjam panel`` options and the engine command line it starts."""

from __future__ import annotations

import argparse
import sys

import pytest

from diffjam import cli
from gui.engine_process import EngineProcess, serve_command


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["panel", *argv])


def test_panel_options() -> None:
    args = parse("--host", "10.0.0.2", "--port", "9100", "--start-engine")
    assert (args.host, args.port, args.start_engine) == ("10.0.0.2", 9100, True)
    assert args.handler is cli.run_panel


def test_panel_defaults_come_from_settings_later() -> None:
    args = parse()
    assert (args.host, args.port, args.start_engine) == (None, None, False)


def test_panel_options_are_parsed_once_by_the_one_parser() -> None:
    with pytest.raises(SystemExit):
        parse("--bogus")


def test_serve_command_on_loopback() -> None:
    assert serve_command(host="127.0.0.1", port=9001) == [
        sys.executable, "-m", "diffjam", "serve", "--port", "9001",
    ]  # fmt: skip


def test_serve_command_ignores_a_diffjam_on_path_and_names_a_remote_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/diffjam")  # another install
    assert serve_command(host="0.0.0.0", port=9000) == [
        sys.executable, "-m", "diffjam", "serve", "--port", "9000", "--host", "0.0.0.0",
        "--allow-remote",
    ]  # fmt: skip


def test_engine_process_runs_and_stops_a_child() -> None:
    script = "import time\nwhile True: time.sleep(0.05)"
    process = EngineProcess(host="127.0.0.1", port=9000, command=[sys.executable, "-c", script])
    assert process.exit_code() is None
    process.start()
    assert process.exit_code() is None
    process.stop()
    assert process.exit_code() is not None
    process.stop()  # idempotent


def test_engine_process_reports_a_missing_command() -> None:
    process = EngineProcess(host="127.0.0.1", port=9000, command=["/nonexistent/diffjam"])
    with pytest.raises(OSError, match="cannot start the engine"):
        process.start()
