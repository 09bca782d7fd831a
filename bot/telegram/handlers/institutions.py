"""Coordinators' commands for institutions, their invite links and their members."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from telegram import Update
from telegram.error import TelegramError

import storage
from bot.core import admin, audit, institutions
from bot.services import Services
from bot.telegram.context import BotContext
from bot.telegram.handlers.guard import actor, coordinator_only, say

log = logging.getLogger(__name__)
NEW = {"neu", "new"}
T = TypeVar("T")


async def on_any_update(update: object, context: BotContext) -> None:
    """Re-read the stored coordinators if the CLI changed the database, for this update."""
    s = context.services
    s.coordinators = await s.coordinators.current(s.db)


@coordinator_only
async def on_add(update: Update, context: BotContext, s: Services) -> None:
    """Add an institution (/institution_neu SHORT Name) and reply with its invite link."""
    short, name = _two_arguments(update)
    if not name:
        await say(update, context, s, "institution_usage", command="institution_neu")
        return
    invitation = await _carry_out(
        update, context, s, admin.add_institution(s.db, short, name, actor(update))
    )
    if invitation is not None:
        await say(
            update,
            context,
            s,
            "institution_created",
            institution=invitation.institution,
            link=invitation.link(context.bot.username),
        )


@coordinator_only
async def on_rename(update: Update, context: BotContext, s: Services) -> None:
    """Give an institution a new name (/institution_umbenennen SHORT New name)."""
    short, name = _two_arguments(update)
    if not name:
        await say(update, context, s, "institution_usage", command="institution_umbenennen")
        return
    renamed = await _carry_out(
        update, context, s, institutions.rename(s.db, short, name, actor(update))
    )
    if renamed is not None:
        await say(update, context, s, "institution_renamed", institution=renamed)


@coordinator_only
async def on_remove(update: Update, context: BotContext, s: Services) -> None:
    """Remove an institution that has no answers (/institution_entfernen SHORT)."""
    if not context.args:
        await say(update, context, s, "institution_usage", command="institution_entfernen")
        return
    # Never forced from the chat: deleting answers takes the command line and --force.
    removed = await _carry_out(
        update, context, s, institutions.remove(s.db, context.args[0], False, actor(update))
    )
    if removed is not None:
        await say(
            update,
            context,
            s,
            "institution_removed",
            institution=removed.institution,
            members=removed.members,
        )


@coordinator_only
async def on_invite(update: Update, context: BotContext, s: Services) -> None:
    """Replace an institution's invite link (/einladung SHORT neu); the old one stops working."""
    args = context.args or []
    if len(args) != 2 or args[1].lower() not in NEW:
        # Only a fingerprint of the code is stored, so the current link cannot be shown again.
        await say(update, context, s, "institution_usage", command="einladung")
        return
    invitation = await _carry_out(
        update, context, s, institutions.replace_invite(s.db, args[0], actor(update))
    )
    if invitation is not None:
        await say(
            update,
            context,
            s,
            "invite_replaced",
            institution=invitation.institution,
            link=invitation.link(context.bot.username),
        )


@coordinator_only
async def on_members(update: Update, context: BotContext, s: Services) -> None:
    """List an institution's members with their numbers (/mitglieder SHORT)."""
    if not context.args:
        await say(update, context, s, "institution_usage", command="mitglieder")
        return
    institution = await _carry_out(update, context, s, institutions.find(s.db, context.args[0]))
    if institution is not None:
        await audit.coordinator_action(
            s, actor(update), "view_members", institution_id=institution.id
        )
        members = await storage.members_of(s.db, institution.id)
        await say(
            update,
            context,
            s,
            "members",
            institution=institution,
            members=members,
            names=s.config.privacy.authors == "names",
        )


@coordinator_only
async def on_remove_member(update: Update, context: BotContext, s: Services) -> None:
    """Remove a member (/mitglied_entfernen SHORT first name or #number) and tell them."""
    short, who = _two_arguments(update)
    if not who:
        await say(update, context, s, "institution_usage", command="mitglied_entfernen")
        return
    member = await _carry_out(update, context, s, _find_member(s, short, who))
    if member is None:
        return
    await institutions.remove_member(s.db, member, actor(update))
    institution = await storage.institution_by_id(s.db, member.institution_id)
    await say(update, context, s, "member_removed", member=member, institution=institution)
    await _tell_removed(context, s, member, institution)


async def _find_member(s: Services, short: str, who: str) -> storage.Member:
    return await institutions.find_member(s.db, await institutions.find(s.db, short), who)


async def _tell_removed(
    context: BotContext,
    s: Services,
    member: storage.Member,
    institution: storage.Institution | None,
) -> None:
    """Tell the removed person, if Telegram lets us; their membership has ended either way."""
    assert member.telegram_user_id is not None
    text = s.templates.render(member.language, "member_removed_note", institution=institution)
    try:
        await context.bot.send_message(member.telegram_user_id, text)
    except TelegramError as exc:
        log.info("could not tell member %s of their removal: %s", member.id, exc)


async def _carry_out(
    update: Update, context: BotContext, s: Services, action: Awaitable[T]
) -> T | None:
    """Await the action; if it is refused, explain why and return None."""
    try:
        return await action
    except admin.AdminError as exc:
        await say(update, context, s, "institution_refused", key=exc.key, **exc.values)
        return None


def _two_arguments(update: Update) -> tuple[str, str]:
    """Split "/command SHORT rest of the line" into SHORT and the rest, kept as typed."""
    message = update.effective_message
    assert message is not None and message.text is not None
    parts = message.text.split(maxsplit=2)
    return (parts[1] if len(parts) > 1 else ""), (parts[2].strip() if len(parts) > 2 else "")
