"""Where the model runs: the ``--device`` option of every command, read into a torch device.

``auto`` picks CUDA when torch sees a GPU, else the CPU (as :meth:`Pipeline.load` does
when given no device). ``mps`` (Apple silicon) is used only when asked for: it has not
been tried on a Mac. A device that this machine or this build of torch lacks is an
:class:`~engine.errors.InputError` whose message says why and what to do, never a torch
traceback. torch is imported inside the functions, so a parser can offer the choices
without loading it.
"""

from __future__ import annotations

import argparse
import os
import re
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engine.errors import InputError

if TYPE_CHECKING:
    import torch

__all__ = ["DEVICE_CHOICES", "DEVICE_HELP", "THREADS_HELP", "add_device_argument",
           "add_threads_argument", "inference_threads", "resolve_device"]

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
DEVICE_HELP = ("where the model runs: auto (CUDA when torch sees a GPU, else the CPU), cpu, "
               "cuda (or cuda:N) or mps (Apple silicon); default auto")

_NAME = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")


def _device_name(text: str) -> str:
    """argparse ``type``: a device name in lower case, refused when it is none of ours."""
    name = text.strip().lower()
    match = _NAME.match(name)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise argparse.ArgumentTypeError(
            f"unknown device {text!r}: use {', '.join(DEVICE_CHOICES)} or cuda:N")
    return name


THREADS_HELP = ("torch CPU threads for the model (default: half the logical cores, at most 4, "
                "at least 1: on a CPU a DAW keeps busy, more threads than free cores make "
                "every request several times slower)")


def inference_threads(requested: int | None = None, *, cores: int | None = None) -> int:
    """torch CPU threads for sampling: ``requested``, else half the logical ``cores``
    (``os.cpu_count()``), at most 4 and at least 1.

    Why half: torch's threads spin in lock step, so one thread that loses its core to
    another process stalls the rest. Measured on the 2-core build machine with two busy
    processes beside it (``diffjam bench --load 2``, docs/bench/): 2 threads ran an
    8-bar infill several times slower than 1. Measured again in the fifteenth session
    (the model card, "Speed and memory"): idle, 2 threads gained 1.05x on the infill given
    chords and 1.2-1.45x on the infill without chords and the accompaniment, but beside
    one busy process they lost 3-5x, and beside a live jam's clock thread they made its
    note-ons 14 ms late at p99 against 2 ms. A DAW always keeps some cores busy, and the
    jam's clock needs one. Raises InputError below 1."""
    if requested is not None:
        if requested < 1:
            raise InputError(f"--threads must be >= 1, got {requested}")
        return requested
    count = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(4, count // 2))


def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--threads must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--threads must be >= 1, got {value}")
    return value


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--threads N`` (default None: :func:`inference_threads` decides)."""
    parser.add_argument("--threads", type=_threads, metavar="N", help=THREADS_HELP)


def add_device_argument(parser: argparse.ArgumentParser, *, flag: str = "--device") -> None:
    """Add ``--device auto|cpu|cuda|mps`` (default auto; ``cuda:N`` picks a GPU)."""
    parser.add_argument(flag, type=_device_name, default="auto",
                        metavar="{auto,cpu,cuda,mps}", help=DEVICE_HELP)


def resolve_device(name: str | None = "auto", *, option: str = "--device",
                   torch_module: ModuleType | None = None) -> torch.device:
    """The torch device for ``name`` (``auto``/None, ``cpu``, ``cuda``, ``cuda:N``, ``mps``).

    Raises InputError when the device is unknown or absent, saying whether this torch
    was built without it or the machine lacks it; the message names ``option``, the
    command-line flag that asked for it. ``torch_module`` replaces ``torch``
    (tests pass a fake to play a machine with a GPU or a Mac).
    """
    if torch_module is None:
        import torch as torch_module
    torch: Any = torch_module  # torch, or a test's fake of it
    text = "auto" if name is None else str(name).strip().lower()
    match = _NAME.match(text)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise InputError(f"unknown device {name!r}: use {', '.join(DEVICE_CHOICES)} or cuda:N")
    kind, index = match.group(1), match.group(2)
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cpu":
        return torch.device("cpu")
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_built():
            raise InputError(f"{option} mps: this torch ({torch.__version__}) was built without "
                             f"MPS; MPS is Apple silicon's GPU (macOS 12.3 or later): use "
                             f"{option} cpu here")
        if not mps.is_available():
            raise InputError(f"{option} mps: torch has MPS but this Mac cannot use it (it needs "
                             f"Apple silicon and macOS 12.3 or later): use {option} cpu")
        return torch.device("mps")
    if torch.version.cuda is None:
        raise InputError(f"{option} {text}: this torch ({torch.__version__}) is a build without "
                         f"CUDA; install a CUDA build of torch (see the README) or use "
                         f"{option} cpu")
    if not torch.cuda.is_available():
        raise InputError(f"{option} {text}: torch was built for CUDA {torch.version.cuda} but "
                         "sees no GPU; check the driver (nvidia-smi) and CUDA_VISIBLE_DEVICES, "
                         f"or use {option} cpu")
    if index is not None:
        count = torch.cuda.device_count()
        if int(index) >= count:
            raise InputError(f"{option} {text}: torch sees {count} GPU(s), numbered from 0")
        return torch.device("cuda", int(index))
    return torch.device("cuda")
