"""The data behind every report: one institution's check in a round, read from the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from statistics import fmean
from typing import Literal

import storage
from bot.core.disagreements import JUDGEMENTS, Disagreement, find
from bot.core.plan import PlanRow
from bot.core.plan import rows as plan_rows
from dialogues.catalogue import AnswerKind, Catalogue, ScaleStep
from dialogues.model import Key
from storage import measures as measure_store
from storage.sql import fetch_all

# A mean is coloured like the nearest step of the four-step scale (3 full, 2 mostly, 1 partly,
# 0 not met): each threshold lies halfway between two neighbouring scores.
GREEN_FROM = 2.5
YELLOW_FROM = 1.5
ORANGE_FROM = 0.5
NO_SCORE_COLOUR = "grey"  # nothing rated, or only "cannot judge"

# Who coordinators see behind an answer ([privacy] authors): first names, "Mitglied 1, 2, …"
# numbered per check, or nobody (the institution only). Colleagues are not concerned.
Authors = Literal["names", "members", "none"]


@dataclass(frozen=True)
class CheckReport:
    """One institution's check in one round, with its current answers."""

    institution: storage.Institution
    cycle: storage.Cycle
    check: storage.Check
    answers: dict[Key, storage.StoredAnswer]
    submitted_by: str | None  # submitter's first name; None if not submitted or a former member
    authors: Authors = "names"
    # Member id -> number within this check ("Mitglied 2"), filled when authors is "members".
    numbers: Mapping[int, int] = field(default_factory=dict)
    submitter_id: int | None = None
    # Where members changed each other's judgement during the round (issue 19).
    disagreements: tuple[Disagreement, ...] = ()
    # The institution's check in the round before, where a comparison needs it (exports).
    previous: CheckReport | None = None
    # The institution's earlier rounds, oldest first: (round name, mean score per area id).
    history: tuple[tuple[str, dict[str, float | None]], ...] = ()
    plan: tuple[PlanRow, ...] = ()  # the check's measures (issue 16), owners as authors allows

    def author_number(self, member_id: int | None) -> int | None:
        """Return the number that stands for a member in this check, or None."""
        return self.numbers.get(member_id) if member_id is not None else None


async def load_check_report(
    db: storage.Database, institution_id: int, cycle_id: int, authors: Authors = "names"
) -> CheckReport:
    """Load one institution's check in a round, or raise NotFoundError."""
    institution = await storage.institution_by_id(db, institution_id)
    if institution is None:
        raise storage.NotFoundError(f"there is no institution with id {institution_id}")
    cycle = await _cycle(db, cycle_id)
    sql = "SELECT id FROM checks WHERE institution_id = ? AND cycle_id = ?"
    rows = await fetch_all(db.conn, sql, (institution_id, cycle_id))
    if not rows:
        # Reading must not create the check (storage.check_for would): it is a report.
        raise storage.NotFoundError(
            f"{institution.short} has no check in round {cycle.name!r}: it was added later"
        )
    return await _report(db, institution, cycle, rows[0]["id"], authors)


async def load_round_reports(
    db: storage.Database, cycle_id: int, authors: Authors = "names"
) -> list[CheckReport]:
    """Load the checks of every institution in a round, ordered by short name."""
    cycle = await _cycle(db, cycle_id)
    sql = "SELECT id, institution_id FROM checks WHERE cycle_id = ?"
    rows = await fetch_all(db.conn, sql, (cycle_id,))
    check_ids = {row["institution_id"]: row["id"] for row in rows}
    # Institutions added after the round was over have no check in it and are left out.
    institutions = [i for i in await storage.list_institutions(db) if i.id in check_ids]
    return [await _report(db, i, cycle, check_ids[i.id], authors) for i in institutions]


async def _cycle(db: storage.Database, cycle_id: int) -> storage.Cycle:
    """Return the cycle with this id, or raise NotFoundError."""
    cycle = await storage.cycle_by_id(db, cycle_id)
    if cycle is None:
        raise storage.NotFoundError(f"there is no round with id {cycle_id}")
    return cycle


async def _report(
    db: storage.Database,
    institution: storage.Institution,
    cycle: storage.Cycle,
    check_id: int,
    authors: Authors,
) -> CheckReport:
    """Read a check's current answers and its submitter, named as `authors` allows."""
    check = await storage.check_by_id(db, check_id)
    if check is None:
        raise storage.NotFoundError(f"there is no check with id {check_id}")
    submitter = None
    if check.submitted_by is not None:
        member = await storage.member_by_id(db, check.submitted_by)
        submitter = member.first_name if member else None
    answers = await storage.current_answers(db, check.id)
    revisions = await storage.check_revisions(db, check.id, JUDGEMENTS)
    report = CheckReport(
        institution,
        cycle,
        check,
        answers,
        submitter,
        submitter_id=check.submitted_by,
        disagreements=tuple(find(revisions)),
        plan=await _plan(db, check, authors),
    )
    return report if authors == "names" else await _without_names(db, report, authors)


async def _plan(
    db: storage.Database, check: storage.Check, authors: Authors
) -> tuple[PlanRow, ...]:
    """Return the check's measures; owners are named only where authors is "names"."""
    measures = await measure_store.list_measures(db, check.institution_id, check.cycle_id)
    today = datetime.now(UTC).date()
    return tuple(await plan_rows(db, measures, today, authors))


async def _without_names(
    db: storage.Database, report: CheckReport, authors: Authors
) -> CheckReport:
    """Drop the first names; with "members", number everyone who ever answered in the check."""
    answers = {key: replace(a, author_name=None) for key, a in report.answers.items()}
    nameless = tuple(
        replace(d, reasons=tuple(replace(a, author_name=None) for a in d.reasons))
        for d in report.disagreements
    )
    numbers: dict[int, int] = {}
    if authors == "members":
        # Numbered by member id over every revision, so a number stays with its person even
        # when a colleague later replaces all of that person's answers.
        sql = (
            "SELECT DISTINCT author_id FROM answers WHERE check_id = ? "
            "AND author_id IS NOT NULL ORDER BY author_id"
        )
        ids = [row["author_id"] for row in await fetch_all(db.conn, sql, (report.check.id,))]
        if report.submitter_id is not None and report.submitter_id not in ids:
            ids = sorted([*ids, report.submitter_id])
        numbers = {member_id: n for n, member_id in enumerate(ids, start=1)}
    return replace(
        report,
        answers=answers,
        submitted_by=None,
        authors=authors,
        numbers=numbers,
        disagreements=nameless,
    )


async def round_progress(db: storage.Database, cycle_id: int) -> tuple[int, int]:
    """Return how many checks of a round are submitted, and how many there are."""
    sql = (
        "SELECT count(*) FILTER (WHERE status = 'submitted') AS submitted, count(*) AS total "
        "FROM checks WHERE cycle_id = ?"
    )
    row = (await fetch_all(db.conn, sql, (cycle_id,)))[0]
    return int(row["submitted"]), int(row["total"])


def rating_key(catalogue: Catalogue) -> str | None:
    """Return the key of the question answered on the rating scale, or None if there is none."""
    return next((q.key for q in catalogue.questions if q.kind is AnswerKind.RATING), None)


def rating_step(report: CheckReport, catalogue: Catalogue, requirement_id: str) -> ScaleStep | None:
    """Return the scale step a requirement was rated with, or None while it is open."""
    key = rating_key(catalogue)
    answer = report.answers.get((requirement_id, key)) if key else None
    return catalogue.step(answer.value) if answer else None


def requirement_score(report: CheckReport, catalogue: Catalogue, requirement_id: str) -> int | None:
    """Return a requirement's rating score, or None if it is open or cannot be judged."""
    step = rating_step(report, catalogue, requirement_id)
    return step.score if step else None


def area_scores(report: CheckReport, catalogue: Catalogue) -> dict[str, float | None]:
    """Return each area's mean rating score, None where nothing in it was scored."""
    means: dict[str, float | None] = {}
    for area in catalogue.areas:
        scores = [requirement_score(report, catalogue, r.id) for r in area.requirements]
        scored = [s for s in scores if s is not None]
        means[area.id] = fmean(scored) if scored else None
    return means


def area_missing(report: CheckReport, catalogue: Catalogue) -> dict[str, int]:
    """Return per area how many requirements have no score (open or "cannot judge")."""
    return {
        area.id: sum(requirement_score(report, catalogue, r.id) is None for r in area.requirements)
        for area in catalogue.areas
    }


def traffic_light(score: float | None) -> str:
    """Return the traffic-light colour name of a mean score."""
    if score is None:
        return NO_SCORE_COLOUR
    if score >= GREEN_FROM:
        return "green"
    if score >= YELLOW_FROM:
        return "yellow"
    if score >= ORANGE_FROM:
        return "orange"
    return "red"
