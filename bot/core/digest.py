"""The digest for the coordination group, queued in the outbox in the submission's transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

import storage
from bot.config import Config
from bot.core.access import coordination_chat
from bot.core.image_words import enqueue_image
from bot.core.plan import PlanRow, carried_out_before
from bot.core.plan import rows as plan_rows
from bot.core.rounds import previous_report, round_catalogue
from bot.render.presenter import COLOUR_MARK, Presenter
from bot.render.views import split_blocks
from bot.reports.alt_text import profile_words
from bot.reports.change import RequirementChange, compare
from bot.reports.data import (
    CheckReport,
    area_scores,
    load_check_report,
    round_progress,
    traffic_light,
)
from bot.reports.disagreements import items as differing_views
from bot.reports.labels import format_score, submitter_label
from dialogues.model import YES, Answer, Key, Position
from storage import measures as measure_store

log = logging.getLogger(__name__)
MEASURE_LIMIT = 280  # characters of one measure in the digest; the report has them in full
POTENTIAL_LIMIT = 160  # characters of one improvement potential; the report has it in full
ATTACHMENTS = ("report", "export")  # after the chart, which carries its words


def shorten(text: str, limit: int) -> str:
    """Cut a text at a word boundary so that it fits `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def snapshot(answers: dict[Key, Answer]) -> storage.Snapshot:
    return {f"{r}.{q}": [a.value, a.text] for (r, q), a in sorted(answers.items())}


@dataclass(frozen=True)
class Change:
    position: Position
    before: Answer | None
    after: Answer | None


class Digests:
    """Write what the coordination group must learn about a submission into the outbox."""

    def __init__(self, config: Config, presenter: Presenter) -> None:
        self.config = config
        self.presenter = presenter
        self.catalogue = presenter.catalogue
        self.language = config.checks.language

    async def submitted(
        self, db: storage.Database, check: storage.Check, member: storage.Member, now: datetime
    ) -> None:
        """Record the submission and queue its digest; call inside the submission's transaction."""
        report = await load_check_report(
            db, check.institution_id, check.cycle_id, self.config.privacy.authors
        )
        answers = {key: Answer(a.value, a.text) for key, a in report.answers.items()}
        previous = await storage.last_submission(db, report.check.id)
        submission = await storage.record_submission(
            db, report.check.id, member.id, snapshot(answers), now
        )
        chat_id = await coordination_chat(db, self.config)
        if chat_id is None:
            log.warning(
                "no coordination chat configured: the digest of check %s is not sent",
                report.check.id,
            )
            return
        changes = self.changes(previous.answers, answers) if previous else None
        # The first submission of a round says what changed since the round before.
        since = await self._since_last_round(db, report) if previous is None else None
        # One digest per submission: the key names the submission, whatever the clock says.
        prefix = f"digest:{submission.id}"
        progress = await round_progress(db, report.cycle.id)
        plan = await self._plan(db, report, now)
        texts = self.texts(report, member, answers, now, changes, progress, since, bool(plan[0]))
        texts = self._with_plan(texts, *plan)
        for number, text in enumerate(texts):
            key = f"{prefix}:text{number}"
            await storage.enqueue(db, key, chat_id, "message", {"text": text}, now)
        ids = {"institution_id": report.institution.id, "cycle_id": report.cycle.id}
        words = self.chart_words(report)
        await enqueue_image(db, f"{prefix}:chart", chat_id, "chart", ids, words, now)
        for kind in ATTACHMENTS:
            await storage.enqueue(db, f"{prefix}:{kind}", chat_id, kind, ids, now)

    def chart_words(self, report: CheckReport) -> str:
        """Say the profile chart in words: each area's mean, light and the weak requirements."""
        catalogue = round_catalogue(report.cycle, self.catalogue)
        areas = profile_words(report, catalogue, self.language)
        return self.presenter.templates.render(
            self.language, "chart_words", institution=report.institution, areas=areas
        )

    def texts(
        self,
        report: CheckReport,
        member: storage.Member,
        answers: dict[Key, Answer],
        now: datetime,
        changes: list[Change] | None,
        progress: tuple[int, int] | None = None,
        since: str | None = None,
        plan_listed: bool = False,  # the measures follow as the plan, with owner and month
    ) -> list[str]:
        """Render the digest as messages within Telegram's limit, split between blocks."""
        render = self.presenter.templates.render
        head = render(
            self.language,
            "digest",
            institution=report.institution,
            cycle=report.cycle,
            at=now,
            update=changes is not None,
            **self._submitter(report, member),
            areas=self._areas(report, answers),
            improvable=self._improvable(answers),
            total=len(self.catalogue.requirements),
            progress=progress,
        )
        blocks: list[str] = ["\n" + since] if since else []
        blocks += self._potentials(answers)
        if changes is not None:
            # A blank line before each section; split_blocks joins blocks by single newlines.
            blocks.append(
                "\n"
                + render(self.language, "digest_heading", section="changes", count=len(changes))
            )
            blocks += [render(self.language, "digest_change", **self._change(c)) for c in changes]
        blocks += self._disagreements(report)
        measures = [] if plan_listed else self._measures(answers)
        if measures:
            blocks.append(
                "\n"
                + render(self.language, "digest_heading", section="measures", count=len(measures))
            )
            blocks += [render(self.language, "digest_measure", **m) for m in measures]
        return split_blocks(head, blocks, separator="\n")

    def _disagreements(self, report: CheckReport) -> list[str]:
        """List where members saw a requirement differently, with their reasons (issue 19)."""
        found = differing_views(report, self.catalogue, self.language)
        if not found:
            return []
        render = self.presenter.templates.render
        heading = render(self.language, "digest_heading", section="disagreements", count=len(found))
        return ["\n" + heading] + [render(self.language, "disagreement", **d) for d in found]

    async def _since_last_round(self, db: storage.Database, report: CheckReport) -> str | None:
        """Render what changed against the institution's check in the round before."""
        before = await previous_report(db, report)
        if before is None:
            return None
        old = round_catalogue(before.cycle, self.catalogue)
        changes = compare(report, before, self.catalogue, old)
        carried = await storage.carried_answers(db, report.check.id)
        return self.presenter.templates.render(
            self.language,
            "digest_round",
            previous=before.cycle.name,
            lines=[self._round_change(c) for c in changes if c.changed],
            carried=len(carried) == len(report.answers) > 0,
            measures_carried=[c.requirement_id for c in changes if c.measures == "carried"],
        ).strip()

    def _round_change(self, change: RequirementChange) -> dict[str, object]:
        def label(value: str | None) -> str:
            step = self.catalogue.step(value) if value else None
            return f"{COLOUR_MARK[step.colour]} {step.label(self.language)}" if step else "–"

        return {
            "requirement_id": change.requirement_id,
            "direction": change.direction,
            "before": label(change.before),
            "after": label(change.after),
            "potential": change.potential,
            "measures": change.measures,
        }

    async def _plan(
        self, db: storage.Database, report: CheckReport, now: datetime
    ) -> tuple[list[PlanRow], tuple[int, int] | None]:
        """Return the check's measures as coordinators may see them, and last round's count."""
        today = now.astimezone(self.config.checks.tz).date()
        measures = await measure_store.list_measures(db, report.institution.id, report.cycle.id)
        named = self.presenter.templates.render(self.language, "measure_button", key="named_owner")
        rows = await plan_rows(db, measures, today, self.config.privacy.authors, named.strip())
        return rows, await carried_out_before(db, report.cycle, report.institution.id)

    def _with_plan(
        self, texts: list[str], plan: list[PlanRow], carried: tuple[int, int] | None
    ) -> list[str]:
        """Add the improvement plan (owner, month) and last round's carried-out count."""
        if not plan and carried is None:
            return texts
        render = self.presenter.templates.render
        blocks = [
            "\n" + render(self.language, "digest_plan", row=None, count=len(plan), carried=carried)
        ]
        blocks += [render(self.language, "digest_plan", row=row) for row in plan]
        return [*texts[:-1], *split_blocks(texts[-1], blocks, separator="\n")]

    def _submitter(self, report: CheckReport, member: storage.Member) -> dict[str, object]:
        """Name the submitter as [privacy] authors allows; "former" if the person left."""
        if report.authors == "names":
            return {"submitted_by": member.first_name, "former": member.first_name is None}
        submitter = replace(report, submitter_id=member.id)
        return {"submitted_by": submitter_label(submitter, self.language), "former": False}

    def _potentials(self, answers: dict[Key, Answer]) -> list[str]:
        """List the improvement potentials, shortened, flagging those without a measure."""
        render = self.presenter.templates.render
        potential, measures = (q.key for q in self.catalogue.questions[1:3])
        found, unplanned = [], []
        for requirement in self.catalogue.requirements:
            answer = answers.get((requirement.id, potential))
            if answer is None or answer.value != YES:
                continue
            found.append(
                {
                    "requirement_id": requirement.id,
                    "title": requirement.title(self.language),
                    "text": shorten(answer.text or "", POTENTIAL_LIMIT),
                }
            )
            planned = answers.get((requirement.id, measures))
            if planned is None or not planned.text:
                unplanned.append(requirement.id)
        if not found:
            return []
        blocks = [
            "\n" + render(self.language, "digest_heading", section="potential", count=len(found))
        ]
        blocks += [render(self.language, "digest_potential", **p) for p in found]
        blocks += [render(self.language, "digest_unplanned", requirement_id=r) for r in unplanned]
        return blocks

    def changes(self, before: storage.Snapshot, after: dict[Key, Answer]) -> list[Change]:
        """List the questions whose answer differs from the previous submission."""
        old = {
            tuple(key.split(".", 1)): Answer(v, t)
            for key, (v, t) in before.items()
            if v is not None
        }  # never None: an answer's value is NOT NULL
        changed = []
        for position in self.presenter.dialogue.positions:
            key = (position.requirement_id, position.question_key)
            if old.get(key) != after.get(key):
                changed.append(Change(position, old.get(key), after.get(key)))
        return changed

    def _change(self, change: Change) -> dict[str, object]:
        describe = self.presenter.answer_text
        keys = [q.key for q in self.catalogue.questions]
        return {
            "requirement_id": change.position.requirement_id,
            "number": keys.index(change.position.question_key) + 1,
            "before": shorten(describe(change.position, change.before, self.language), 120),
            "after": shorten(describe(change.position, change.after, self.language), 120),
        }

    def _areas(self, report: CheckReport, answers: dict[Key, Answer]) -> list[dict[str, object]]:
        scores = area_scores(report, self.catalogue)
        first = self.catalogue.questions[0].key
        areas: list[dict[str, object]] = []
        for area in self.catalogue.areas:
            marks: list[str] = []
            for requirement in area.requirements:
                answer = answers.get((requirement.id, first))
                step = self.catalogue.step(answer.value) if answer else None
                # The light beside a word: a coloured dot alone says nothing to a screen reader.
                colour = step.colour if step else "grey"
                word = self.presenter.templates.label(self.language, f"rating_{colour}")
                marks.append(f"{requirement.id} {COLOUR_MARK[colour]} {word}")
            light = COLOUR_MARK[traffic_light(scores[area.id])]
            areas.append(
                {
                    "title": area.title(self.language),
                    "light": light,
                    "marks": marks,
                    "score": format_score(scores[area.id], self.language),
                }
            )
        return areas

    def _improvable(self, answers: dict[Key, Answer]) -> int:
        potential = self.catalogue.questions[1].key
        return sum(
            1
            for r in self.catalogue.requirements
            if (a := answers.get((r.id, potential))) is not None and a.value == YES
        )

    def _measures(self, answers: dict[Key, Answer]) -> list[dict[str, str]]:
        measures = self.catalogue.questions[2].key
        found = []
        for requirement in self.catalogue.requirements:
            answer = answers.get((requirement.id, measures))
            if answer is not None and answer.text:
                found.append(
                    {
                        "requirement_id": requirement.id,
                        "title": requirement.title(self.language),
                        "text": shorten(answer.text, MEASURE_LIMIT),
                    }
                )
        return found
