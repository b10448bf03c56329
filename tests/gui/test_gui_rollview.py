"""The piano-roll view on its own."""

from __future__ import annotations

from conftest import count_pixels

from gui.clip import ClipNote
from gui.qt import QColor, QPoint, Qt
from gui.rollview import CONTEXT_COLOR, GENERATED_COLOR, PLAYHEAD_COLOR, RollView

NOTES = [ClipNote(start=float(beat), duration=1.0, pitch=60 + beat % 5, velocity=100)
         for beat in range(16)]  # fmt: skip


def shown(qtbot) -> RollView:
    view = RollView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    return view


def test_generated_range_is_shaded_and_coloured(qtbot) -> None:
    view = shown(qtbot)
    view.set_clip(NOTES, n_bars=4, generated=(2, 3))
    assert [note.start for note in NOTES if view.is_generated(note)] == [4.0 + i for i in range(8)]
    image = view.grab().toImage()
    assert count_pixels(image, GENERATED_COLOR) > 20
    assert count_pixels(image, CONTEXT_COLOR) > 20


def test_input_clip_has_no_generated_notes_and_an_outlined_target(qtbot) -> None:
    view = shown(qtbot)
    view.set_clip(NOTES, n_bars=4, target=(3, 4))
    assert not any(view.is_generated(note) for note in NOTES)
    image = view.grab().toImage()
    assert count_pixels(image, GENERATED_COLOR) > 20  # the dashed outline
    view.set_target(None)
    assert count_pixels(view.grab().toImage(), GENERATED_COLOR) == 0


def test_length_grows_to_hold_every_note(qtbot) -> None:
    view = shown(qtbot)
    view.set_clip([ClipNote(start=17.0, duration=2.0, pitch=60)], n_bars=2)
    assert view.n_bars == 5


def test_empty_view_says_so(qtbot) -> None:
    view = shown(qtbot)
    view.set_clip([], n_bars=0)
    image = view.grab().toImage()
    assert count_pixels(image, QColor(200, 203, 208), tolerance=30) > 0  # the hint text
    assert view.notes == ()


def test_dragging_across_bars_selects_them(qtbot) -> None:
    view = shown(qtbot)
    view.set_clip(NOTES, n_bars=4)
    bar_width = (view.width() - 34 - 4) / 4
    x_of = [round(34 + (bar - 0.5) * bar_width) for bar in (1, 2, 3, 4)]  # bar middles
    assert [view.bar_at(x) for x in x_of] == [1, 2, 3, 4]
    selected: list[tuple[int, int]] = []
    view.bars_selected.connect(lambda first, last: selected.append((first, last)))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(x_of[2], 100))
    qtbot.mouseMove(view, QPoint(x_of[2] + 1, 100))
    assert selected == []  # within the drag distance: nothing yet
    qtbot.mouseMove(view, QPoint(x_of[0], 130))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(x_of[0], 130))
    assert selected[-1] == (1, 3)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(x_of[3], 100))
    assert selected[-1] == (4, 4)  # a click picks one bar


def test_playhead_is_drawn_where_the_audition_is(qtbot) -> None:
    view = RollView()
    qtbot.addWidget(view)
    view.resize(640, 300)
    view.set_clip([ClipNote(0.0, 1.0, 60, 90)], n_bars=2)
    assert count_pixels(view.grab().toImage(), PLAYHEAD_COLOR, tolerance=20) == 0
    view.set_playhead(4.0)
    assert view.playhead == 4.0
    assert count_pixels(view.grab().toImage(), PLAYHEAD_COLOR, tolerance=20) > 100


def test_chord_lane_repeats_a_short_progression(qtbot) -> None:
    view = shown(qtbot)
    view.set_clip(NOTES, n_bars=4)
    before = count_pixels(view.grab().toImage(), QColor(230, 200, 120), tolerance=40)
    view.set_chords([("C",), ("G", "Em")])
    assert [view.chords_at(bar) for bar in (1, 2, 3, 4)] == [("C",), ("G", "Em"), ("C",),
                                                             ("G", "Em")]  # fmt: skip
    assert count_pixels(view.grab().toImage(), QColor(230, 200, 120), tolerance=40) > before
    view.set_chords(())
    assert view.chords_at(1) == ()
