"""The typed context every handler and job gets: PTB's, plus the services opened in post_init."""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.services import SERVICES, Services

Data: TypeAlias = dict[Any, Any]


class BotContext(CallbackContext[ExtBot[None], Data, Data, Data]):
    """CallbackContext with `services`: the one way a handler reaches the database and more."""

    @property
    def services(self) -> Services:
        services = self.application.bot_data[SERVICES]
        assert isinstance(services, Services), "services are opened in post_init"
        return services


# The Application the bot builds: with it, handlers and jobs are type-checked against BotContext.
BotApp: TypeAlias = Application[ExtBot[None], BotContext, Data, Data, Data, JobQueue[BotContext]]
CONTEXT_TYPES = ContextTypes(context=BotContext)
