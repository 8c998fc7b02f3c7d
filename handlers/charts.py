"""Charts as PNG images, drawn headless with matplotlib (no display, no pyplot state).

Drawing takes a few hundred milliseconds of CPU, so callers in the event loop use `draw`,
which runs it in a worker thread and keeps the bot answering meanwhile.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


# --- the week at every location: a heat map ----------------------------------------------------

HEAT_WIDTH_INCHES = 9.0
HEAT_ROW_INCHES = 0.27  # a location's row: its name in 8 points, readable when the picture is
HEAT_HEAD_INCHES = 1.3  # the title, the days and the legend
HEAT_TOP_INCHES = 0.75  # the title and the days, above the grid
HEAT_LEGEND_INCHES = 0.45  # the legend, below it
HEAT_NAMES_INCHES = 3.1  # the locations' names, left of it (HEAT_NAME_CHARS in 8 points)
HEAT_SIDE_INCHES = 0.2
HEAT_PNG_COMPRESSION = 1
HEAT_NAME_CHARS = 40  # a location's name beside its row; the caption and the file hold it all


@dataclass(frozen=True)
class HeatKey:
    """One kind of cell: its colour and what the legend calls it."""

    colour: str
    label: str


async def draw_heat_map(
    title: str,
    columns: Sequence[str],
    rows: Sequence[str],
    cells: Sequence[Sequence[tuple[int, str]]],
    keys: Sequence[HeatKey],
) -> bytes:
    """`heat_map` in a worker thread."""
    return await asyncio.to_thread(heat_map, title, columns, rows, cells, keys)


def heat_map(
    title: str,
    columns: Sequence[str],
    rows: Sequence[str],
    cells: Sequence[Sequence[tuple[int, str]]],
    keys: Sequence[HeatKey],
) -> bytes:
    """A grid of coloured cells, a row for each of `rows` and a column for each of `columns`:
    `cells[row][column]` is (the index of its kind in `keys`, the words written in it). The
    picture grows with the rows, so each stays as readable as the first; a caller with many
    rows draws several pictures.

    Drawn for speed (the week of 60 locations is about half a second): fixed margins instead
    of matplotlib's layout engine (which draws everything once more to measure it), and the
    names, days and lines between the cells as plain text and two line collections, not as
    axis ticks (each tick is several objects)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 (slow import)
    from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415

    count = max(1, len(rows))
    height = HEAT_HEAD_INCHES + HEAT_ROW_INCHES * count
    figure = Figure(figsize=(HEAT_WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=HEAT_NAMES_INCHES / HEAT_WIDTH_INCHES,
        right=1 - HEAT_SIDE_INCHES / HEAT_WIDTH_INCHES,
        top=1 - HEAT_TOP_INCHES / height,
        bottom=HEAT_LEGEND_INCHES / height,
    )
    axes = figure.add_subplot()
    axes.set_axis_off()
    grid = [[kind for kind, _ in row] for row in cells] or [[0] * len(columns)]
    colours = ListedColormap([key.colour for key in keys])
    norm = BoundaryNorm([n - 0.5 for n in range(len(keys) + 1)], len(keys))
    axes.imshow(grid, cmap=colours, norm=norm, aspect="auto", interpolation="nearest")
    # White lines between the cells, so that a row of one colour still reads as days.
    axes.vlines([x - 0.5 for x in range(1, len(columns))], -0.5, count - 0.5, "white", lw=1.5)
    axes.hlines([y - 0.5 for y in range(1, count)], -0.5, len(columns) - 0.5, "white", lw=1.5)
    for x, column in enumerate(columns):
        axes.text(x, -0.6, _literal(column), ha="center", va="bottom", fontsize=8)
    for y, name in enumerate(rows):
        axes.text(-0.55, y, _literal(_short(name)), ha="right", va="center", fontsize=8)
        for x, (_, words) in enumerate(cells[y]):
            if words:
                axes.text(x, y, _literal(words), ha="center", va="center", fontsize=7)
    figure.suptitle(_literal(title), fontsize=10, y=1 - 0.12 / height, va="top")
    figure.legend(
        handles=[Patch(facecolor=key.colour, edgecolor="#999999", label=key.label) for key in keys],
        loc="lower center",
        ncol=len(keys),
        fontsize=8,
        frameon=False,
    )
    buffer = io.BytesIO()
    # Flat colours compress well even at the fastest level: a fifth of the time of the default
    # for a file a little larger (about 400 KB for 60 locations).
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": HEAT_PNG_COMPRESSION})
    return buffer.getvalue()


def _short(name: str) -> str:
    return name if len(name) <= HEAT_NAME_CHARS else name[: HEAT_NAME_CHARS - 1].rstrip() + "…"
