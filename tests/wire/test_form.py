"""Form strings: ``i4A8B8A8o4``."""

from __future__ import annotations

import pytest

from wire.form import FormError, Phrase, parse_form


def test_reads_a_form() -> None:
    phrases = parse_form("i4A8B8A8o4")
    assert phrases == (
        Phrase("i", 4), Phrase("A", 8), Phrase("B", 8), Phrase("A", 8), Phrase("o", 4),
    )  # fmt: skip
    assert sum(phrase.bars for phrase in phrases) == 32
    assert [phrase.melodic for phrase in phrases] == [False, True, True, True, False]


def test_multi_digit_bar_counts_and_whitespace() -> None:
    assert parse_form("  A16b2 ") == (Phrase("A", 16), Phrase("b", 2))


def test_empty_is_empty() -> None:
    assert parse_form("") == ()


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("A8B", 2, "'B' at character 3"),
        ("A8 B8", 2, "' B8' at character 3"),
        ("8A", 0, "'8A' at character 1"),
        ("A8-B8", 2, "'-B8' at character 3"),
    ],
)
def test_names_where_it_breaks(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FormError) as info:
        parse_form(text)
    assert info.value.position == position
    assert fragment in str(info.value)


def test_zero_bar_phrase_is_rejected() -> None:
    with pytest.raises(FormError, match="A0 at character 3 has no bars"):
        parse_form("i4A0")


def test_too_long_is_rejected() -> None:
    with pytest.raises(FormError, match="300 bars; at most 256"):
        parse_form("A100B100A100")
