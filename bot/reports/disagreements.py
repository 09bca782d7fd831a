"""Where members saw a requirement differently during a round, as topics for a team talk."""

from __future__ import annotations

from bot.core.disagreements import Disagreement
from bot.render.presenter import COLOUR_MARK
from bot.reports.data import CheckReport
from bot.reports.labels import author_label, value_label
from dialogues.catalogue import Catalogue


def items(report: CheckReport, catalogue: Catalogue, language: str) -> list[dict[str, object]]:
    """Describe the check's disagreements for the templates, in catalogue order: "K2 🟢 → 🟠"."""
    order = {r.id: n for n, r in enumerate(catalogue.requirements)}
    keys = [q.key for q in catalogue.questions]

    def rank(d: Disagreement) -> tuple[int, int]:
        number = keys.index(d.question_key) if d.question_key in keys else 0
        return order.get(d.requirement_id, len(order)), number

    return [_item(d, report, catalogue, language) for d in sorted(report.disagreements, key=rank)]


def _item(
    d: Disagreement, report: CheckReport, catalogue: Catalogue, language: str
) -> dict[str, object]:
    keys = [q.key for q in catalogue.questions]
    return {
        "requirement_id": d.requirement_id,
        "number": keys.index(d.question_key) + 1 if d.question_key in keys else 0,
        "rating": d.question_key == keys[0],
        "before": _shown(catalogue, d.requirement_id, d.question_key, d.first, language),
        "after": _shown(
            catalogue,
            d.requirement_id,
            d.question_key,
            d.other if d.back_and_forth else d.last,
            language,
        ),
        "back_and_forth": d.back_and_forth,
        # Under [privacy] authors = none not even how many people took part is shown.
        "people": d.people if report.authors != "none" else None,
        "reasons": [
            {"author": author_label(a, language, report), "text": a.reason} for a in d.reasons
        ],
    }


def _shown(catalogue: Catalogue, requirement_id: str, key: str, value: str, language: str) -> str:
    """A rating as its traffic light ("🟢"), a yes/no as its word."""
    step = catalogue.step(value) if key == catalogue.questions[0].key else None
    if step is not None:
        return COLOUR_MARK[step.colour]
    try:
        return value_label(catalogue, catalogue.question(requirement_id, key), value, language)
    except (KeyError, StopIteration):
        return value  # a requirement a newer catalogue dropped


def line(item: dict[str, object]) -> str:
    """One disagreement in plain text, for a table cell: "K2 🟢 → 🟠 (Ben: „…“)"."""
    arrow = "↔" if item["back_and_forth"] else "→"
    text = f"{item['before']} {arrow} {item['after']}"
    reasons = item["reasons"]
    assert isinstance(reasons, list)
    said = "; ".join(
        f"{r['author']}: „{r['text']}“" if r["author"] else f"„{r['text']}“" for r in reasons
    )
    return f"{text} ({said})" if said else text
