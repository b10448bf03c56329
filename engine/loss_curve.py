"""A training run's loss history as a small SVG for the model card (no plotting library
needed); ``diffjam loss-curve`` (:mod:`diffjam.commands.loss_curve`) draws a run's."""

from __future__ import annotations

import math

from engine.errors import InputError

WIDTH, HEIGHT, MARGIN = 640, 320, 48
COLOURS = {"train": "#1f77b4", "valid": "#d62728"}


def render_svg(history: dict[str, list[list[float]]], *, title: str) -> str:
    """An SVG line chart of ``history`` ({series: [[step, loss], ...]}), log-scaled loss;
    points without a positive finite loss are left out. Raises InputError when none is
    left (a run that has not logged a loss yet)."""
    history = {name: [p for p in series if _plottable(p)] for name, series in history.items()}
    points = [p for series in history.values() for p in series]
    if not points:
        raise InputError("the run has no loss history yet (it logs one every --log-every "
                         "steps)")
    max_step = max(max(p[0] for p in points), 1)
    low = math.log10(min(p[1] for p in points))
    high = math.log10(max(p[1] for p in points))
    if high - low < 1e-6:
        high = low + 1.0

    def xy(step: float, loss: float) -> tuple[float, float]:
        x = MARGIN + (WIDTH - 2 * MARGIN) * step / max_step
        y = HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (math.log10(loss) - low) / (high - low)
        return x, y

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle">{title}</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="black"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle">step (0 to '
        f'{int(max_step)})</text>',
        f'<text x="{MARGIN - 4}" y="{MARGIN}" text-anchor="end">{10 ** high:.3f}</text>',
        f'<text x="{MARGIN - 4}" y="{HEIGHT - MARGIN}" text-anchor="end">{10 ** low:.3f}</text>',
    ]
    for index, (name, series) in enumerate(sorted(history.items())):
        if not series:
            continue
        colour = COLOURS.get(name, "#555555")
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(s, v) for s, v in series))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{path}"/>')
        parts.append(f'<text x="{WIDTH - MARGIN}" y="{MARGIN + 16 * index}" fill="{colour}" '
                     f'text-anchor="end">{name} loss (v-MSE)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _plottable(point: object) -> bool:
    return (isinstance(point, list) and len(point) == 2
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in point)
            and point[1] > 0 and point[0] >= 0)
