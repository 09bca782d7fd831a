"""What changed between a round and the one before, per requirement: pure comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.reports.data import CheckReport
from bot.reports.labels import label
from dialogues.catalogue import AnswerKind, Catalogue
from dialogues.model import PLANNED, YES

Direction = Literal["up", "down", "same", "changed", "new", "dropped", "open"]


@dataclass(frozen=True)
class RequirementChange:
    """One requirement's rating, potential and measures now against the round before."""

    requirement_id: str
    direction: Direction
    before: str | None = None  # the rating's scale key in the round before
    after: str | None = None  # ... and in this round
    potential: Literal["new", "gone", "same"] = "same"
    measures: Literal["new", "carried", "none"] = "none"

    @property
    def changed(self) -> bool:
        """Tell whether anything about the requirement differs from the round before."""
        return (
            self.direction in ("up", "down", "changed", "dropped")
            or self.potential != "same"
            or self.measures == "new"
        )


def _keys(catalogue: Catalogue) -> dict[AnswerKind, str]:
    return {q.kind: q.key for q in catalogue.questions}


def compare(
    now: CheckReport,
    before: CheckReport | None,
    catalogue: Catalogue,
    before_catalogue: Catalogue | None = None,
) -> list[RequirementChange]:
    """Compare each requirement with the round before; dropped ones come last as "entfallen"."""
    if before is None:
        return []
    old = before_catalogue or catalogue
    changes = [
        _requirement(now.answers, before.answers, catalogue, old, r.id)
        for r in catalogue.requirements
    ]
    kept = {r.id for r in catalogue.requirements}
    changes += [
        RequirementChange(r.id, "dropped", before=_value(before.answers, old, r.id))
        for r in old.requirements
        if r.id not in kept
    ]
    return changes


def _value(answers: Mapping[tuple[str, str], object], catalogue: Catalogue, rid: str) -> str | None:
    answer = answers.get((rid, _keys(catalogue)[AnswerKind.RATING]))
    return getattr(answer, "value", None)


def _requirement(
    now: Mapping[tuple[str, str], object],
    before: Mapping[tuple[str, str], object],
    catalogue: Catalogue,
    old: Catalogue,
    rid: str,
) -> RequirementChange:
    after_value, before_value = _value(now, catalogue, rid), _value(before, old, rid)
    direction = _direction(catalogue, before_value, after_value)
    potential_key, measures_key = (
        _keys(catalogue)[AnswerKind.YES_NO],
        _keys(catalogue)[AnswerKind.MEASURES],
    )
    seen_now = getattr(now.get((rid, potential_key)), "value", None) == YES
    seen_before = getattr(before.get((rid, potential_key)), "value", None) == YES
    potential: Literal["new", "gone", "same"] = (
        "new"
        if seen_now and not seen_before
        else "gone"
        if seen_before and not seen_now
        else "same"
    )
    measure_now, measure_before = now.get((rid, measures_key)), before.get((rid, measures_key))
    measures: Literal["new", "carried", "none"] = "none"
    if getattr(measure_now, "value", None) == PLANNED:
        same = getattr(measure_before, "text", None) == getattr(measure_now, "text", None)
        measures = "carried" if same else "new"
    return RequirementChange(rid, direction, before_value, after_value, potential, measures)


def _direction(catalogue: Catalogue, before: str | None, after: str | None) -> Direction:
    if after is None:
        return "open"
    if before is None:
        return "new"
    step_before, step_after = catalogue.step(before), catalogue.step(after)
    score_before = step_before.score if step_before else None
    score_after = step_after.score if step_after else None
    if score_before is not None and score_after is not None:
        if score_after > score_before:
            return "up"
        return "down" if score_after < score_before else "same"
    return "same" if before == after else "changed"


ARROW = {"up": "▲", "down": "▼", "changed": "•", "new": "•", "dropped": "✖"}


def change_lines(
    report: CheckReport,
    catalogue: Catalogue,
    language: str,
    before_catalogue: Catalogue | None = None,
) -> list[str]:
    """Describe in words what changed against the round before, one line per requirement."""
    if report.cycle.previous_deleted:
        return [label(language, "previous_deleted")]
    if report.previous is None:
        return []
    old = before_catalogue or catalogue
    lines = [
        _line(c, catalogue, old, language)
        for c in compare(report, report.previous, catalogue, old)
        if c.changed
    ]
    return lines or [label(language, "no_change")]


def _line(c: RequirementChange, catalogue: Catalogue, old: Catalogue, language: str) -> str:
    def step(value: str | None, scale: Catalogue) -> str:
        found = scale.step(value) if value else None
        return found.label(language) if found else "–"

    head = f"{ARROW.get(c.direction, '•')} {c.requirement_id}"
    if c.direction == "dropped":
        return f"{head}: {label(language, 'dropped')}"
    parts = []
    if c.direction in ("up", "down", "changed", "new"):
        parts.append(f"{step(c.before, old)} → {step(c.after, catalogue)}")
    if c.potential != "same":
        parts.append(label(language, f"potential_{c.potential}"))
    if c.measures == "new":
        parts.append(label(language, "measure_new"))
    return f"{head}: {'; '.join(parts)}"
