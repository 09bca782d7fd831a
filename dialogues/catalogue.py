"""The catalogue of quality requirements: data in a TOML file, validated by pydantic models."""

from __future__ import annotations

import tomllib
from enum import Enum
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_CATALOGUE = Path(__file__).with_name("chancencheck_lu.toml")
QUESTION_KEYS = ("fulfilment", "potential", "measures")


class CatalogueError(Exception):
    """A catalogue file that cannot be used, with every problem found in it."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"catalogue {path} is invalid:\n{lines}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Frozen):
    """A text in every language of the catalogue."""

    de: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, language: str) -> str:
        return self.en if language == "en" else self.de


class AnswerKind(str, Enum):
    RATING = "rating"  # one step of the rating scale
    YES_NO = "yes_no"  # yes (then a description) or no
    MEASURES = "measures"  # free text, or "none planned"


class ScaleStep(_Frozen):
    """One step of the rating scale; a step without score counts as answered, not in averages."""

    key: str = Field(pattern=r"^[a-z_]{1,12}$")
    label: Text
    score: int | None = None
    colour: str = Field(pattern=r"^(green|yellow|orange|red|grey)$")


class Question(_Frozen):
    """One of the three reflection questions asked for every requirement."""

    key: str
    kind: AnswerKind
    text: Text
    follow_up: Text | None = None  # asked after "yes" (yes_no) or for the measures (measures)
    yes: Text | None = None
    no: Text | None = None
    none: Text | None = None  # the "keine geplant" option of a measures question

    @model_validator(mode="after")
    def _labels_for_kind(self) -> Self:
        needed = {
            AnswerKind.RATING: (),
            AnswerKind.YES_NO: ("yes", "no", "follow_up"),
            AnswerKind.MEASURES: ("none", "follow_up"),
        }[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind.value} question needs {', '.join(missing)}")
        return self


class QuestionOverride(_Frozen):
    """Per-requirement wording of a question; the answer kind stays the catalogue's."""

    text: Text | None = None
    follow_up: Text | None = None


class Requirement(_Frozen):
    id: str = Field(pattern=r"^[A-Z]{1,3}[0-9]{1,2}$")
    title: Text
    text: Text
    hint: Text
    questions: dict[str, QuestionOverride] = {}

    @field_validator("questions")
    @classmethod
    def _known_questions(cls, value: dict[str, QuestionOverride]) -> dict[str, QuestionOverride]:
        unknown = sorted(set(value) - set(QUESTION_KEYS))
        if unknown:
            raise ValueError(
                f"unknown question {', '.join(unknown)} (use {', '.join(QUESTION_KEYS)})"
            )
        return value


class Area(_Frozen):
    id: str = Field(pattern=r"^[A-Z]{1,3}$")
    title: Text
    requirements: tuple[Requirement, ...] = Field(min_length=1)


class Catalogue(_Frozen):
    """Areas, their requirements, the three questions and the rating scale."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    version: str = Field(min_length=1, max_length=40)
    title: Text
    scale: tuple[ScaleStep, ...] = Field(min_length=2)
    questions: tuple[Question, ...]
    areas: tuple[Area, ...] = Field(min_length=1)

    @field_validator("areas")
    @classmethod
    def _unique_ids(cls, areas: tuple[Area, ...]) -> tuple[Area, ...]:
        _unique("area id", [a.id for a in areas], "areas")
        seen: dict[str, str] = {}
        for area in areas:
            for req in area.requirements:
                here = f"areas[{area.id}].requirements[{req.id}]"
                if req.id in seen:
                    raise ValueError(
                        f"requirement id {req.id!r} is used twice: {seen[req.id]} and {here}"
                    )
                seen[req.id] = here
        return areas

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        keys = tuple(q.key for q in self.questions)
        if keys != QUESTION_KEYS:
            raise ValueError(_question_problem(keys))
        _unique("scale key", [s.key for s in self.scale], "scale")
        _distinct_scores(self.scale)
        return self

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return tuple(r for a in self.areas for r in a.requirements)

    def area_of(self, requirement_id: str) -> Area:
        for area in self.areas:
            if any(r.id == requirement_id for r in area.requirements):
                return area
        raise KeyError(requirement_id)

    def requirement(self, requirement_id: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        raise KeyError(requirement_id)

    def question(self, requirement_id: str, key: str) -> Question:
        """Return the question as asked for this requirement, overrides applied."""
        base = next(q for q in self.questions if q.key == key)
        override = self.requirement(requirement_id).questions.get(key)
        if override is None:
            return base
        changes = {k: getattr(override, k) for k in override.model_fields_set}
        return base.model_copy(update={k: v for k, v in changes.items() if v is not None})

    def step(self, key: str) -> ScaleStep | None:
        return next((s for s in self.scale if s.key == key), None)


def _unique(what: str, values: list[str], where: str) -> None:
    """Refuse a value used twice, naming both places (counted from 1, as people count)."""
    seen: dict[str, int] = {}
    for number, value in enumerate(values, start=1):
        if value in seen:
            raise ValueError(
                f"{what} {value!r} is used twice: {where} number {seen[value]} and number {number}"
            )
        seen[value] = number


def _question_problem(keys: tuple[str, ...]) -> str:
    """Say what is wrong with the questions: which is missing, unknown, doubled or misplaced."""
    expected = f"the questions must be {', '.join(QUESTION_KEYS)}, in this order"
    missing = [k for k in QUESTION_KEYS if k not in keys]
    if missing:
        return f"question {', '.join(repr(k) for k in missing)} is missing; {expected}"
    unknown = [k for k in keys if k not in QUESTION_KEYS]
    if unknown:
        return f"question {', '.join(repr(k) for k in unknown)} is unknown; {expected}"
    doubled = sorted({k for k in keys if keys.count(k) > 1})
    if doubled:
        return f"question {', '.join(repr(k) for k in doubled)} is there twice; {expected}"
    return f"the questions are in the order {', '.join(keys)}; {expected}"


def _distinct_scores(scale: tuple[ScaleStep, ...]) -> None:
    """Refuse two rating steps with the same score: averages could not tell them apart."""
    by_score: dict[int, str] = {}
    for step in scale:
        if step.score is None:
            continue
        if step.score in by_score:
            raise ValueError(
                f"rating steps {by_score[step.score]!r} and {step.key!r} both have "
                f"score {step.score}; give each step its own score"
            )
        by_score[step.score] = step.key


def parse_catalogue(text: str, source: Path | str = "<catalogue>") -> Catalogue:
    """Validate a catalogue's TOML text, or raise CatalogueError naming every problem."""
    # Pure on purpose: the file is read by bot.catalogue.load_catalogue, at the edge.
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(Path(source), [f"not valid TOML: {exc}"]) from None
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(err, data) for err in exc.errors()]
        raise CatalogueError(Path(source), problems) from None


def _describe(error: Any, data: dict[str, Any]) -> str:
    """Name the place of a validation error by area and requirement ids, not list indexes."""
    parts: list[str] = []
    node: Any = data
    for loc in error["loc"]:
        if isinstance(loc, int) and isinstance(node, list) and loc < len(node):
            node = node[loc]
            label = node.get("id") or node.get("key") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{label or loc}]" if parts else f"[{loc}]"
            continue
        parts.append(str(loc))
        node = node.get(loc) if isinstance(node, dict) else None
    where = ".".join(parts) or "(top level)"
    return f"{where}: {_plain(error)}"


def _plain(error: Any) -> str:
    """Word pydantic's messages as a person editing the file needs them."""
    kind = error["type"]
    if kind == "missing":
        return "is missing; add this key"
    if kind == "extra_forbidden":
        return "is not a key the catalogue knows here; check its spelling or remove it"
    return str(error["msg"]).removeprefix("Value error, ")
