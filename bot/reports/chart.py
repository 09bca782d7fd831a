"""Charts as PNG: one institution's profile across the areas, and a round's heat map.

Matplotlib is imported here only, because it is slow to import; the bot imports this module
when a chart is first asked for. Figures are built with `matplotlib.figure.Figure` and never
through pyplot, so there is no global figure registry to close and no GUI backend: safe to run
in worker threads, which callers should use: drawing takes a few tenths of a second, a heat
map of a hundred institutions about a second.
"""

from __future__ import annotations

import io
import textwrap
from collections import defaultdict
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from bot.render.templates import round_name
from bot.reports.data import (
    CheckReport,
    area_missing,
    area_scores,
    rating_step,
    traffic_light,
)
from bot.reports.labels import format_score, label
from bot.reports.style import OPEN_EDGE, OPEN_HEX, TEXT_ON, hex_colour
from dialogues.catalogue import Catalogue

DPI = 100
PROFILE_SIZE = (10.0, 7.0)  # inches: 1000 × 700 px, wide enough to stay sharp on a phone
TITLE_CHARS, LONG_TITLE_CHARS = 36, 50  # what fits on one line at the big / small size
MIN_BAR = 0.06  # in scale points
TRACK = "#eeeeee"
INK = "#212121"
MUTED = "#616161"
FONT = "DejaVu Sans"  # ships with matplotlib, so umlauts and "✓" render everywhere

# Heat map geometry in inches, so that rows keep their size however many institutions there are.
HEAT_WIDTH = 10.0
HEAT_LEFT, HEAT_RIGHT = 1.5, 0.3
HEAT_TOP, HEAT_BOTTOM = 2.0, 1.3
HEAT_ROW = 0.3
MARK_SIZE = 90  # points² of the score marks in the heat map's cells


def profile_chart_png(report: CheckReport, catalogue: Catalogue, language: str) -> bytes:
    """Draw one institution's mean score per area as traffic-light bars and return a PNG."""
    fig = Figure(figsize=PROFILE_SIZE, dpi=DPI, facecolor="white")
    title = label(
        language,
        "profile_title",
        institution=report.institution.name,
        short=report.institution.short,
    )
    # A long name gets two smaller lines, so the bars keep their room.
    long = len(title) > TITLE_CHARS
    title_lines = _wrap(title, LONG_TITLE_CHARS, 2) if long else [title]
    fig.text(
        0.04,
        0.955,
        "\n".join(title_lines),
        fontsize=21 if long else 28,
        fontweight="bold",
        color=INK,
        va="top",
        family=FONT,
    )
    subtitle_y = 0.955 - (0.05 if long else 0.066) * len(title_lines) - 0.012
    fig.text(
        0.04,
        subtitle_y,
        label(language, "profile_subtitle", round=round_name(report.cycle.name)),
        fontsize=17,
        color=MUTED,
        va="top",
        family=FONT,
    )
    ax = fig.add_axes((0.04, 0.13, 0.92, subtitle_y - 0.2))
    _draw_profile(ax, report, catalogue, language)
    return _png(fig)


def _wrap(text: str, width: int, lines: int) -> list[str]:
    """Wrap text into at most `lines` lines, ending with "…" where it had to be cut."""
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) <= lines:
        return wrapped
    rest = " ".join(wrapped[lines - 1 :])
    return [*wrapped[: lines - 1], textwrap.shorten(rest, width, placeholder=" …")]


def _draw_profile(ax: Axes, report: CheckReport, catalogue: Catalogue, language: str) -> None:
    """Draw one row per area: its title above a bar of its mean score on the scale's track."""
    scores = area_scores(report, catalogue)
    missing = area_missing(report, catalogue)
    top = _top_score(catalogue)
    count = len(catalogue.areas)
    for index, area in enumerate(catalogue.areas):
        y = count - 1 - index  # the first area at the top
        score = scores[area.id]
        ax.barh(y, top, height=0.42, color=TRACK, zorder=1)
        ax.text(0, y + 0.27, area.title(language), fontsize=22, color=INK, va="bottom", family=FONT)
        if missing[area.id]:
            note = label(language, "missing_note", count=missing[area.id])
            ax.text(
                top, y + 0.27, note, fontsize=15, color=MUTED, va="bottom", ha="right", family=FONT
            )
        if score is None:
            ax.text(
                0.06,
                y,
                label(language, "no_score"),
                fontsize=18,
                color=MUTED,
                style="italic",
                va="center",
                family=FONT,
            )
            continue
        colour = traffic_light(score)
        # A stub keeps the red of a 0.0 visible.
        width = max(score, MIN_BAR)
        ax.barh(y, width, height=0.42, color=hex_colour(colour), zorder=2)
        # Inside the bar's end where it fits, otherwise just right of it.
        inside = score >= 0.5
        ax.text(
            width - 0.05 if inside else width + 0.05,
            y,
            format_score(score, language),
            fontsize=22,
            fontweight="bold",
            va="center",
            ha="right" if inside else "left",
            color=TEXT_ON[colour] if inside else INK,
            zorder=3,
            family=FONT,
        )
    _scale_axis(ax, catalogue, language, top, count)


def _scale_axis(ax: Axes, catalogue: Catalogue, language: str, top: int, count: int) -> None:
    """Label the x axis with the scale's steps and hide everything else."""
    steps = sorted((s for s in catalogue.scale if s.score is not None), key=lambda s: s.score or 0)
    ax.set_xlim(0, top)
    ax.set_ylim(-0.45, count - 0.2)
    ax.set_xticks([s.score or 0 for s in steps])
    ax.set_xticklabels(
        [textwrap.fill(s.label(language), 12) for s in steps], fontsize=16, color=MUTED, family=FONT
    )
    # The outer labels align with the track's ends so that they are not cut off.
    for tick, step in zip(ax.get_xticklabels(), steps):
        edge: Literal["left", "center", "right"] = (
            "left" if step.score == 0 else "right" if step.score == top else "center"
        )
        tick.set_horizontalalignment(edge)
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0, pad=8)
    ax.grid(axis="x", color="white", linewidth=2)
    # "line" puts the grid at zorder 1.5: over the grey track (1), under the bars (2), so the
    # scale's steps show where there is no bar.
    ax.set_axisbelow("line")
    for spine in ax.spines.values():
        spine.set_visible(False)


def _top_score(catalogue: Catalogue) -> int:
    """Return the highest score on the scale (3 for the default catalogue)."""
    return max((s.score for s in catalogue.scale if s.score is not None), default=3)


def heatmap_png(reports: list[CheckReport], catalogue: Catalogue, language: str) -> bytes:
    """Draw institutions × requirements coloured by their fulfilment rating and return a PNG."""
    rows = max(len(reports), 1)
    height = HEAT_TOP + HEAT_ROW * rows + HEAT_BOTTOM
    fig = Figure(figsize=(HEAT_WIDTH, height), dpi=DPI, facecolor="white")
    _heat_titles(fig, reports, catalogue, language, height)
    ax = fig.add_axes(
        (
            HEAT_LEFT / HEAT_WIDTH,
            HEAT_BOTTOM / height,
            1 - (HEAT_LEFT + HEAT_RIGHT) / HEAT_WIDTH,
            HEAT_ROW * rows / height,
        )
    )
    if not reports:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            label(language, "heatmap_empty"),
            fontsize=14,
            ha="center",
            va="center",
            color=MUTED,
            family=FONT,
        )
        return _png(fig)
    _heat_cells(ax, reports, catalogue)
    _heat_axes(ax, reports, catalogue, language)
    _heat_legend(fig, catalogue, language, height)
    return _png(fig)


def _heat_titles(
    fig: Figure, reports: list[CheckReport], catalogue: Catalogue, language: str, height: float
) -> None:
    """Write the title (catalogue and round) and the subtitle (what the cells show)."""
    name = round_name(reports[0].cycle.name) if reports else "–"
    title = label(language, "heatmap_title", catalogue=catalogue.title(language), round=name)
    subtitle = label(language, "heatmap_subtitle", count=len(reports))
    fig.text(
        0.03,
        1 - 0.2 / height,
        title,
        fontsize=20,
        fontweight="bold",
        color=INK,
        va="top",
        family=FONT,
    )
    fig.text(0.03, 1 - 0.62 / height, subtitle, fontsize=13, color=MUTED, va="top", family=FONT)


def _heat_cells(ax: Axes, reports: list[CheckReport], catalogue: Catalogue) -> None:
    """Colour each cell by its rating, hatch open ones and print the score for colour-blind eyes."""
    requirements = catalogue.requirements
    cells: list[Rectangle] = []
    colours: list[tuple[float, float, float]] = []
    open_cells: list[Rectangle] = []
    marks: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for row, report in enumerate(reports):
        for col, requirement in enumerate(requirements):
            cells.append(Rectangle((col - 0.5, row - 0.5), 1, 1))
            step = rating_step(report, catalogue, requirement.id)
            if step is None:
                colours.append(to_rgb(OPEN_HEX))
                open_cells.append(Rectangle((col - 0.5, row - 0.5), 1, 1))
                continue
            colours.append(to_rgb(hex_colour(step.colour)))
            mark = "?" if step.score is None else str(step.score)
            marks[mark, TEXT_ON.get(step.colour, INK)].append((col, row))
    # Rectangles, not imshow: imshow resamples the grid to the image's full size in floats,
    # some 200 MB for a hundred institutions; the PNG comes out the same to the pixel.
    ax.add_collection(PatchCollection(cells, facecolors=colours, linewidths=0))
    ax.set_xlim(-0.5, len(requirements) - 0.5)
    ax.set_ylim(len(reports) - 0.5, -0.5)  # the first institution on top
    ax.add_collection(
        PatchCollection(open_cells, facecolor="none", edgecolor=OPEN_EDGE, hatch="///", linewidth=0)
    )
    # One marker collection per mark instead of a text per cell: a hundred institutions
    # make 1500 cells, and drawing that many texts takes seconds.
    for (mark, colour), places in marks.items():
        xs, ys = zip(*places, strict=True)
        ax.scatter(xs, ys, marker=f"${mark}$", s=MARK_SIZE, c=colour, linewidths=0, zorder=3)


def _heat_axes(ax: Axes, reports: list[CheckReport], catalogue: Catalogue, language: str) -> None:
    """Label rows with institutions and columns with requirement ids under their area titles."""
    requirements = catalogue.requirements
    ax.set_xticks(range(len(requirements)))
    ax.set_xticklabels([r.id for r in requirements], fontsize=12, family=FONT)
    ax.tick_params(axis="x", top=True, labeltop=True, bottom=True, labelbottom=True, length=0)
    ax.set_yticks(range(len(reports)))
    ax.set_yticklabels([_row_label(r) for r in reports], fontsize=13, family=FONT)
    ax.tick_params(axis="y", length=0)
    # White lines between cells, dark lines between areas; line collections, not minor ticks,
    # because a hundred rows of ticks are slow to draw.
    ax.vlines(
        [x - 0.5 for x in range(1, len(requirements))],
        -0.5,
        len(reports) - 0.5,
        color="white",
        linewidth=1.5,
    )
    ax.hlines(
        [y - 0.5 for y in range(1, len(reports))],
        -0.5,
        len(requirements) - 0.5,
        color="white",
        linewidth=1.5,
    )
    start = 0
    for area in catalogue.areas:
        end = start + len(area.requirements)
        if end < len(requirements):
            ax.axvline(end - 0.5, color=INK, linewidth=2.5)
        ax.annotate(
            textwrap.fill(area.title(language), 16),
            xy=((start + end - 1) / 2, 1),
            xycoords=("data", "axes fraction"),
            xytext=(0, 22),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=12,
            fontweight="bold",
            color=INK,
            family=FONT,
        )
        start = end
    for spine in ax.spines.values():
        spine.set_color(INK)


def _row_label(report: CheckReport) -> str:
    """Return an institution's row label: its short name, with ✓ once submitted."""
    done = report.check.status == "submitted"
    return f"{report.institution.short} ✓" if done else report.institution.short


def _heat_legend(fig: Figure, catalogue: Catalogue, language: str, height: float) -> None:
    """Explain the colours and marks under the grid."""
    handles = [
        Patch(
            facecolor=hex_colour(s.colour),
            edgecolor="none",
            label=f"{'?' if s.score is None else s.score} = {s.label(language)}",
        )
        for s in catalogue.scale
    ]
    handles.append(
        Patch(facecolor=OPEN_HEX, edgecolor=OPEN_EDGE, hatch="///", label=label(language, "open"))
    )
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=3,
        frameon=False,
        fontsize=12,
        bbox_to_anchor=(0.5, 0.1 / height),
        prop={"family": FONT, "size": 13},
        handlelength=1.6,
        handleheight=1.2,
        columnspacing=1.5,
    )


def _png(fig: Figure) -> bytes:
    """Return the figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
