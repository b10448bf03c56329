"""Song form strings: phrase letters with bar counts, such as ``i4A8B8A8o4``.

The notation follows POP909's phrase labels: a letter names a phrase (upper case for
melodic phrases, ``A`` ``B`` ...; lower case for non-melodic ones: ``i`` intro, ``o``
outro, ``x``/``b`` fills and bridges), the number after it is the phrase's length in
bars. The whole string must be a sequence of ``([A-Za-z])(\\d+)`` pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wire.limits import MAX_BARS

__all__ = ["FormError", "Phrase", "parse_form"]

_PHRASE = re.compile(r"([A-Za-z])(\d+)")
MAX_FORM_BARS = MAX_BARS  # a form longer than a clip may be cannot be generated


class FormError(ValueError):
    """A form string cannot be read; ``position`` is the 0-based offending character."""

    def __init__(self, message: str, *, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Phrase:
    """One phrase of a form: its label letter and its length in bars (>= 1)."""

    letter: str
    bars: int

    @property
    def melodic(self) -> bool:
        return self.letter.isupper()


def parse_form(text: str) -> tuple[Phrase, ...]:
    """Read a form string; raise :class:`FormError` naming where it stops making sense.

    Surrounding whitespace is ignored; an empty string is an empty form.
    """
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    phrases: list[Phrase] = []
    position = 0
    while position < len(stripped):
        match = _PHRASE.match(stripped, position)
        if match is None:
            rest = stripped[position:]
            raise FormError(
                f"cannot read {rest!r} at character {offset + position + 1}: expected a "
                "phrase letter followed by its bar count, e.g. A8",
                position=offset + position,
            )
        letter, digits = match.groups()
        bars = int(digits)
        if bars < 1:
            raise FormError(
                f"phrase {letter}{digits} at character {offset + position + 1} has no bars",
                position=offset + position,
            )
        phrases.append(Phrase(letter=letter, bars=bars))
        position = match.end()
    total = sum(phrase.bars for phrase in phrases)
    if total > MAX_FORM_BARS:
        raise FormError(
            f"the form lasts {total} bars; at most {MAX_FORM_BARS} are supported",
            position=offset,
        )
    return tuple(phrases)
