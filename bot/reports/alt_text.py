"""The charts said in words: what a caption or a follow-up text gives a screen reader user."""

from __future__ import annotations

from statistics import fmean

from bot.reports.change import compare
from bot.reports.data import CheckReport, area_scores, requirement_score, traffic_light
from bot.reports.labels import format_score
from dialogues.catalogue import Catalogue

LIGHT_MARK = {"green": "🟢", "yellow": "🟡", "orange": "🟠", "red": "🔴", "grey": "⚪"}
BELOW = 2  # a requirement rated under "mostly met" is named, as the chart highlights it
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption
DIRECTIONS = ("up", "down", "same")  # the changes the change heat map marks


def profile_words(report: CheckReport, catalogue: Catalogue, language: str) -> list[dict[str, str]]:
    """Return per area its title, mean, light (mark and colour) and the requirements below 2."""
    scores = area_scores(report, catalogue)
    return [
        {
            "title": area.title(language),
            "score": format_score(scores[area.id], language),
            "mark": LIGHT_MARK[traffic_light(scores[area.id])],
            "light": traffic_light(scores[area.id]),
            "below": ", ".join(_below(report, catalogue, [r.id for r in area.requirements])),
        }
        for area in catalogue.areas
    ]


def heatmap_words(
    reports: list[CheckReport], catalogue: Catalogue, language: str
) -> list[dict[str, str]]:
    """Return per institution its mean over all requirements, light and requirements below 2."""
    ids = [r.id for r in catalogue.requirements]
    rows = []
    for report in reports:
        scored = [s for i in ids if (s := requirement_score(report, catalogue, i)) is not None]
        mean = fmean(scored) if scored else None
        rows.append(
            {
                "short": report.institution.short,
                "name": report.institution.name,
                "score": format_score(mean, language),
                "mark": LIGHT_MARK[traffic_light(mean)],
                "light": traffic_light(mean),
                "below": ", ".join(_below(report, catalogue, ids)),
            }
        )
    return rows


def _below(report: CheckReport, catalogue: Catalogue, ids: list[str]) -> list[str]:
    return [
        i for i in ids if (s := requirement_score(report, catalogue, i)) is not None and s < BELOW
    ]


def change_words(
    reports: list[CheckReport], before: list[CheckReport], catalogue: Catalogue
) -> list[dict[str, str]]:
    """Return per institution the requirements rated higher, lower and the same as the round
    before: what the change heat map shows by colour and mark."""
    earlier = {r.institution.id: r for r in before}
    rows = []
    for report in reports:
        changes = compare(report, earlier.get(report.institution.id), catalogue)
        by = {d: [c.requirement_id for c in changes if c.direction == d] for d in DIRECTIONS}
        rows.append(
            {
                "short": report.institution.short,
                "up": ", ".join(by["up"]),
                "down": ", ".join(by["down"]),
                "same": str(len(by["same"])),
                "compared": "yes" if changes else "",  # no check in the round before
            }
        )
    return rows
