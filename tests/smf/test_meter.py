from __future__ import annotations

import ast
from pathlib import Path

import mido
import pytest

from smf import BarGrid, MeterError, bar_grid

SMF = Path(__file__).resolve().parents[2] / "smf"


def with_meters(*meters: tuple[int, int, int], tpb: int = 480) -> mido.MidiFile:
    """A file with time signatures (beat, numerator, denominator) in its first track."""
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    track = mido.MidiTrack()
    now = 0
    for beat, numerator, denominator in meters:
        tick = beat * tpb
        track.append(mido.MetaMessage("time_signature", numerator=numerator,
                                      denominator=denominator, time=tick - now))
        now = tick
    midi.tracks.append(track)
    return midi


@pytest.mark.parametrize(("meters", "regrouped"), [
    ((), ()),
    (((0, 4, 4),), ()),
    (((0, 2, 2),), ()),
    (((0, 2, 4),), ("2/4",)),
    (((0, 1, 4),), ("1/4",)),
    (((0, 4, 4), (0, 1, 4)), ("1/4",)),  # POP909: the last one at a tick counts
    (((0, 2, 4), (166, 1, 4), (169, 2, 4)), ("2/4", "1/4")),  # bar lines off the grid: fine
    (((0, 4, 4), (8, 2, 4), (12, 4, 4)), ("2/4",)),  # two 2/4 bars fill one 4/4 bar
])
def test_duple_meters_read_in_4_4_bars(meters, regrouped) -> None:
    grid = bar_grid(with_meters(*meters, tpb=96))
    assert grid == BarGrid(ticks_per_beat=96, regrouped=regrouped)
    assert grid.ticks_per_bar == 384 and grid.bar_start(3) == 1152


@pytest.mark.parametrize(("meters", "message"), [
    (((0, 3, 4),), "clip.mid is in 3/4 from the start: diffjam reads 4/4 (2/2, 2/4 and 1/4 "
                   "are read in 4/4 bars); 3/4 is not supported yet"),
    (((0, 6, 8),), "is in 6/8 from the start"),
    (((0, 4, 4), (8, 5, 4)), "is in 5/4 from beat 8"),
    (((0, 7, 8),), "is in 7/8"),
    (((0, 12, 8),), "is in 12/8"),
    (((0, 1, 4), (1, 4, 4)), "has a 4/4 bar line at beat 1, which is not a whole number of "
                             "4-beat bars"),
    (((0, 2, 4), (6, 4, 4)), "an odd number of 2/4 bars"),
])
def test_other_meters_are_one_clear_error(meters, message) -> None:
    with pytest.raises(MeterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bar_grid(with_meters(*meters), name="clip.mid")


def test_smpte_division_is_refused() -> None:
    midi = mido.MidiFile(type=1)
    midi.ticks_per_beat = -7656  # what mido reads from an SMPTE header
    with pytest.raises(MeterError, match="SMPTE"):
        bar_grid(midi)


@pytest.mark.parametrize(("song", "regrouped"), [
    ("001", ("2/4",)), ("014", ("1/4",)), ("022", ("1/4",)), ("043", ("2/4",)),
    ("032", ()), ("191", ()),
])
def test_pop909_files_read_in_4_4_bars(data_dir: Path, song: str, regrouped) -> None:
    midi = mido.MidiFile(data_dir / "pop909" / song / f"{song}.mid")
    assert bar_grid(midi).regrouped == regrouped


@pytest.mark.parametrize(("song", "meter"), [("107", "3/4"), ("203", "6/8")])
def test_pop909_triple_meter_files_are_named(data_dir: Path, song: str, meter: str) -> None:
    midi = mido.MidiFile(data_dir / "pop909" / song / f"{song}.mid")
    with pytest.raises(MeterError, match=f"{song}.mid is in {meter}"):
        bar_grid(midi, name=f"{song}.mid")


@pytest.mark.parametrize("path", sorted(SMF.glob("*.py")), ids=lambda p: p.name)
def test_smf_imports_only_mido_and_itself(path: Path) -> None:
    """The panel imports smf, and may not import the engine: smf stays below both."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    roots = {name.split(".")[0] for name in names}
    assert not roots & {"engine", "bridge", "gui", "torch", "numpy"}, sorted(roots)
