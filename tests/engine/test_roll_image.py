import pytest

from engine.errors import InputError
from engine.pianoroll import Note
from engine.roll_image import render_svg


def test_every_note_is_a_rectangle_and_the_regenerated_bars_are_shaded():
    melody = [Note(0, 72, 4, 100), Note(16, 74, 8, 90)]
    piano = [Note(0, 48, 16, 60), Note(16, 50, 16, 60), Note(40, 52, 4, 60)]
    svg = render_svg([("melody", melody), ("piano & bass", piano)], n_bars=3, shade=(1, 2))
    assert svg.count('fill="#d62728" fill-opacity') == 2
    assert svg.count('fill="#1f77b4" fill-opacity') == 3
    assert 'fill="#fff3c4"' in svg  # the shaded bar
    assert "piano &amp; bass" in svg


def test_a_clip_without_notes_is_an_error():
    with pytest.raises(InputError, match="no notes"):
        render_svg([("empty", [])], n_bars=1)
