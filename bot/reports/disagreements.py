"""Where members saw a requirement differently during a round: topics for a talk in the team."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import storage
from bot.core.disagreements import JUDGEMENTS, differs
from bot.render.presenter import COLOUR_MARK
from bot.reports.data import CheckReport
from bot.reports.labels import author_label, value_label
from dialogues.catalogue import Catalogue


@dataclass(frozen=True)
class Reason:
    author: str  # as [privacy] authors allows; "" when nobody is named
    text: str


@dataclass(frozen=True)
class Disagreement:
    """One question whose answer a member changed from a colleague's view to their own."""

    requirement_id: str
    question_key: str
    first: str  # the value before the first change by another person
    last: str  # the value now
    people: int  # how many people gave the differing answers
    reasons: tuple[Reason, ...]

    @property
    def back_and_forth(self) -> bool:
        """The answer came back to where it was: the colleagues still see it differently."""
        return self.first == self.last


async def load(db: storage.Database, report: CheckReport, language: str) -> list[Disagreement]:
    """Return the check's disagreements in catalogue order of their revisions' questions."""
    revisions = await storage.check_revisions(db, report.check.id, JUDGEMENTS)
    by_question: dict[tuple[str, str], list[storage.StoredAnswer]] = {}
    for revision in revisions:
        by_question.setdefault((revision.requirement_id, revision.question_key), []).append(
            revision
        )
    found = [_of_question(answers, report, language) for answers in by_question.values()]
    return [d for d in found if d is not None]


def _of_question(
    answers: list[storage.StoredAnswer], report: CheckReport, language: str
) -> Disagreement | None:
    steps = [(b, a) for b, a in pairwise(answers) if differs(b, a)]
    if not steps:
        return None
    people = {a.author_id for pair in steps for a in pair}
    reasons = tuple(
        Reason(author_label(after, language, report), after.reason)
        for _, after in steps
        if after.reason
    )
    first = steps[0][0]
    return Disagreement(
        first.requirement_id, first.question_key, first.value, answers[-1].value, len(people),
        reasons,
    )  # fmt: skip


def items(
    found: list[Disagreement], catalogue: Catalogue, authors: str, language: str
) -> list[dict[str, object]]:
    """Describe disagreements for the templates, in catalogue order: "K2 🟢 → 🟠"."""
    order = {r.id: n for n, r in enumerate(catalogue.requirements)}
    keys = [q.key for q in catalogue.questions]
    ranked = sorted(found, key=lambda d: (order.get(d.requirement_id, 99), d.question_key))
    return [
        {
            "requirement_id": d.requirement_id,
            "number": keys.index(d.question_key) + 1 if d.question_key in keys else 0,
            "rating": d.question_key == keys[0],
            "before": _shown(catalogue, d.requirement_id, d.question_key, d.first, language),
            "after": _shown(catalogue, d.requirement_id, d.question_key, d.last, language),
            "back_and_forth": d.back_and_forth,
            "people": d.people if authors != "none" else None,
            "reasons": [{"author": r.author, "text": r.text} for r in d.reasons],
        }
        for d in ranked
    ]


def _shown(catalogue: Catalogue, requirement_id: str, key: str, value: str, language: str) -> str:
    """A rating as its traffic light ("🟢"), a yes/no as its word."""
    step = catalogue.step(value) if key == catalogue.questions[0].key else None
    if step is not None:
        return COLOUR_MARK[step.colour]
    question = catalogue.question(requirement_id, key)
    return value_label(catalogue, question, value, language)


def line(item: dict[str, object]) -> str:
    """One disagreement in plain text, for a table cell: "K2 🟢 → 🟠 (Ben: „…“)"."""
    arrow = "↔" if item["back_and_forth"] else "→"
    text = f"{item['requirement_id']} {item['before']} {arrow} {item['after']}"
    reasons = item["reasons"]
    assert isinstance(reasons, list)
    said = "; ".join(
        f"{r['author']}: „{r['text']}“" if r["author"] else f"„{r['text']}“" for r in reasons
    )
    return f"{text} ({said})" if said else text
