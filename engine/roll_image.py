"""A MIDI clip as a piano-roll SVG for the model card (no plotting library needed), with
the bars a command regenerated shaded, so a reader sees what came back from the model and
what was the user's; ``diffjam roll-image`` (:mod:`diffjam.commands.roll_image`) draws a
file's.

Time runs left to right in 16th steps, pitch bottom to top; one colour per track.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import InputError
from engine.pianoroll import STEPS_PER_BAR, Note

STEP_PX, PITCH_PX, MARGIN = 4, 4, 24
TRACK_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def render_svg(tracks: Sequence[tuple[str, Sequence[Note]]], *, n_bars: int,
               shade: tuple[int, int] | None = None, title: str = "") -> str:
    """An SVG of ``tracks`` ([(name, notes)], notes in 16th steps) over ``n_bars`` bars;
    ``shade`` = (first bar, stop bar), 0-based half-open, is drawn behind the notes."""
    notes = [n for _, track in tracks for n in track]
    if not notes:
        raise InputError("the clip has no notes to draw")
    low, high = min(n.pitch for n in notes) - 2, max(n.pitch for n in notes) + 2
    width = 2 * MARGIN + n_bars * STEP_PX * STEPS_PER_BAR
    height = 2 * MARGIN + (high - low + 1) * PITCH_PX
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if shade is not None:
        x = MARGIN + shade[0] * STEPS_PER_BAR * STEP_PX
        w = (shade[1] - shade[0]) * STEPS_PER_BAR * STEP_PX
        parts.append(f'<rect x="{x}" y="{MARGIN}" width="{w}" height="{height - 2 * MARGIN}" '
                     'fill="#fff3c4"/>')
    for bar in range(n_bars + 1):
        x = MARGIN + bar * STEPS_PER_BAR * STEP_PX
        parts.append(f'<line x1="{x}" y1="{MARGIN}" x2="{x}" y2="{height - MARGIN}" '
                     'stroke="#cccccc" stroke-width="1"/>')
        if bar < n_bars:
            parts.append(f'<text x="{x + 2}" y="{height - MARGIN + 14}" fill="#666">'
                         f'{bar + 1}</text>')
    legend_x = MARGIN
    for index, (name, track) in enumerate(tracks):
        colour = TRACK_COLOURS[index % len(TRACK_COLOURS)]
        for n in track:
            x = MARGIN + n.start * STEP_PX
            y = MARGIN + (high - n.pitch) * PITCH_PX
            w = max(1, min(n.duration, n_bars * STEPS_PER_BAR - n.start)) * STEP_PX - 1
            if n.start < n_bars * STEPS_PER_BAR:
                opacity = 0.35 + 0.65 * n.velocity / 127
                parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{PITCH_PX - 1}" '
                             f'fill="{colour}" fill-opacity="{opacity:.2f}"/>')
        label = _escape(name or f"track {index + 1}")
        parts.append(f'<text x="{legend_x}" y="{MARGIN - 8}" fill="{colour}">{label}</text>')
        legend_x += 8 * len(label) + 16
    if title:
        parts.append(f'<text x="{width - MARGIN}" y="{MARGIN - 8}" text-anchor="end" '
                     f'fill="#333">{_escape(title)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
