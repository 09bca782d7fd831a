"""What coordinators set up: institutions with invite codes, and assessment rounds."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

import storage
from dialogues.catalogue import Catalogue

SHORT_NAME = re.compile(r"^[A-Za-z0-9]{1,12}$")
# 16 random bytes: 128 bits, beyond guessing; token_urlsafe is safe in a deep link.
INVITE_BYTES = 16
NAME_LENGTH = 100  # an institution's full name, to fit a line in lists and reports
ROUND_NAME_LENGTH = 40  # a round's name, such as "2027" or "Runde 2027"


class AdminError(Exception):
    """A coordinator's request that cannot be carried out, with what to do instead."""

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(message)
        self.key = key  # names the bot's own explanation (template institution_refused)
        self.values = values


@dataclass(frozen=True)
class Invitation:
    """An institution with its invite code, which only exists until it is shown once."""

    institution: storage.Institution
    code: str

    def link(self, bot_username: str) -> str:
        return invite_link(bot_username, self.code)


def new_invite_code() -> str:
    return secrets.token_urlsafe(INVITE_BYTES)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def add_institution(
    db: storage.Database, short: str, name: str, actor: storage.Actor = storage.CLI
) -> Invitation:
    """Create an institution with a fresh invite code (and a check in the open round)."""
    if not SHORT_NAME.match(short):
        raise AdminError(
            f"short name {short!r}: use 1–12 letters or digits, for example ABH",
            "bad_short",
            short=short,
        )
    check_name(name)
    code = new_invite_code()
    async with db.transaction():
        if await storage.institution_by_short(db, short.upper()):
            raise AdminError(
                f"an institution {short.upper()} exists already", "exists", short=short.upper()
            )
        institution = await storage.add_institution(db, short.upper(), name.strip(), code)
        await storage.record_audit(
            db,
            actor,
            "institution_add",
            institution_id=institution.id,
            detail={"short": institution.short, "name": institution.name},
        )
    return Invitation(institution, code)


def check_name(name: str) -> None:
    """Refuse an empty or overlong institution name."""
    if not name.strip() or len(name.strip()) > NAME_LENGTH:
        raise AdminError(
            f"the institution needs a name of 1–{NAME_LENGTH} characters, for "
            'example "Ausländerbehörde"',
            "bad_name",
            limit=NAME_LENGTH,
        )


async def open_round(
    db: storage.Database,
    catalogue: Catalogue,
    name: str,
    deadline: date,
    today: date,
    actor: storage.Actor = storage.CLI,
) -> storage.Cycle:
    """Open an assessment round with the loaded catalogue; one round is open at a time."""
    name = name.strip()
    if not name or len(name) > ROUND_NAME_LENGTH:
        raise AdminError(
            f"a round needs a name of 1–{ROUND_NAME_LENGTH} characters, for example 2027",
            "round_bad_name",
            limit=ROUND_NAME_LENGTH,
        )
    if deadline < today:
        raise AdminError(
            f"the deadline {deadline.isoformat()} has passed; choose a later date",
            "round_deadline_past",
            deadline=deadline,
        )
    async with db.transaction():
        current = await storage.current_cycle(db)
        if current is not None:
            raise AdminError(
                f"round {current.name!r} is still open; close it first with: "
                f"chancencheck cycle close {current.name!r}",
                "round_still_open",
                current=current.name,
            )
        if await storage.cycle_by_name(db, name):
            raise AdminError(
                f"a round called {name!r} exists already; choose another name",
                "round_name_taken",
                name=name,
            )
        # The round keeps the catalogue's content, so it stays readable in its own wording.
        content = catalogue.model_dump_json()
        cycle = await storage.open_cycle(
            db, name, catalogue.id, catalogue.version, deadline, catalogue=content
        )
        await storage.record_audit(
            db,
            actor,
            "cycle_open",
            cycle_id=cycle.id,
            detail={"name": name, "deadline": deadline.isoformat()},
        )
        return cycle
