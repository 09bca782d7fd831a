"""What coordinators' commands share: who may run them, who did it, how to answer."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType

import storage
from bot.core.access import coordination_chat, is_coordinator
from bot.services import Services
from bot.telegram.context import BotContext

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
CoordinatorHandler = Callable[[Update, BotContext, Services], Coroutine[Any, Any, None]]


def coordinator_only(handler: CoordinatorHandler) -> Handler:
    """Run the handler for a coordinator in a private or the coordination chat, else refuse."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        s = await allowed(update, context)
        if s is not None:
            await handler(update, context, s)

    return guarded


async def allowed(update: Update, context: BotContext) -> Services | None:
    """Return the services for a coordinator in a private or the coordination chat, else refuse."""
    s = context.services
    user, chat = update.effective_user, update.effective_chat
    assert chat is not None
    in_place = chat.type == ChatType.PRIVATE or chat.id == await coordination_chat(s.db, s.config)
    if user is not None and is_coordinator(s.coordinators, user.id) and in_place:
        return s
    template = "coordinator_only" if chat.type == ChatType.PRIVATE else "coordinator_wrong_chat"
    await context.bot.send_message(chat.id, s.templates.render(s.config.checks.language, template))
    return None


def actor(update: Update) -> storage.Actor:
    """Return the coordinator who sent the update as the actor of what follows."""
    user = update.effective_user
    assert user is not None  # coordinator commands come from users
    return storage.Actor.coordinator(user.id)


async def say(
    update: Update, context: BotContext, s: Services, template: str, **values: object
) -> None:
    """Answer in the chat of the update, in the coordinators' language (the configured one)."""
    assert update.effective_chat is not None
    text = s.templates.render(s.config.checks.language, template, **values)
    await context.bot.send_message(update.effective_chat.id, text)
