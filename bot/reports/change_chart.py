"""Charts across rounds: the heat map of change against the round before, and an
institution's area ratings over all its rounds. Matplotlib is imported lazily by the callers.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from bot.reports.change import compare
from bot.reports.chart import DPI, FONT, INK, MUTED, _png
from bot.reports.data import CheckReport
from bot.reports.labels import label
from dialogues.catalogue import Catalogue

# Change colours: blue-orange rather than green-red, so colour-blind readers tell them apart;
# every cell also carries a mark (▲ ▼ =), so no meaning rests on colour alone.
CHANGE_COLOUR = {"up": "#1e88e5", "down": "#f57c00", "same": "#e0e0e0", "none": "#ffffff"}
CHANGE_MARK = {"up": "^", "down": "v", "same": "_"}
ROW = 0.35
LEFT, TOP, BOTTOM = 1.4, 1.3, 1.0


def change_heatmap_png(
    reports: Sequence[CheckReport],
    before: Sequence[CheckReport],
    catalogue: Catalogue,
    language: str,
    previous: str,
) -> bytes:
    """Draw institutions × requirements coloured by the rating's change since the round before."""
    earlier = {r.institution.id: r for r in before}
    requirements = catalogue.requirements
    rows = max(len(reports), 1)
    width, height = 10.0, TOP + ROW * rows + BOTTOM
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    name = reports[0].cycle.name if reports else "–"
    title = label(language, "change_title", round=name, previous=previous)
    fig.text(0.03, 1 - 0.2 / height, title, fontsize=16, fontweight="bold", color=INK, va="top")
    ax = fig.add_axes(
        (LEFT / width, BOTTOM / height, 1 - (LEFT + 0.3) / width, ROW * rows / height)
    )
    for row, report in enumerate(reports):
        changes = {
            c.requirement_id: c
            for c in compare(report, earlier.get(report.institution.id), catalogue)
        }
        for col, requirement in enumerate(requirements):
            change = changes.get(requirement.id)
            kind = change.direction if change and change.direction in CHANGE_MARK else "none"
            ax.add_patch(
                Rectangle(
                    (col - 0.5, row - 0.5), 1, 1, facecolor=CHANGE_COLOUR[kind], edgecolor="white"
                )
            )
            if kind in CHANGE_MARK:
                ax.scatter([col], [row], marker=CHANGE_MARK[kind], s=60, c=INK, zorder=3)
    ax.set_xlim(-0.5, len(requirements) - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xticks(range(len(requirements)))
    ax.set_xticklabels([r.id for r in requirements], fontsize=11, family=FONT)
    ax.tick_params(axis="x", top=True, labeltop=True, length=0)
    ax.set_yticks(range(len(reports)))
    ax.set_yticklabels([r.institution.short for r in reports], fontsize=12, family=FONT)
    handles = [
        Patch(facecolor=CHANGE_COLOUR[k], edgecolor=MUTED, label=label(language, f"change_{k}"))
        for k in ("up", "down", "same", "none")
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=4,
        frameon=False,
        prop={"family": FONT, "size": 11},
    )
    return _png(fig)


def rounds_chart_png(
    series: Sequence[tuple[str, dict[str, float | None]]],
    catalogue: Catalogue,
    language: str,
    title: str,
) -> bytes:
    """Draw each area's mean rating across the rounds (oldest left) as lines."""
    fig = Figure(figsize=(10.0, 6.0), dpi=DPI, facecolor="white")
    ax = fig.add_axes((0.08, 0.25, 0.88, 0.62))
    fig.text(0.03, 0.96, title, fontsize=16, fontweight="bold", color=INK, va="top")
    names = [name for name, _ in series]
    for area in catalogue.areas:
        scores = [scores.get(area.id) for _, scores in series]
        xs = [i for i, s in enumerate(scores) if s is not None]
        ys = [s for s in scores if s is not None]
        ax.plot(xs, ys, marker="o", linewidth=2, label=area.title(language))
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=12, family=FONT)
    ax.set_ylim(-0.1, 3.1)
    ax.set_yticks([0, 1, 2, 3])
    ax.set_ylabel(label(language, "rounds_axis"), fontsize=11, family=FONT, color=MUTED)
    ax.grid(axis="y", color="#eeeeee")
    fig.legend(loc="lower center", ncol=3, frameon=False, prop={"family": FONT, "size": 10})
    return _png(fig)
