"""Coordinator commands: /status, /bericht, /export, /uebersicht, /wiedereroeffnen."""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import InputFile, Update
from telegram.constants import ChatType

import storage
from bot import reports
from bot.core import audit
from bot.core.access import is_coordinator
from bot.render.callbacks import encode
from bot.render.views import split_blocks, utf16_len
from bot.reports.alt_text import CAPTION_LIMIT, heatmap_words, profile_words
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.courier import file_stem
from bot.telegram.handlers import general
from bot.telegram.handlers.dialogue import deliver_soon, on_command
from bot.telegram.handlers.guard import actor, coordinator_only, say
from dialogues import events as ev
from dialogues.model import Answer

PHOTO_ROWS = 30  # institutions up to which the heat map stays readable as a photo


@coordinator_only
async def on_status(update: Update, context: BotContext, s: Services) -> None:
    """List every institution of the current round with its progress."""
    cycle = await storage.current_cycle(s.db)
    await audit.coordinator_action(
        s, actor(update), "view_status", cycle_id=cycle.id if cycle else None
    )
    rows = [await _status_row(s, r) for r in await _round_reports(s, cycle)] if cycle else []
    text = s.templates.render(
        _language(s), "status", cycle=cycle, rows=rows, total=len(s.dialogue.positions)
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
    catalogue, language = s.dialogue.catalogue, _language(s)
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
    """Send all answers of the round as XLSX and CSV."""
    cycle = await storage.current_cycle(s.db)
    if cycle is None:
        await say(update, context, s, "no_round_coordinator")
        return
    round_reports = await _round_reports(s, cycle)
    await audit.coordinator_action(s, actor(update), "export", cycle_id=cycle.id)
    args = (round_reports, s.dialogue.catalogue, _language(s), s.config.checks.tz)
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
        if member is not None or not is_coordinator(s.coordinators, user.id):
            await on_command(update, context)
            return
    # A member's /uebersicht in a group:
    if user is None or not is_coordinator(s.coordinators, user.id):
        await general.on_group(update, context)
        return
    await on_heatmap(update, context)


@coordinator_only
async def on_heatmap(update: Update, context: BotContext, s: Services) -> None:
    """Send the heat map of institutions × requirements."""
    cycle = await storage.current_cycle(s.db)
    if cycle is None:
        await say(update, context, s, "no_round_coordinator")
        return
    round_reports = await _round_reports(s, cycle)
    await audit.coordinator_action(s, actor(update), "view_heatmap", cycle_id=cycle.id)
    png = await asyncio.to_thread(
        reports.heatmap_png, round_reports, s.dialogue.catalogue, _language(s)
    )
    name = f"ChancenCheck_{cycle.name}_Uebersicht".replace(" ", "_")
    image = InputFile(png, filename=f"{name}.png")
    rows = heatmap_words(round_reports, s.dialogue.catalogue, _language(s))
    words = s.templates.render(_language(s), "heatmap_words", cycle=cycle, rows=rows)
    # Telegram would shrink a tall photo past reading:
    await _send_image(context, _chat_id(update), image, words, len(round_reports) > PHOTO_ROWS)


async def _send_image(
    context: BotContext, chat_id: int, image: InputFile, words: str, as_file: bool = False
) -> None:
    """Send a chart with the same content in words: as its caption, or after it if too long."""
    # A screen reader cannot read a chart (BITV 2.0 / WCAG 1.1.1: a text alternative).
    caption = words if utf16_len(words) <= CAPTION_LIMIT else None
    if as_file:
        await context.bot.send_document(chat_id, image, caption=caption)
    else:
        await context.bot.send_photo(chat_id, image, caption=caption)
    if caption is None:  # many institutions: as many messages as the lines need
        for text in split_blocks("", words.split("\n"), separator="\n"):
            await context.bot.send_message(chat_id, text)


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
    cycle = await storage.current_cycle(s.db)
    if institution is None or cycle is None:
        known = ", ".join(i.short for i in await storage.list_institutions(s.db))
        await say(update, context, s, "unknown_institution", short=short, known=known, cycle=cycle)
        return None
    return await reports.load_check_report(s.db, institution.id, cycle.id, s.config.privacy.authors)


async def _round_reports(s: Services, cycle: storage.Cycle) -> list[reports.CheckReport]:
    return await reports.load_round_reports(s.db, cycle.id, s.config.privacy.authors)


async def _status_row(s: Services, report: reports.CheckReport) -> dict[str, object]:
    members = await storage.members_of(s.db, report.institution.id)
    answers = {key: Answer(a.value, a.text) for key, a in report.answers.items()}
    state = s.dialogue.initial(answers)
    return {
        "institution": report.institution,
        "answered": len(s.dialogue.positions) - len(s.dialogue.open_questions(state)),
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
