"""Coordinator commands: /status, /bericht, /export, /uebersicht, /wiedereroeffnen."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType

import storage
from bot import reports
from bot.core import audit
from bot.core.access import is_coordinator
from bot.core.rounds import (
    UnknownRound,
    pick_round,
    previous_round,
    round_catalogue,
    with_history,
    with_previous,
)
from bot.render.callbacks import encode
from bot.render.views import split_blocks, utf16_len
from bot.reports.alt_text import CAPTION_LIMIT, change_words, heatmap_words, profile_words
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.courier import file_stem
from bot.telegram.handlers import general
from bot.telegram.handlers.dialogue import deliver_soon, on_command
from bot.telegram.handlers.guard import actor, allowed, coordinator_only, say
from dialogues import events as ev
from dialogues.catalogue import Catalogue
from dialogues.engine import Dialogue
from dialogues.model import Answer

COMPARE_WORDS = ("vergleich", "compare")
COMPARE_PATTERN = r"^heatmap_compare:(\d+)$"
PHOTO_ROWS = 30  # institutions up to which the heat map stays readable as a photo


@coordinator_only
async def on_status(update: Update, context: BotContext, s: Services) -> None:
    """List every institution of the round (the open one unless named) with its progress."""
    try:
        cycle = await pick_round(s.db, " ".join(context.args or []) or None)
    except UnknownRound as exc:
        await say(update, context, s, "round_unknown", name=exc.name, names=exc.names)
        return
    await audit.coordinator_action(
        s, actor(update), "view_status", cycle_id=cycle.id if cycle else None
    )
    dialogue = _dialogue(s, cycle)
    rows = (
        [await _status_row(s, dialogue, r) for r in await _round_reports(s, cycle)] if cycle else []
    )
    text = s.templates.render(
        _language(s), "status", cycle=cycle, rows=rows, total=len(dialogue.positions)
    )
    await context.bot.send_message(_chat_id(update), text)


@coordinator_only
async def on_report(update: Update, context: BotContext, s: Services) -> None:
    """Send the full report of one institution, with its profile chart."""
    report = await _named_report(update, context, s)
    if report is None:
        return
    await audit.coordinator_action(
        s,
        actor(update),
        "view_report",
        institution_id=report.institution.id,
        cycle_id=report.cycle.id,
    )
    report = await with_history(s.db, report, s.dialogue.catalogue)
    catalogue, language = round_catalogue(report.cycle, s.dialogue.catalogue), _language(s)
    name = file_stem(report)
    png = await asyncio.to_thread(reports.profile_chart_png, report, catalogue, language)
    # A PDF, because Telegram opens it in its own viewer on a phone; an HTML file it cannot.
    pdf = await asyncio.to_thread(reports.report_file, report, catalogue, s.templates, language)
    words = s.templates.render(
        language,
        "chart_words",
        institution=report.institution,
        areas=profile_words(report, catalogue, language),
    )
    await _send_image(context, _chat_id(update), InputFile(png, filename=f"{name}.png"), words)
    await context.bot.send_document(_chat_id(update), InputFile(pdf, filename=f"{name}.pdf"))


@coordinator_only
async def on_export(update: Update, context: BotContext, s: Services) -> None:
    """Send all answers of the round (the open one unless named) as XLSX and CSV."""
    cycle = await _chosen_round(update, context, s, context.args or [])
    if cycle is None:
        return
    round_reports = await with_previous(s.db, cycle, await _round_reports(s, cycle))
    await audit.coordinator_action(s, actor(update), "export", cycle_id=cycle.id)
    catalogue = round_catalogue(cycle, s.dialogue.catalogue)
    args = (round_reports, catalogue, _language(s), s.config.checks.tz)
    xlsx = await asyncio.to_thread(reports.export_xlsx, *args)
    csv = await asyncio.to_thread(reports.export_csv, *args)
    name = f"ChancenCheck_{cycle.name}".replace(" ", "_")
    await context.bot.send_document(_chat_id(update), InputFile(xlsx, filename=f"{name}.xlsx"))
    await context.bot.send_document(_chat_id(update), InputFile(csv, filename=f"{name}.csv"))


async def on_overview(update: Update, context: BotContext) -> None:
    """Show a member their dialogue overview; show coordinators the round's heat map."""
    s = context.services
    user, chat = update.effective_user, update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE and user is not None:
        member = await storage.member_by_user(s.db, user.id)
        coordinator = is_coordinator(s.coordinators, user.id)
        # A coordinator who is a member too names a round to see its heat map.
        if (member is not None and not context.args) or not coordinator:
            await on_command(update, context)
            return
    # A member's /uebersicht in a group:
    if user is None or not is_coordinator(s.coordinators, user.id):
        await general.on_group(update, context)
        return
    await on_heatmap(update, context)


@coordinator_only
async def on_heatmap(update: Update, context: BotContext, s: Services) -> None:
    """Send the heat map of institutions × requirements, or its change against the round before."""
    args = list(context.args or [])
    compare = bool(args) and args[-1].lower() in COMPARE_WORDS
    cycle = await _chosen_round(update, context, s, args[:-1] if compare else args)
    if cycle is None:
        return
    round_reports = await _round_reports(s, cycle)
    await audit.coordinator_action(s, actor(update), "view_heatmap", cycle_id=cycle.id)
    catalogue = round_catalogue(cycle, s.dialogue.catalogue)
    if compare:
        await _send_comparison(update, context, s, cycle, round_reports, catalogue)
        return
    png = await asyncio.to_thread(reports.heatmap_png, round_reports, catalogue, _language(s))
    name = f"ChancenCheck_{cycle.name}_Uebersicht".replace(" ", "_")
    image = InputFile(png, filename=f"{name}.png")
    rows = heatmap_words(round_reports, catalogue, _language(s))
    words = s.templates.render(_language(s), "heatmap_words", cycle=cycle, rows=rows)
    markup = _compare_button(s, cycle)
    # Telegram would shrink a tall photo past reading:
    as_file = len(round_reports) > PHOTO_ROWS
    await _send_image(context, _chat_id(update), image, words, as_file, markup)


async def _send_image(
    context: BotContext,
    chat_id: int,
    image: InputFile,
    words: str,
    as_file: bool = False,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send a chart with the same content in words: as its caption, or after it if too long."""
    # A screen reader cannot read a chart (BITV 2.0 / WCAG 1.1.1: a text alternative).
    caption = words if utf16_len(words) <= CAPTION_LIMIT else None
    if as_file:
        await context.bot.send_document(chat_id, image, caption=caption, reply_markup=markup)
    else:
        await context.bot.send_photo(chat_id, image, caption=caption, reply_markup=markup)
    if caption is None:  # many institutions: as many messages as the lines need
        for text in split_blocks("", words.split("\n"), separator="\n"):
            await context.bot.send_message(chat_id, text)


def _compare_button(s: Services, cycle: storage.Cycle) -> InlineKeyboardMarkup | None:
    """Offer the change against the round before under a heat map, where there is one."""
    if cycle.previous_id is None:
        return None
    label = s.templates.label(_language(s), "compare_previous")
    button = InlineKeyboardButton(label, callback_data=f"heatmap_compare:{cycle.id}")
    return InlineKeyboardMarkup([[button]])


async def on_compare_button(update: Update, context: BotContext) -> None:
    """Send the change heat map for the round whose heat map carried the button."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    s = await allowed(update, context)
    match = re.fullmatch(COMPARE_PATTERN, query.data or "")
    if s is None or match is None:
        return
    cycle = await storage.cycle_by_id(s.db, int(match[1]))
    if cycle is None:  # deleted by the retention meanwhile
        await say(update, context, s, "round_unknown", name=match[1], names=[])
        return
    await audit.coordinator_action(s, actor(update), "view_heatmap", cycle_id=cycle.id)
    catalogue = round_catalogue(cycle, s.dialogue.catalogue)
    round_reports = await _round_reports(s, cycle)
    await _send_comparison(update, context, s, cycle, round_reports, catalogue)


async def _send_comparison(
    update: Update,
    context: BotContext,
    s: Services,
    cycle: storage.Cycle,
    round_reports: list[reports.CheckReport],
    catalogue: Catalogue,
) -> None:
    """Send the heat map of the change against the round before, or say there is none."""
    previous = await previous_round(s.db, cycle)
    if previous is None:
        await say(update, context, s, "no_previous_round", cycle=cycle)
        return
    before = await _round_reports(s, previous)
    png = await asyncio.to_thread(
        reports.change_heatmap_png, round_reports, before, catalogue, _language(s), previous.name
    )
    name = f"ChancenCheck_{cycle.name}_Vergleich".replace(" ", "_")
    rows = change_words(round_reports, before, catalogue)
    words = s.templates.render(
        _language(s), "change_words", cycle=cycle, previous=previous, rows=rows
    )
    image = InputFile(png, filename=f"{name}.png")
    await _send_image(context, _chat_id(update), image, words, as_file=True)


@coordinator_only
async def on_reopen(update: Update, context: BotContext, s: Services) -> None:
    """Reopen an institution's submitted check and tell its members."""
    report = await _named_report(update, context, s)
    if report is None:
        return
    if report.check.status != "submitted":
        await say(update, context, s, "reopen_not_submitted", institution=report.institution)
        return
    now = s.clock()
    async with s.db.transaction():
        await storage.reopen_check(s.db, report.check.id, now)
        await storage.record_audit(
            s.db,
            actor(update),
            "reopen",
            now,
            institution_id=report.institution.id,
            cycle_id=report.cycle.id,
            check_id=report.check.id,
        )
        for member in await storage.members_of(s.db, report.institution.id):
            await _queue_reopened_note(s, member, report, now)
    await say(update, context, s, "reopened_coordinator", institution=report.institution)
    deliver_soon(context)


async def _queue_reopened_note(
    s: Services, member: storage.Member, report: reports.CheckReport, now: datetime
) -> None:
    """Queue the note to a member that their check is open again, with a continue button."""
    if member.telegram_user_id is None:
        return
    text = s.templates.render(
        member.language, "reopened_member", institution=report.institution, cycle=report.cycle
    )
    button = {
        "text": s.templates.label(member.language, "resume"),
        "callback_data": encode(ev.Resume()),
    }
    key = f"reopen:{report.check.id}:{now.isoformat()}:{member.id}"
    payload = {"text": text, "buttons": [[button]]}
    await storage.enqueue(s.db, key, member.telegram_user_id, "message", payload, now)


async def _named_report(
    update: Update, context: BotContext, s: Services
) -> reports.CheckReport | None:
    """Load the report of the institution named in the command, or explain what is missing."""
    short = context.args[0] if context.args else None
    institution = await storage.institution_by_short(s.db, short) if short else None
    try:
        cycle = await pick_round(s.db, " ".join((context.args or [])[1:]) or None)
    except UnknownRound as exc:
        await say(update, context, s, "round_unknown", name=exc.name, names=exc.names)
        return None
    if institution is None or cycle is None:
        known = ", ".join(i.short for i in await storage.list_institutions(s.db))
        await say(update, context, s, "unknown_institution", short=short, known=known, cycle=cycle)
        return None
    try:
        return await reports.load_check_report(
            s.db, institution.id, cycle.id, s.config.privacy.authors
        )
    except storage.NotFoundError:  # the institution was added after that round
        await say(update, context, s, "no_check_in_round", institution=institution, cycle=cycle)
        return None


async def _round_reports(s: Services, cycle: storage.Cycle) -> list[reports.CheckReport]:
    return await reports.load_round_reports(s.db, cycle.id, s.config.privacy.authors)


async def _chosen_round(
    update: Update, context: BotContext, s: Services, words: list[str]
) -> storage.Cycle | None:
    """Return the named round, else the open or latest closed one; explain when there is none."""
    try:
        cycle = await pick_round(s.db, " ".join(words) or None)
    except UnknownRound as exc:
        await say(update, context, s, "round_unknown", name=exc.name, names=exc.names)
        return None
    if cycle is None:
        await say(update, context, s, "no_round_coordinator")
    return cycle


def _dialogue(s: Services, cycle: storage.Cycle | None) -> Dialogue:
    """Return a dialogue over the round's own catalogue, to count its questions."""
    if cycle is None:
        return s.dialogue
    catalogue = round_catalogue(cycle, s.dialogue.catalogue)
    return s.dialogue if catalogue == s.dialogue.catalogue else Dialogue(catalogue)


async def _status_row(
    s: Services, dialogue: Dialogue, report: reports.CheckReport
) -> dict[str, object]:
    members = await storage.members_of(s.db, report.institution.id)
    answers = {key: Answer(a.value, a.text) for key, a in report.answers.items()}
    state = dialogue.initial(answers)
    return {
        "institution": report.institution,
        "answered": len(dialogue.positions) - len(dialogue.open_questions(state)),
        "submitted": report.check.status == "submitted",
        "last_activity": await storage.last_activity(s.db, report.check.id),
        "members": len(members),
        # Names only where coordinators may see who is who ([privacy] authors).
        "unreachable": [
            m.first_name or "?" if s.config.privacy.authors == "names" else ""
            for m in members
            if m.unreachable
        ],
    }


def _language(s: Services) -> str:
    return s.config.checks.language


def _chat_id(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id
