"""``--device auto|cpu|cuda|mps``: every machine played by a fake torch, and the commands'
clear error (exit 2, one line) when the device is absent."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from engine.devices import DEVICE_CHOICES, add_device_argument, resolve_device
from engine.errors import InputError


def fake_torch(*, cuda: str | None = None, gpus: int = 0, mps_built: bool = False,
               mps_available: bool = False, has_mps: bool = True) -> Any:
    backends = SimpleNamespace()
    if has_mps:
        backends.mps = SimpleNamespace(is_built=lambda: mps_built,
                                       is_available=lambda: mps_available)
    return SimpleNamespace(
        __version__="2.13.0", device=torch.device, version=SimpleNamespace(cuda=cuda),
        cuda=SimpleNamespace(is_available=lambda: gpus > 0, device_count=lambda: gpus),
        backends=backends)


def test_auto_and_cpu_on_this_machine() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected


def test_auto_prefers_cuda_and_never_picks_mps() -> None:
    assert resolve_device("auto", torch_module=fake_torch(cuda="12.8", gpus=1)).type == "cuda"
    mac = fake_torch(mps_built=True, mps_available=True)
    assert resolve_device("auto", torch_module=mac).type == "cpu"
    assert resolve_device("mps", torch_module=mac).type == "mps"


def test_cuda_on_a_cpu_only_build_says_so() -> None:
    with pytest.raises(InputError, match=r"--device cuda: this torch \(2\.13\.0\) is a build "
                                         "without CUDA.*--device cpu"):
        resolve_device("cuda", torch_module=fake_torch())


def test_cuda_build_without_a_gpu_points_at_the_driver() -> None:
    with pytest.raises(InputError, match="built for CUDA 12.8 but sees no GPU.*nvidia-smi"):
        resolve_device("CUDA", torch_module=fake_torch(cuda="12.8"))


def test_cuda_index_is_checked() -> None:
    two = fake_torch(cuda="12.8", gpus=2)
    assert resolve_device("cuda:1", torch_module=two) == torch.device("cuda", 1)
    with pytest.raises(InputError, match=r"--device cuda:2: torch sees 2 GPU\(s\)"):
        resolve_device("cuda:2", torch_module=two)


def test_mps_absent_is_explained() -> None:
    with pytest.raises(InputError, match="built without MPS"):
        resolve_device("mps", torch_module=fake_torch())
    with pytest.raises(InputError, match="built without MPS"):
        resolve_device("mps", torch_module=fake_torch(has_mps=False))
    with pytest.raises(InputError, match="this Mac cannot use it"):
        resolve_device("mps", torch_module=fake_torch(mps_built=True))


@pytest.mark.parametrize("name", ["gpu", "mps:0", "cuda:x", ""])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="unknown device"):
        resolve_device(name, torch_module=fake_torch())


def test_the_option_accepts_the_four_names_and_cuda_n() -> None:
    parser = argparse.ArgumentParser()
    add_device_argument(parser)
    assert parser.parse_args([]).device == "auto"
    for name in (*DEVICE_CHOICES, "cuda:1", "CPU"):
        assert parser.parse_args(["--device", name]).device == name.lower()
    with pytest.raises(SystemExit):
        parser.parse_args(["--device", "gpu"])


@pytest.mark.parametrize("argv", [
    ["generate", "--bars", "1", "-o", "{tmp}/x.mid"],
    ["accompany", "--chords", "C", "--bars", "1", "-o", "{tmp}/x.mid"],
    ["serve", "--port", "0"],
    ["jam"],
])
def test_commands_refuse_an_absent_device_in_one_line(argv: list[str], tmp_path: Any,
                                                      capsys: pytest.CaptureFixture) -> None:
    from diffjam.cli import main

    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main([*argv, "--device", "mps"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"diffjam {argv[0]}: error: --device mps: ")
    assert err.count("\n") == 1 and "Traceback" not in err
