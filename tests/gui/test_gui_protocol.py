"""What the panel adds to the wire protocol: its own failures and the texts people read.
(The protocol itself is tested in tests/wire.)"""

from __future__ import annotations

import pytest

from gui.clip import ClipNote
from gui.protocol import LocalError, LocalFailure, beat_notes, clip_notes, error_text
from wire.protocol import BeatNote, EngineError, ErrorCode


@pytest.mark.parametrize("code", [*ErrorCode, *LocalError], ids=lambda code: code.name)
def test_every_failure_has_a_plain_text(code: ErrorCode | LocalError) -> None:
    failure = (EngineError("r", code, "why") if isinstance(code, ErrorCode)
               else LocalFailure("r", code, "why"))
    text = error_text(failure)
    assert text.endswith(": why") and code.name not in text


def test_error_text_reads_like_a_sentence() -> None:
    assert error_text(EngineError("", ErrorCode.BAD_CHORD, "unknown chord symbol 'Hx'")) == (
        "The engine did not understand a chord: unknown chord symbol 'Hx'")
    assert error_text(LocalFailure("r", LocalError.NO_ANSWER, "")) == (
        "The engine is not answering")


def test_local_failures_have_no_engine_code() -> None:
    failure = LocalFailure("r", LocalError.LOCAL_TIMEOUT, "late")
    assert failure.name == "LOCAL_TIMEOUT" and not isinstance(failure.code, ErrorCode)


def test_notes_convert_both_ways() -> None:
    notes = (ClipNote(0.5, 1.0, 60, 90),)
    assert beat_notes(notes) == (BeatNote(0.5, 1.0, 60, 90),)
    assert clip_notes(beat_notes(notes)) == notes
