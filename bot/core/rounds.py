"""Rounds over years: pick a round to read, its own catalogue, and closing with a summary."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import lru_cache

import storage
from bot.config import Config
from bot.core.access import coordination_chat
from bot.core.admin import AdminError
from bot.core.image_words import enqueue_image
from bot.render.templates import Templates
from bot.reports.alt_text import heatmap_words
from bot.reports.data import (
    CheckReport,
    area_scores,
    load_check_report,
    load_round_reports,
    traffic_light,
)
from dialogues.catalogue import AnswerKind, Catalogue
from dialogues.model import PLANNED

COLOUR_MARK = {"green": "🟢", "yellow": "🟡", "orange": "🟠", "red": "🔴", "grey": "⚪"}
SUMMARY_ATTACHMENTS = ("round_heatmap", "round_export")
PHOTO_ROWS = 30  # institutions up to which a heat map stays readable as a photo


class UnknownRound(Exception):
    """No round has the name asked for; `names` lists the rounds there are."""

    def __init__(self, name: str, names: list[str]) -> None:
        listed = ", ".join(names) or "none yet"
        super().__init__(f"there is no round called {name!r}; rounds: {listed}")
        self.name = name
        self.names = names


@lru_cache(maxsize=16)
def _parsed(content: str) -> Catalogue:
    return Catalogue.model_validate_json(content)


def round_catalogue(cycle: storage.Cycle, loaded: Catalogue) -> Catalogue:
    """Return the catalogue the round was run with; the loaded one for rounds from before."""
    return _parsed(cycle.catalogue) if cycle.catalogue else loaded


def reworded(previous: Catalogue, current: Catalogue) -> frozenset[str]:
    """Return the requirements of current whose wording differs from the previous catalogue."""
    before = {r.id: r for r in previous.requirements}
    return frozenset(
        r.id
        for r in current.requirements
        if r.id in before and (before[r.id].title, before[r.id].text) != (r.title, r.text)
    )


def dropped(previous: Catalogue, current: Catalogue) -> tuple[str, ...]:
    """Return the requirements of the previous catalogue that the current one no longer has."""
    now = {r.id for r in current.requirements}
    return tuple(r.id for r in previous.requirements if r.id not in now)


async def pick_round(db: storage.Database, name: str | None) -> storage.Cycle | None:
    """Return the named round, else the open one, else the latest closed one; None if none."""
    if name:
        cycle = await storage.cycle_by_name(db, name.strip())
        if cycle is None:
            raise UnknownRound(name.strip(), [c.name for c in await storage.list_cycles(db)])
        return cycle
    cycle = await storage.current_cycle(db)
    if cycle is not None:
        return cycle
    cycles = await storage.list_cycles(db)
    closed = [c for c in cycles if c.closed_at is not None]
    return max(closed, key=lambda c: (c.closed_at, c.id)) if closed else None


async def previous_round(db: storage.Database, cycle: storage.Cycle) -> storage.Cycle | None:
    """Return the round before this one, or None (first round, or deleted)."""
    return await storage.cycle_by_id(db, cycle.previous_id) if cycle.previous_id else None


async def previous_report(db: storage.Database, report: CheckReport) -> CheckReport | None:
    """Return the institution's check in the round before, or None (first round, deleted)."""
    if report.cycle.previous_id is None:
        return None
    try:
        return await load_check_report(db, report.institution.id, report.cycle.previous_id, "none")
    except storage.NotFoundError:  # the institution joined later, or the round was deleted
        return None


async def with_previous(
    db: storage.Database, cycle: storage.Cycle, reports: list[CheckReport]
) -> list[CheckReport]:
    """Attach each institution's check in the round before, for exports that show both."""
    if cycle.previous_id is None:
        return reports
    before = await load_round_reports(db, cycle.previous_id, "none")
    by_institution = {r.institution.id: r for r in before}
    return [replace(r, previous=by_institution.get(r.institution.id)) for r in reports]


async def with_history(db: storage.Database, report: CheckReport, loaded: Catalogue) -> CheckReport:
    """Attach the round before and the area ratings of every earlier round, for the report."""
    history: list[tuple[str, dict[str, float | None]]] = []
    for cycle in await storage.list_cycles(db):
        if (cycle.opened_at, cycle.id) >= (report.cycle.opened_at, report.cycle.id):
            break
        try:
            earlier = await load_check_report(db, report.institution.id, cycle.id, "none")
        except storage.NotFoundError:
            continue  # the institution joined later
        history.append((cycle.name, area_scores(earlier, round_catalogue(cycle, loaded))))
    previous = await previous_report(db, report)
    return replace(report, previous=previous, history=tuple(history))


async def round_to_close(db: storage.Database, name: str) -> tuple[storage.Cycle, list[str]]:
    """Return the open round of this name and the institutions that have not submitted."""
    cycle = await storage.cycle_by_name(db, name.strip())
    if cycle is None:
        raise UnknownRound(name.strip(), [c.name for c in await storage.list_cycles(db)])
    if cycle.closed_at is not None:
        raise AdminError(f"round {cycle.name!r} is closed already", "round_closed_already")
    reports = await load_round_reports(db, cycle.id, "none")
    return cycle, [r.institution.short for r in reports if r.check.status != "submitted"]


async def close_round(
    db: storage.Database,
    config: Config,
    templates: Templates,
    catalogue: Catalogue,
    name: str,
    actor: storage.Actor,
    now: datetime,
) -> tuple[storage.Cycle, bool]:
    """Close the round and queue its summary for the group, in one transaction.

    Return the closed round and whether a summary was queued (not without a group)."""
    async with db.transaction():
        cycle, _ = await round_to_close(db, name)  # asked again under the write lock
        closed = await storage.close_cycle(db, cycle.id, now)
        await storage.record_audit(db, actor, "cycle_close", now, cycle_id=cycle.id)
        queued = await _queue_summary(
            db, config, templates, round_catalogue(closed, catalogue), closed, now
        )
    return closed, queued


async def _queue_summary(
    db: storage.Database,
    config: Config,
    templates: Templates,
    catalogue: Catalogue,
    cycle: storage.Cycle,
    now: datetime,
) -> bool:
    """Queue the summary text, heat map and export; the keys make each go out once."""
    chat_id = await coordination_chat(db, config)
    if chat_id is None:
        return False  # no group to tell: the results stay readable with /export, /uebersicht
    reports = await load_round_reports(db, cycle.id, "none")
    text = summary_text(reports, catalogue, templates, config.checks.language, cycle)
    prefix = f"round:{cycle.id}"
    await storage.enqueue(db, f"{prefix}:summary", chat_id, "message", {"text": text}, now)
    # The heat map goes as a photo up to PHOTO_ROWS institutions, else as a file.
    payload = {"cycle_id": cycle.id, "rows": len(reports)}
    rows = heatmap_words(reports, catalogue, config.checks.language)
    words = templates.render(config.checks.language, "heatmap_words", cycle=cycle, rows=rows)
    key = f"{prefix}:round_heatmap"
    await enqueue_image(db, key, chat_id, "round_heatmap", payload, words, now)
    await storage.enqueue(db, f"{prefix}:round_export", chat_id, "round_export", payload, now)
    return True


def summary_text(
    reports: list[CheckReport],
    catalogue: Catalogue,
    templates: Templates,
    language: str,
    cycle: storage.Cycle,
) -> str:
    """Render the round's summary: submitted x of y, one line per institution."""
    lines = [_summary_line(report, catalogue) for report in reports]
    return templates.render(
        language,
        "round_summary",
        cycle=cycle,
        submitted=sum(r.check.status == "submitted" for r in reports),
        count=len(reports),
        lines=lines,
    )


def _summary_line(report: CheckReport, catalogue: Catalogue) -> dict[str, object]:
    scores = area_scores(report, catalogue)
    lights = "".join(COLOUR_MARK[traffic_light(scores[area.id])] for area in catalogue.areas)
    measures = [q.key for q in catalogue.questions if q.kind is AnswerKind.MEASURES]
    planned = sum(
        1
        for (requirement_id, key), answer in report.answers.items()
        if key in measures and answer.value == PLANNED
    )
    return {
        "short": report.institution.short,
        "name": report.institution.name,
        "lights": lights,
        "planned": planned,
        "submitted": report.check.status == "submitted",
    }
