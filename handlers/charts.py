"""Charts as PNG images, drawn headless with matplotlib (no display, no pyplot state).

Drawing takes a few hundred milliseconds of CPU, so callers in the event loop use `draw`,
which runs it in a worker thread and keeps the bot answering meanwhile.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from datetime import date

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 4.5, 110
MAX_LEGEND = 12  # more locations than this are summed as "others"


async def draw(
    title: str, days: Sequence[date], series: Mapping[str, Sequence[int]], *, unit: str = "meals"
) -> bytes:
    """`meals_per_day` in a worker thread."""
    return await asyncio.to_thread(meals_per_day, title, days, series, unit=unit)


def meals_per_day(
    title: str, days: Sequence[date], series: Mapping[str, Sequence[int]], *, unit: str = "meals"
) -> bytes:
    """A stacked bar chart: one bar a day, one colour a location. `series` maps each location's
    name to its figure for each of `days`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 (slow import)
    from matplotlib.figure import Figure  # noqa: PLC0415

    named = _fold(series)
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    bottom = [0] * len(days)
    for name, values in named.items():
        axes.bar(positions, values, bottom=bottom, label=_literal(name), width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(days) // 14)  # at most about 14 date labels
    axes.set_xticks(positions[::step], [f"{d:%a %d %b}" for d in days][::step], rotation=45)
    axes.tick_params(axis="x", labelsize=8)
    axes.set_ylabel(unit)
    axes.set_title(_literal(title))
    if not any(bottom):
        axes.text(0.5, 0.5, f"No {unit} recorded", ha="center", transform=axes.transAxes)
    elif named:
        axes.legend(fontsize=8, loc="upper left")
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _literal(name: str) -> str:
    """A location's name as a legend shows it: `$` would start mathematics, and a leading `_`
    would hide the entry."""
    return name.replace("$", r"\$").lstrip("_") or "?"


def _fold(series: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    """The biggest locations by name, and the rest summed as "others", so the legend fits."""
    ranked = sorted(series.items(), key=lambda item: -sum(item[1]))
    kept = {name: list(values) for name, values in ranked[: MAX_LEGEND - 1]}
    rest = ranked[MAX_LEGEND - 1 :]
    if len(rest) == 1:
        kept[rest[0][0]] = list(rest[0][1])
    elif rest:
        kept["others"] = [sum(column) for column in zip(*(v for _, v in rest), strict=True)]
    return kept
