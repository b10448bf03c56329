"""The results folder and files: private, owned, created new, never through a link."""

from __future__ import annotations

import os
import stat
from itertools import count
from pathlib import Path

import pytest

from bridge import outputs
from bridge.outputs import OutputDirError, default_output_dir, open_new_file, prepare_output_dir

posix_only = pytest.mark.skipif(not hasattr(os, "getuid"), reason="needs POSIX user ids")


@pytest.fixture
def predictable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random parts 00000000, 00000001, ...: names an attacker could guess."""
    tokens = count()
    monkeypatch.setattr(outputs.secrets, "token_hex", lambda n: f"{next(tokens):0{2 * n}x}")


def test_a_planted_link_is_never_written_through(tmp_path: Path, predictable, caplog) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "r-v1-00000000.mid").symlink_to(victim)  # the name the engine tries first
    (folder / "r-v1-00000001.mid").symlink_to(tmp_path / "nowhere")  # a dangling link too
    path, file = open_new_file(folder, "r-v1", ".mid")
    with file:
        file.write(b"MThd")
    assert path.name == "r-v1-00000002.mid"
    assert not path.is_symlink() and path.read_bytes() == b"MThd"
    assert victim.read_text() == "precious"
    assert not (tmp_path / "nowhere").exists()
    assert "already exists" in caplog.text


def test_the_pipeline_runner_writes_past_planted_links(tmp_path: Path, predictable) -> None:
    from bridge.chunks import ReadyRequest
    from bridge.worker import Job, PipelineRunner
    from tests.bridge.conftest import FakePipeline
    from wire.protocol import EngineSettings, RequestMessage, RequestParams

    victim = tmp_path / "victim.mid"
    victim.write_bytes(b"keep me")
    folder = tmp_path / "out"
    runner = PipelineRunner(FakePipeline(), output_dir=folder)
    runner.prepare()
    for name in ("v1-00000000", "v2-00000001"):
        for serial_stamp in _stamps():
            (folder / f"{serial_stamp}-0001-x-{name}.mid").symlink_to(victim)
    request = ReadyRequest(RequestMessage("generate", "x", RequestParams(n_bars=1,
                                                                         variations=2)),
                           (), ("127.0.0.1", 1), ("127.0.0.1", 1))
    job = Job(request, EngineSettings(), accepted_at=0.0)
    outcome = runner.run(job, progress=lambda f: None, cancel=job.cancel)
    assert len(outcome.midi_paths) == 2 and outcome.midi_error is None
    for path in map(Path, outcome.midi_paths):
        assert not path.is_symlink() and path.read_bytes().startswith(b"MThd")
    assert victim.read_bytes() == b"keep me"


def _stamps() -> list[str]:
    """The date-time stems of now and the next few seconds (the runner names files so)."""
    import time

    now = time.time()
    return sorted({time.strftime("%Y%m%d-%H%M%S", time.localtime(now + k)) for k in range(5)})


@posix_only
def test_default_folder_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs.tempfile, "gettempdir", lambda: str(tmp_path))
    folder = default_output_dir()
    assert folder == tmp_path / f"diffjam-{os.getuid()}"
    prepare_output_dir(folder, private=True)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.chmod(0o777)  # ours, but opened up: narrowed again
    prepare_output_dir(folder, private=True)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@posix_only
def test_a_planted_default_folder_is_refused(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs.tempfile, "gettempdir", lambda: str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    default_output_dir().symlink_to(elsewhere)
    with pytest.raises(OutputDirError, match="symbolic link.*--output-dir"):
        prepare_output_dir(default_output_dir(), private=True)


@posix_only
@pytest.mark.parametrize("private", [True, False])
def test_a_folder_of_another_user_is_refused(tmp_path: Path, private: bool) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    someone_else = os.getuid() + 1
    with pytest.raises(OutputDirError, match=f"belongs to user id {os.getuid()}"):
        prepare_output_dir(folder, private=private, uid=someone_else)


@posix_only
def test_a_folder_anyone_may_write_needs_the_sticky_bit(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(OutputDirError, match="anyone may write"):
        prepare_output_dir(folder, private=False)
    folder.chmod(0o1777)  # like /tmp: others cannot replace our files
    assert prepare_output_dir(folder, private=False) == folder


def test_a_file_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputDirError, match="cannot use .*: Not a directory"):
        prepare_output_dir(blocker / "out", private=False)
    with pytest.raises(OutputDirError, match="not a folder"):
        prepare_output_dir(blocker, private=False)
