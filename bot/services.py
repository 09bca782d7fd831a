"""What every handler needs, opened once in post_init and closed in post_shutdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import storage
from bot.catalogue import load_catalogue
from bot.config import Config
from bot.core.access import Coordinators, load_coordinators
from bot.core.checks import Checks, utc_now
from bot.core.digest import Digests
from bot.core.handovers import Settlement
from bot.render.presenter import Presenter
from bot.render.templates import LANGUAGES, Templates
from dialogues.engine import Dialogue

if TYPE_CHECKING:  # only a type here: the use cases that need Services stay free of telegram
    from telegram import User

SERVICES = "services"


@dataclass
class Services:
    config: Config
    db: storage.Database
    dialogue: Dialogue
    templates: Templates
    presenter: Presenter
    checks: Checks
    clock: Callable[[], datetime]
    # Refreshed before every update when the database changed (Coordinators.current).
    coordinators: Coordinators

    def language_for(self, user: User | None, member: storage.Member | None = None) -> str:
        """Return the member's language, else the user's Telegram language if we speak it."""
        if member is not None:
            return member.language
        code = (user.language_code or "")[:2] if user else ""
        return code if code in LANGUAGES else self.config.checks.language


async def open_services(config: Config, clock: Callable[[], datetime] = utc_now) -> Services:
    """Load the catalogue and templates and open the database."""
    catalogue = load_catalogue(config.checks.catalogue_path)
    dialogue = Dialogue(catalogue, max_text=config.telegram.max_text_length)
    templates = Templates(config.checks.tz)
    db = await storage.open_database(config.storage.path)
    presenter = Presenter(dialogue, templates)
    digests = Digests(config, presenter)
    settlement = Settlement(dialogue, templates)
    checks = Checks(
        db, dialogue, clock, on_submitted=digests.submitted, on_answered=settlement.settle
    )
    return Services(
        config,
        db,
        dialogue,
        templates,
        presenter,
        checks,
        clock,
        await load_coordinators(db, config),
    )
