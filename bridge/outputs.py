"""Where the engine writes its ``.mid`` results, safely on a machine shared with others.

Result names are partly predictable (date, time, serial, request id), and the default
folder lies under the shared temp folder, so the folder and every file are made such that
nobody else can make the engine write somewhere else:

1. The default folder is private to the user: ``diffjam-<uid>`` under the system temp
   folder, created with mode 0700 (its permissions are narrowed to 0700 when it exists
   with wider ones; it is ours).
2. A folder is refused (:class:`OutputDirError`) when it is not a folder, is owned by
   another user, or is writable by everyone without the sticky bit; the default folder
   also when it is a symbolic link (someone may have planted it).
3. Every file is created exclusively (``O_CREAT | O_EXCL``, which never follows a
   symbolic link, plus ``O_NOFOLLOW`` where the system has it), under a name that ends in
   a random part; a name already taken (by anything, a planted link included) is logged
   and another random part is drawn.

The folder is checked when the server starts and again before every write (a temp
cleaner may have removed it meanwhile).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

__all__ = ["OutputDirError", "default_output_dir", "open_new_file", "prepare_output_dir"]

log = logging.getLogger(__name__)

_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_ATTEMPTS = 8  # random names tried before giving up (a clash is already one in 2^32)


class OutputDirError(OSError):
    """The results folder cannot be used safely (the message says why and what to do)."""


def _current_uid() -> int | None:
    getuid = getattr(os, "getuid", None)  # absent on Windows, where the temp folder is per user
    return None if getuid is None else getuid()


def default_output_dir() -> Path:
    """The user's private results folder: ``<temp>/diffjam-<uid>`` (``<temp>/diffjam``
    where there are no user ids)."""
    uid = _current_uid()
    name = "diffjam" if uid is None else f"diffjam-{uid}"
    return Path(tempfile.gettempdir()) / name


def prepare_output_dir(path: Path, *, private: bool, uid: int | None = None) -> Path:
    """Create ``path`` when missing (mode 0700) and check it (see the module docstring).

    ``private``: the default folder (no symbolic link, permissions narrowed to 0700).
    ``uid``: the owner it must have (default: the current user). Returns ``path``; raises
    :class:`OutputDirError`.
    """
    uid = _current_uid() if uid is None else uid
    hint = ("; pass --output-dir with a folder of your own" if private
            else "; choose a folder of your own")
    look = os.lstat if private else os.stat
    try:
        try:
            info = look(path)
        except FileNotFoundError:
            path.mkdir(mode=0o700, parents=not private)
            info = look(path)
    except OSError as err:
        raise OutputDirError(f"cannot use {path} for results: {err.strerror or err}{hint}"
                             ) from err
    if stat.S_ISLNK(info.st_mode):
        raise OutputDirError(f"refusing to write results to {path}: it is a symbolic link "
                             f"(someone else may have put it there){hint}")
    if not stat.S_ISDIR(info.st_mode):
        raise OutputDirError(f"cannot use {path} for results: it is not a folder{hint}")
    if uid is not None and info.st_uid != uid:
        raise OutputDirError(f"refusing to write results to {path}: it belongs to user id "
                             f"{info.st_uid}, not to you{hint}")
    if private and info.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError as err:
            raise OutputDirError(f"cannot make {path} private: {err.strerror or err}{hint}"
                                 ) from err
    elif info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
        raise OutputDirError(f"refusing to write results to {path}: anyone may write to it "
                             f"(and replace the files in it){hint}")
    return path


def open_new_file(folder: Path, stem: str, suffix: str) -> tuple[Path, BinaryIO]:
    """Create ``folder/<stem>-<8 random hex digits><suffix>`` exclusively, never through a
    symbolic link; the path and the file, open for binary writing (the caller closes it)."""
    for _ in range(_ATTEMPTS):
        path = folder / f"{stem}-{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(path, _FLAGS, 0o644)
        except FileExistsError:
            log.warning("%s already exists (a file or link someone else put there?); "
                        "trying another name", path)
            continue
        except OSError as err:
            raise OutputDirError(f"cannot create a file in {folder}: {err.strerror or err}"
                                 ) from err
        return path, os.fdopen(fd, "wb")
    raise OutputDirError(f"cannot create a new file in {folder}: {_ATTEMPTS} random names "
                         "were all taken")
