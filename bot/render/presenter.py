"""Turn engine effects into views, through the templates. Shared by Telegram and the demo."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.render.templates import Templates
from bot.render.views import (
    MESSAGE_LIMIT,
    PLAIN_MESSAGE_LIMIT,
    Button,
    View,
    plain,
    rows,
    split_blocks,
)
from dialogues import effects as fx
from dialogues import events as ev
from dialogues.catalogue import AnswerKind, Catalogue
from dialogues.engine import Dialogue, Step, is_complete
from dialogues.model import NONE_PLANNED, YES, Answer, Key, Position, Progress
from dialogues.options import option_label

COLOUR_MARK = {"green": "🟢", "yellow": "🟡", "orange": "🟠", "red": "🔴", "grey": "⚪"}
BAR_WIDTH = 10


@dataclass(frozen=True)
class Authorship:
    """Who gave a stored answer, and when."""

    author: str | None
    at: datetime


@dataclass(frozen=True)
class HandoverNote:
    """A requirement the member handed to a colleague: to whom (once opened), days ago."""

    to: str | None
    days: int


@dataclass(frozen=True)
class PastMeasure:
    """A measure of the round before, as the carry-forward screen shows it."""

    id: int
    text: str
    status: str  # geplant, in_arbeit, umgesetzt, verworfen
    owner: str | None
    due: str | None  # "03/2027"
    carried: bool  # already taken into this round


@dataclass(frozen=True)
class Context:
    language: str
    authors: Mapping[Key, Authorship] = field(default_factory=dict)
    handovers: Mapping[str, HandoverNote] = field(default_factory=dict)
    plain: bool = False  # the member's /barrierefrei mode: words only, one button per row
    # Who gave last round's answers that are now proposed, and when.
    proposal_authors: Mapping[Key, Authorship] = field(default_factory=dict)
    # Last round's measures by requirement, with their status (the improvement plan, issue 16).
    past_measures: Mapping[str, Sequence[PastMeasure]] = field(default_factory=dict)


def _short(text: str, limit: int = 32) -> str:
    """Shorten a measure for a button label (Telegram cuts long ones anyway)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def progress_bar(progress: Progress, plain_mode: bool = False) -> str:
    """Draw progress as ten segments: decoration beside the words, so none in plain mode."""
    if plain_mode:
        return ""
    filled = round(BAR_WIDTH * progress.answered / progress.total) if progress.total else 0
    return "▰" * filled + "▱" * (BAR_WIDTH - filled)


class Presenter:
    """Render effects as views in the member's language."""

    def __init__(self, dialogue: Dialogue, templates: Templates) -> None:
        self.dialogue = dialogue
        self.catalogue: Catalogue = dialogue.catalogue
        self.templates = templates

    def present(self, step: Step, ctx: Context) -> list[View]:
        """Render every effect of a step that shows something."""
        views: list[View] = []
        for effect in step.effects:
            views.extend(self.effect(effect, step, ctx))
        return [plain(view) for view in views] if ctx.plain else views

    def turn(self, step: Step, ctx: Context) -> list[View]:
        """Render a step; after a rejection, show what is current again so the member can go on."""
        views = self.present(step, ctx)
        if step.rejected is None or any(view.keyboard for view in views):
            return views
        current = self.dialogue.advance(step.state, ev.Show())
        return views if current.rejected else views + self.present(current, ctx)

    def effect(self, effect: fx.Effect, step: Step, ctx: Context) -> list[View]:
        match effect:
            case fx.Ask():
                return [self.ask(effect, ctx)]
            case fx.Propose():
                return [self.propose(effect, ctx)]
            case fx.ShowOverview():
                return [self.overview(effect, ctx)]
            case fx.ShowReview():
                return self.review(effect, ctx)
            case fx.EndReached():
                return [self.end(effect, ctx)]
            case fx.ConfirmSubmission():
                return [self._simple("confirm", effect.progress, ctx, [ev.Confirm(), ev.Cancel()])]
            case fx.Submitted():
                return [self.submitted(step, ctx)]
            case fx.Reopened():
                return [self._simple("reopened", effect.progress, ctx, [ev.Resume()])]
            case fx.Paused():
                return [self._simple("paused", effect.progress, ctx, [ev.Resume()])]
            case fx.Rejected():
                return [self.rejected(effect, ctx, step)]
        return []  # Record: stored by the shell, shown through the transcript edit

    # -- questions ---------------------------------------------------------------------------

    def ask(self, effect: fx.Ask, ctx: Context) -> View:
        past = self._past_measures(effect.position, ctx)
        text = self._render(ctx, "ask", **self._question_context(effect, ctx), past=past)
        keyboard = self._ask_keyboard(effect, ctx.language)
        return View(text, self._carry_rows(effect.position, past, ctx) + keyboard, effect.position)

    def _past_measures(self, at: Position, ctx: Context) -> Sequence[PastMeasure]:
        """Last round's measures of the requirement, shown before question 3 ("Ändern")."""
        if self.dialogue.question(at).kind is not AnswerKind.MEASURES:
            return ()
        return ctx.past_measures.get(at.requirement_id, ())

    def _carry_rows(
        self, at: Position, past: Sequence[PastMeasure], ctx: Context
    ) -> tuple[tuple[Button, ...], ...]:
        """One button per open measure not carried yet: one tap takes it into this round."""
        label = self.templates.label(ctx.language, "carry_measure")
        return tuple(
            (Button(f"{label} {_short(m.text)}", ev.CarryMeasure(m.id, at)),)
            for m in past
            if m.status in ("geplant", "in_arbeit") and not m.carried
        )

    def propose(self, effect: fx.Propose, ctx: Context) -> View:
        """Show last round's three answers with "Stimmt noch so" and "Ändern"."""
        lang, at = ctx.language, effect.position
        items = []
        for key, answer in effect.proposals:
            position = Position(*key)
            authorship = ctx.proposal_authors.get(key)
            items.append(
                {
                    "question": self.dialogue.question(position).text(lang),
                    "answer": self.answer_text(position, answer, lang),
                    "author": self._author(authorship, lang),
                    "answered_at": authorship.at if authorship else None,
                }
            )
        text = self.templates.render(
            lang,
            "propose",
            area=self.catalogue.area_of(at.requirement_id).title(lang),
            requirement=self._requirement(at, lang),
            items=items,
            reworded=effect.reworded,
            measures=ctx.past_measures.get(at.requirement_id, ()),
            p=effect.progress,
            bar=progress_bar(effect.progress),
        )
        label = self._labeller(lang)
        keyboard = (
            (label("carry", ev.Carry(at)), label("change", ev.Change(at))),
            (label("back", ev.Back(at)), label("skip", ev.Skip(at))),
            (label("overview", ev.Overview()), label("pause", ev.Pause())),
        )
        return View(text, keyboard)

    def answered(self, position: Position, answer: Answer, ctx: Context) -> str:
        """Render a question with its given answer, for the transcript once it is answered."""
        return self._render(
            ctx,
            "answered",
            requirement=self._requirement(position, ctx.language),
            question=self.dialogue.question(position).text(ctx.language),
            answer=self.answer_text(position, answer, ctx.language),
        )

    def answer_text(self, position: Position, answer: Answer | None, language: str) -> str:
        """Describe an answer in words: the option's label, and its text where there is one."""
        if answer is None:
            return self.templates.label(language, "open")
        question = self.dialogue.question(position)
        if question.kind is AnswerKind.MEASURES and answer.value != NONE_PLANNED:
            return answer.text or ""
        label = option_label(self.catalogue, question, answer.value)(language)
        if question.kind is AnswerKind.RATING:
            step = self.catalogue.step(answer.value)
            return f"{COLOUR_MARK[step.colour]} {label}" if step else label
        return f"{label}: {answer.text}" if answer.text else label

    def _question_context(self, effect: fx.Ask, ctx: Context) -> dict[str, object]:
        lang = ctx.language
        question = self.dialogue.question(effect.position)
        key = (effect.position.requirement_id, effect.position.question_key)
        authors = ctx.proposal_authors if effect.proposed else ctx.authors
        authorship = authors.get(key) if effect.existing else None
        return {
            "area": self.catalogue.area_of(effect.position.requirement_id).title(lang),
            "requirement": self._requirement(effect.position, lang),
            "hint": self.catalogue.requirement(effect.position.requirement_id).hint(lang)
            if effect.with_hint
            else None,
            "question": question.text(lang),
            "kind": question.kind.value,
            "follow_up": question.follow_up(lang) if question.follow_up else None,
            "none_label": question.none(lang) if question.none else None,
            "asking_follow_up": effect.follow_up,
            "chosen": self._chosen(effect, lang),
            "others": [
                self._option_button(effect.position, v, lang) for v in self._other_options(effect)
            ]
            if effect.follow_up
            else [],
            "existing": self.answer_text(effect.position, effect.existing, lang)
            if effect.existing
            else None,
            "existing_text": effect.existing.text if effect.existing else None,
            "complete": is_complete(question, effect.existing),
            "proposed": effect.proposed,
            "author": self._author(authorship, lang),
            "answered_at": authorship.at if authorship else None,
            "p": effect.progress,
            "bar": progress_bar(effect.progress, ctx.plain),
            "handed": ctx.handovers.get(effect.position.requirement_id),
        }

    def _requirement(self, position: Position, language: str) -> dict[str, str]:
        requirement = self.catalogue.requirement(position.requirement_id)
        return {
            "id": requirement.id,
            "title": requirement.title(language),
            "text": requirement.text(language),
        }

    def _author(self, authorship: Authorship | None, language: str) -> str | None:
        if authorship is None:
            return None
        return authorship.author or self.templates.label(language, "former_member")

    def _ask_keyboard(self, effect: fx.Ask, language: str) -> tuple[tuple[Button, ...], ...]:
        # Back and skip sit in the row after the options on every question screen, and "keep"
        # comes last, so that no button takes another's place from one screen to the next.
        at = effect.position
        label = self._labeller(language)
        question = self.dialogue.question(at)
        if effect.follow_up:
            others = [
                Button(self._option_button(at, v, language), ev.Choose(v, at))
                for v in self._other_options(effect)
            ]
            keep = (
                [label("keep_text", ev.Keep(at))]
                if effect.existing and effect.existing.text
                else []
            )
            return (
                *rows(others, 3),
                (label("back", ev.Back(at)), label("skip", ev.Skip(at))),
                (label("pause", ev.Pause()),),
                *rows(keep, 1),
            )
        choices = [
            Button(self._option_button(at, value, language), ev.Choose(value, at))
            for value in effect.options
        ]
        per_row = 2 if question.kind is AnswerKind.RATING else 3
        complete = is_complete(question, effect.existing)
        keep = [label("keep", ev.Keep(at))] if complete else []
        return (
            *rows(choices[:4], per_row),
            *rows(choices[4:], 1),
            (label("back", ev.Back(at)), label("skip", ev.Skip(at))),
            (
                label("hint", ev.Hint(at)),
                label("overview", ev.Overview()),
                label("pause", ev.Pause()),
            ),
            (label("hand_over", ev.HandOver(at.requirement_id)),),
            *rows(keep, 1),
        )

    def _chosen(self, effect: fx.Ask, language: str) -> str | None:
        """Return the label of the option whose text a follow-up asks for ("Ja"), if it has one."""
        if not (effect.follow_up and effect.existing and effect.existing.value in effect.options):
            return None
        return option_label(
            self.catalogue, self.dialogue.question(effect.position), effect.existing.value
        )(language)

    def _other_options(self, effect: fx.Ask) -> tuple[str, ...]:
        """Return the options to switch to from a follow-up ("Nein" instead of "Ja")."""
        chosen = effect.existing.value if effect.existing else None
        return tuple(value for value in effect.options if value != chosen)

    def _option_button(self, position: Position, value: str, language: str) -> str:
        question = self.dialogue.question(position)
        text = option_label(self.catalogue, question, value)(language)
        step = self.catalogue.step(value) if question.kind is AnswerKind.RATING else None
        return f"{COLOUR_MARK[step.colour]} {text}" if step else text

    def _labeller(self, language: str) -> Callable[[str, ev.Event], Button]:
        return lambda key, event: Button(self.templates.label(language, key), event)

    # -- lists -------------------------------------------------------------------------------

    def overview(self, effect: fx.ShowOverview, ctx: Context) -> View:
        lang = ctx.language
        statuses = {item.requirement_id: item for item in effect.items}
        areas = [
            {
                "title": area.title(lang),
                "requirements": [
                    {
                        "id": r.id,
                        "title": r.title(lang),
                        "answered": statuses[r.id].answered,
                        "total": statuses[r.id].total,
                        "handed": ctx.handovers.get(r.id) if statuses[r.id].handed_over else None,
                    }
                    for r in area.requirements
                ],
            }
            for area in self.catalogue.areas
        ]
        bar = progress_bar(effect.progress, ctx.plain)
        text = self._render(ctx, "overview", areas=areas, p=effect.progress, bar=bar)
        jumps = [
            Button(
                self._jump_label(i.requirement_id, i.answered, i.total, ctx),
                ev.Jump(i.requirement_id),
            )
            for i in effect.items
        ]
        label = self._labeller(lang)
        return View(
            text, (*rows(jumps, 3), (label("resume", ev.Resume()), label("review", ev.Review())))
        )

    def review(self, effect: fx.ShowReview, ctx: Context) -> list[View]:
        lang = ctx.language
        head = self._render(
            ctx,
            "review_head",
            p=effect.progress,
            bar=progress_bar(effect.progress, ctx.plain),
            submitted=effect.submitted,
        )
        blocks = [self._review_block(item, ctx) for item in effect.items]
        limit = PLAIN_MESSAGE_LIMIT if ctx.plain else MESSAGE_LIMIT
        texts = split_blocks(head, blocks, separator="\n", limit=limit)
        label = self._labeller(lang)
        complete = effect.progress.answered == effect.progress.total
        last = [label("submit", ev.Submit())] if complete and not effect.submitted else []
        if not effect.submitted:
            last.append(label("resume", ev.Resume()))
        views = [View(text) for text in texts[:-1]]
        return [*views, View(texts[-1], rows(last, 2))]

    def _review_block(self, item: fx.ReviewItem, ctx: Context) -> str:
        position = item.position
        first = position.question_key == self.catalogue.questions[0].key
        key = (position.requirement_id, position.question_key)
        block = self._render(
            ctx,
            "review_item",
            requirement=self._requirement(position, ctx.language) if first else None,
            number=self.dialogue.positions.index(position) % len(self.catalogue.questions) + 1,
            answer=self.answer_text(position, item.answer, ctx.language) if item.answer else None,
            complete=item.complete,
            author=self._author(ctx.authors.get(key), ctx.language) if item.answer else None,
        )
        return f"\n{block}" if first else block

    def end(self, effect: fx.EndReached, ctx: Context) -> View:
        label = self._labeller(ctx.language)
        open_ids = sorted(
            {req for req, _ in effect.open_questions},
            key=[r.id for r in self.catalogue.requirements].index,
        )
        waiting = bool(open_ids) and set(open_ids) <= set(effect.handed_over)
        text = self._render(
            ctx,
            "end",
            p=effect.progress,
            open_ids=open_ids,
            open_count=len(effect.open_questions),
            waiting=waiting,
            handovers=ctx.handovers,
        )
        if waiting:  # only colleagues' requirements are open: wait, or take one back
            take_back = [
                Button(self.templates.label(ctx.language, "take_back").format(id=r), ev.TakeBack(r))
                for r in open_ids
            ]
            keyboard = (*rows(take_back, 1), (label("overview", ev.Overview()),))
        elif effect.open_questions:
            keyboard = ((label("resume", ev.Resume()), label("overview", ev.Overview())),)
        else:
            keyboard = ((label("review", ev.Review()), label("submit", ev.Submit())),)
        return View(text, keyboard)

    def submitted(self, step: Step, ctx: Context) -> View:
        lang = ctx.language
        summary = [self._area_summary(area.id, step, lang) for area in self.catalogue.areas]
        return View(
            self._render(ctx, "submitted", areas=summary, p=self.dialogue.progress(step.state))
        )

    def _area_summary(self, area_id: str, step: Step, language: str) -> dict[str, object]:
        area = next(a for a in self.catalogue.areas if a.id == area_id)
        first, potential, _ = (q.key for q in self.catalogue.questions)
        counts: dict[str, int] = {}
        for requirement in area.requirements:
            answer = step.state.answers.get((requirement.id, first))
            if answer is not None and self.catalogue.step(answer.value):
                counts[answer.value] = counts.get(answer.value, 0) + 1
        # Each light stands beside its count and word ("🟢 2 vollständig erfüllt"): a row of
        # coloured dots alone says nothing to a screen reader or to someone who cannot tell
        # the colours apart.
        ratings = [
            {"mark": COLOUR_MARK[s.colour], "count": counts[s.key], "label": s.label(language)}
            for s in self.catalogue.scale
            if s.key in counts
        ]
        improvable = sum(
            1
            for r in area.requirements
            if (a := step.state.answers.get((r.id, potential))) and a.value == YES
        )
        return {"title": area.title(language), "ratings": ratings, "improvable": improvable}

    def rejected(self, effect: fx.Rejected, ctx: Context, step: Step | None = None) -> View:
        position = step.state.position if step is not None else None
        question = self.dialogue.question(position) if position is not None else None
        follow_up = question.follow_up(ctx.language) if question and question.follow_up else None
        labels = (
            [self._option_button(position, v, ctx.language) for v in effect.options]
            if position is not None
            else []
        )
        text = self._render(
            ctx,
            "rejected",
            reason=effect.reason.value,
            limit=effect.limit,
            open_count=len(effect.open_questions),
            options=labels,
            kind=question.kind.value if question else None,
            follow_up=follow_up,
            none_label=question.none(ctx.language) if question and question.none else None,
        )
        if effect.reason is fx.Reason.READ_ONLY:  # the answers can still be read
            return View(text, ((self._labeller(ctx.language)("review", ev.Review()),),))
        if effect.reason is fx.Reason.AMBIGUOUS and position is not None:
            buttons = [
                Button(name, ev.Choose(value, position))
                for name, value in zip(labels, effect.options, strict=True)
            ]
            return View(text, rows(buttons, 1), asks=position)
        return View(text)

    def _simple(self, name: str, progress: Progress, ctx: Context, events: list[ev.Event]) -> View:
        keys = {ev.Confirm: "confirm", ev.Cancel: "cancel", ev.Resume: "resume"}
        label = self._labeller(ctx.language)
        buttons = tuple(label(keys[type(e)], e) for e in events)
        text = self._render(ctx, name, p=progress, bar=progress_bar(progress, ctx.plain))
        return View(text, (buttons,))

    def _render(self, ctx: Context, name: str, /, **context: object) -> str:
        return self.templates.render(ctx.language, name, plain=ctx.plain, **context)

    def _jump_label(self, requirement_id: str, answered: int, total: int, ctx: Context) -> str:
        """Label a jump button; in plain mode the status is a word instead of a glyph."""
        if not ctx.plain:
            return f"{_status_mark(answered, total)} {requirement_id}"
        status = "done" if answered == total else ("started" if answered else "open")
        return f"{requirement_id} {self.templates.label(ctx.language, status)}"


def _status_mark(answered: int, total: int) -> str:
    return "✅" if answered == total else ("◐" if answered else "○")
