"""What coordinators set up: institutions with invite codes, and assessment rounds."""

from __future__ import annotations

import re
import secrets
from datetime import date

import storage
from dialogues.catalogue import Catalogue

SHORT_NAME = re.compile(r"^[A-Za-z0-9]{1,12}$")
# 16 random bytes: 128 bits, beyond guessing; token_urlsafe is safe in a deep link.
INVITE_BYTES = 16


class AdminError(Exception):
    """A coordinator's request that cannot be carried out, with what to do instead."""


def new_invite_code() -> str:
    return secrets.token_urlsafe(INVITE_BYTES)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def add_institution(db: storage.Database, short: str, name: str) -> storage.Institution:
    """Create an institution with a fresh invite code (and a check in the open round)."""
    if not SHORT_NAME.match(short):
        raise AdminError(f"short name {short!r}: use 1–12 letters or digits, for example ABH")
    if not name.strip():
        raise AdminError("the institution needs a name, for example \"Ausländerbehörde\"")
    async with db.transaction():
        if await storage.institution_by_short(db, short.upper()):
            raise AdminError(f"an institution {short.upper()} exists already")
        return await storage.add_institution(db, short.upper(), name.strip(), new_invite_code())


async def open_round(db: storage.Database, catalogue: Catalogue, name: str,
                     deadline: date, today: date) -> storage.Cycle:
    """Open an assessment round with the loaded catalogue; one round is open at a time."""
    if deadline < today:
        raise AdminError(f"the deadline {deadline.isoformat()} has passed; choose a later date")
    async with db.transaction():
        current = await storage.current_cycle(db)
        if current is not None:
            raise AdminError(
                f"round {current.name!r} is still open; close it first with: "
                f"chancencheck cycle close {current.name!r}"
            )
        if await storage.cycle_by_name(db, name):
            raise AdminError(f"a round called {name!r} exists already; choose another name")
        return await storage.open_cycle(db, name, catalogue.id, catalogue.version, deadline)
