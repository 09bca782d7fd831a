"""A round with institutions and their members, stored as the CLI and /start would store them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from botharness import make_config
from fakebot import FakeBotApi, Request

import storage
from bot.catalogue import load_catalogue
from bot.config import Config
from bot.reminders.schedule import reminder_times

CATALOGUE = load_catalogue()
GROUP = -1001234567890
ROUND = "Runde 2027"


def configure(tmp_path: Path, server: FakeBotApi, level: str = "INFO") -> tuple[Config, Path]:
    """Write a config for the fake server with a coordination group; return it and its path."""
    server.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f'coordination_chat_id = {GROUP}\n\n[logging]\nlevel = "{level}"\n'
    return make_config(tmp_path, server, extra), tmp_path / "config.toml"


async def set_up(config: Config, staff: dict[str, int], deadline: date, now: datetime) -> None:
    """Open a round and add one institution per short name with its one member (a user id)."""
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        await storage.open_cycle(db, ROUND, CATALOGUE.id, CATALOGUE.version, deadline, now)
        for short, user_id in staff.items():
            institution = await storage.add_institution(
                db, short, f"Amt {short}", f"code{short}", now
            )
            await storage.join_institution(db, user_id, institution.id, f"P{user_id}", "de", now)


def digest_files(short: str) -> dict[str, str]:
    """Return the file names of an institution's digest attachments, by outbox kind."""
    stem = f"ChancenCheck_{short}_{ROUND}".replace(" ", "_")
    return {"chart": f"{stem}.png", "report": f"{stem}.pdf", "export": f"{stem}.xlsx"}


def group_sends(server: FakeBotApi) -> list[Request]:
    """Return the coordination group's messages that reached Telegram."""
    return [
        r
        for r in server.requests
        if str(r.params.get("chat_id")) == str(GROUP)
        and r.status == 200
        and r.method in ("sendMessage", "sendPhoto", "sendDocument")
    ]


def copies(server: FakeBotApi, kind: str, payload: dict[str, object], short: str) -> int:
    """Count how often one outbox message reached the group.

    Counted from what the group shows, not from the answers the bot got: a call whose answer
    was lost after Telegram acted (a dropped connection, a timeout) delivered it all the same.
    """
    shown = server.sent_to(GROUP)
    if kind == "message":
        return sum(m.kind == "text" and m.text == payload["text"] for m in shown)
    name = digest_files(short)[kind]
    return sum(m.file is not None and m.file[0] == name for m in shown)


def reminder_moment(deadline_days: int) -> tuple[date, datetime]:
    """Return a deadline and when its next reminder is due (with the default settings)."""
    now = datetime.now(UTC)
    deadline = now.date() + timedelta(days=deadline_days)
    times = reminder_times(deadline, (14, 7, 3, 1), time(9), True, ZoneInfo("Europe/Berlin"))
    return deadline, next(m for _, m in times if m > now + timedelta(minutes=5))


def reminders_received(server: FakeBotApi, user_id: int) -> int:
    """Count the reminders that reached a member (also those whose answer the bot never got)."""
    return sum("Erinnerung" in (m.text or "") for m in server.sent_to(user_id))


async def prefill(db_path: Path, user_id: int, count: int) -> None:
    """Store answers to the first `count` questions of the member's check, as if given before."""
    values = {"fulfilment": "partly", "potential": "no", "measures": "none"}
    positions = [(r.id, q.key) for r in CATALOGUE.requirements for q in CATALOGUE.questions]
    async with await storage.open_database(db_path) as db, db.transaction():
        member = await storage.member_by_user(db, user_id)
        cycle = await storage.current_cycle(db)
        assert member is not None and cycle is not None
        check = await storage.check_for(db, member.institution_id, cycle.id)
        for requirement_id, key in positions[:count]:
            await storage.record_answer(
                db,
                check.id,
                storage.NewAnswer(
                    requirement_id,
                    key,
                    values[key],
                    None,
                    member.id,
                    CATALOGUE.id,
                    CATALOGUE.version,
                ),
            )
