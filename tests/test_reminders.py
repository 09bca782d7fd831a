"""The reminder sweep against a recording fake bot, with an injected clock (nothing sleeps)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

import storage
from bot.config import load_config
from bot.reminders.deadline import move_deadline
from bot.reminders.delivery import Outcome
from bot.reminders.schedule import summary_key
from bot.reminders.sweep import sweep
from bot.services import Services, open_services

DEADLINE = date(2027, 3, 30)  # a Tuesday, two days after the switch to summer time
OPENED = datetime(2027, 3, 1, 10, tzinfo=UTC)
SEVEN_DAYS = datetime(2027, 3, 23, 8, 0, 30, tzinfo=UTC)  # 09:00:30 CET, the 7-day reminder
ONE_DAY = datetime(2027, 3, 29, 7, 0, 30, tzinfo=UTC)  # 09:00:30 CEST, the 1-day reminder
DEADLINE_DAY = datetime(2027, 3, 30, 7, 5, tzinfo=UTC)
COORDINATION_CHAT = -1001234
CRASH = object()  # queued as a failure: Telegram delivers, then the process dies


@dataclass
class Sent:
    chat_id: int
    text: str
    callback_data: list[str]


@dataclass
class FakeBot:
    """Records send_message calls; raises, per chat, the failures queued for it first."""

    sent: list[Sent] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    failures: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))

    async def send_message(
        self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> Any:
        self.calls.append(chat_id)
        failure = self.failures[chat_id].pop(0) if self.failures[chat_id] else None
        if isinstance(failure, BaseException):
            raise failure
        data = [
            b.callback_data
            for row in (reply_markup.inline_keyboard if reply_markup else ())
            for b in row
        ]
        self.sent.append(Sent(chat_id, text, data))
        if failure is CRASH:
            raise asyncio.CancelledError("the process died")
        return type("Message", (), {"message_id": len(self.sent)})()

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]


@dataclass
class World:
    services: Services
    cycle: storage.Cycle
    members: dict[int, storage.Member]  # by Telegram user id
    checks: dict[str, storage.Check]  # by institution short name
    bot: FakeBot = field(default_factory=FakeBot)
    sleeps: list[float] = field(default_factory=list)

    async def sweep(self, now: datetime) -> dict[Outcome, int]:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        report = await sweep(self.services, self.bot, now, sleep)  # type: ignore[arg-type]
        return report.outcomes

    async def rows(self) -> list[storage.Reminder]:
        return await storage.reminders_of_cycle(self.services.db, self.cycle.id)


STAFF = {"ABH": (101, 102, 103), "VHS": (201, 202), "IFT": (301,)}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        f"[telegram]\ncoordination_chat_id = {COORDINATION_CHAT}\ncoordinators = [900]\n"
        '[storage]\npath = "bot.sqlite3"\n[reminders]\ndays_before = [14, 7, 3, 1, 0]\n',
        encoding="utf-8",
    )
    services = await open_services(load_config(config_path, env={}), lambda: OPENED)
    db, catalogue = services.db, services.dialogue.catalogue
    members, checks = {}, {}
    async with db.transaction():
        cycle = await storage.open_cycle(
            db, "Runde 2027", catalogue.id, catalogue.version, DEADLINE, OPENED
        )
        for short, users in STAFF.items():
            institution = await storage.add_institution(
                db, short, f"Einrichtung {short}", f"code-{short}", OPENED
            )
            checks[short] = await storage.check_for(db, institution.id, cycle.id)
            for user_id in users:
                members[user_id] = await storage.join_institution(
                    db, user_id, institution.id, f"Person {user_id}", "de", OPENED
                )
    yield World(services, cycle, members, checks)
    await services.db.close()


async def answer(world: World, short: str, requirement_ids: list[str]) -> None:
    db, catalogue = world.services.db, world.services.dialogue.catalogue
    async with db.transaction():
        for requirement_id in requirement_ids:
            for key, value in (("fulfilment", "full"), ("potential", "no"), ("measures", "none")):
                await storage.record_answer(
                    db,
                    world.checks[short].id,
                    storage.NewAnswer(
                        requirement_id, key, value, None, None, catalogue.id, catalogue.version
                    ),
                    OPENED,
                )


async def submit(world: World, short: str) -> None:
    async with world.services.db.transaction():
        await storage.submit_check(world.services.db, world.checks[short].id, None, OPENED)


ALL = [user for users in STAFF.values() for user in users]


async def test_each_member_of_an_open_check_gets_the_reminder_once(world: World) -> None:
    await answer(world, "ABH", ["Z1", "Z2"])
    assert await world.sweep(SEVEN_DAYS - timedelta(minutes=1)) == {}  # 08:59: not yet
    assert await world.sweep(SEVEN_DAYS) == {Outcome.SENT: len(ALL)}
    assert await world.sweep(SEVEN_DAYS) == {}
    assert await world.sweep(SEVEN_DAYS + timedelta(hours=3)) == {}
    assert sorted(s.chat_id for s in world.bot.sent) == sorted(ALL)
    text = world.bot.to(101)[0].text
    assert "in 7 Tagen fällig" in text and "30.03.2027" in text and "Einrichtung ABH" in text
    assert "6 von 45 Fragen beantwortet" in text and "Z3, ZU1" in text
    assert world.bot.to(101)[0].callback_data == ["r"]  # the dialogue's Resume: next open question
    assert all(r.status == "sent" and r.days_before == 7 for r in await world.rows())


async def test_after_downtime_a_member_gets_the_latest_missed_reminder_only(world: World) -> None:
    back = datetime(2027, 3, 29, 13, tzinfo=UTC)  # down since before the 14-day reminder
    assert await world.sweep(back) == {Outcome.SENT: len(ALL)}
    assert {r.days_before for r in await world.rows()} == {1}
    assert "morgen fällig" in world.bot.to(201)[0].text
    assert await world.sweep(DEADLINE_DAY) == {Outcome.SENT: len(ALL)}
    last = world.bot.to(201)[-1].text
    assert "Heute ist der letzte Tag" in last
    assert len(world.bot.to(201)) == 2


async def test_a_missed_reminder_waits_for_the_morning_instead_of_the_night(world: World) -> None:
    night = datetime(2027, 3, 23, 22, 30, tzinfo=UTC)  # 23:30, the 7-day reminder was missed
    assert await world.sweep(night) == {}
    assert await world.sweep(datetime(2027, 3, 24, 8, 1, tzinfo=UTC)) == {Outcome.SENT: len(ALL)}
    assert "in 6 Tagen fällig" in world.bot.to(101)[0].text  # what is true when it arrives


async def test_nothing_after_submission(world: World) -> None:
    await submit(world, "ABH")
    await world.sweep(SEVEN_DAYS)
    assert {s.chat_id for s in world.bot.sent} == {201, 202, 301}


async def test_nothing_after_the_deadline_but_the_summary_once(world: World) -> None:
    await submit(world, "IFT")
    await answer(world, "VHS", ["Z1"])
    late = datetime(2027, 3, 30, 22, 0, tzinfo=UTC)  # midnight CEST: the deadline has passed
    await world.sweep(late)
    await world.sweep(late + timedelta(days=1, hours=9))
    assert world.bot.sent == []
    db = world.services.db
    queued = await storage.due(db, late + timedelta(days=2))
    assert [(m.key, m.chat_id, m.kind) for m in queued] == [
        (summary_key(world.cycle.id, DEADLINE), COORDINATION_CHAT, "message")
    ]
    text = queued[0].payload["text"]
    assert "Frist der Runde 2027 ist abgelaufen" in text  # not "Runde Runde 2027"
    assert "2 von 3 Einrichtungen" in text and "ABH" in text and "VHS" in text
    assert "IFT" not in text and "3 von 45" in text
    # A restarted bot (new services, nothing remembered in memory) queues nothing again.
    restarted = await open_services(world.services.config, lambda: late)
    report = await sweep(restarted, world.bot, late)  # type: ignore[arg-type]
    await restarted.db.close()
    assert not report.summary_queued
    assert len(await storage.due(db, late + timedelta(days=2))) == 1


async def test_members_who_opted_out_or_joined_later_get_nothing(world: World) -> None:
    db = world.services.db
    async with db.transaction():
        await storage.set_reminders(db, world.members[102].id, False)
        institution = world.members[101].institution_id
        await storage.join_institution(
            db, 104, institution, "Neu", "de", SEVEN_DAYS + timedelta(hours=1)
        )
    await world.sweep(SEVEN_DAYS + timedelta(hours=2))
    assert 102 not in {s.chat_id for s in world.bot.sent}
    assert 104 not in {s.chat_id for s in world.bot.sent}  # joined after the 7-day reminder
    await world.sweep(datetime(2027, 3, 26, 8, 0, tzinfo=UTC))  # the 3-day one, on Friday
    assert len(world.bot.to(104)) == 1 and world.bot.to(102) == []


async def test_a_blocked_member_is_marked_unreachable_and_the_others_get_theirs(
    world: World,
) -> None:
    world.bot.failures[102].append(Forbidden("Forbidden: bot was blocked by the user"))
    assert await world.sweep(SEVEN_DAYS) == {Outcome.SENT: len(ALL) - 1, Outcome.BLOCKED: 1}
    member = await storage.member_by_user(world.services.db, 102)
    assert member is not None and member.unreachable
    await world.sweep(ONE_DAY)
    assert world.bot.calls.count(102) == 1  # never tried again while unreachable
    assert len(world.bot.to(101)) == 2


async def test_retry_after_waits_and_sends_the_same_message_once(world: World) -> None:
    world.bot.failures[201] += [RetryAfter(3), RetryAfter(5)]
    assert await world.sweep(SEVEN_DAYS) == {Outcome.SENT: len(ALL)}
    assert world.sleeps == [3, 5]
    assert world.bot.calls.count(201) == 3 and len(world.bot.to(201)) == 1


async def test_endless_flood_control_stops_the_sweep_and_loses_nothing(world: World) -> None:
    world.bot.failures[101] += [RetryAfter(1)] * 4 + [RetryAfter(600)]
    assert await world.sweep(SEVEN_DAYS) == {Outcome.FLOODED: 1}
    assert world.sleeps == [1, 1, 1]
    assert await world.sweep(SEVEN_DAYS + timedelta(minutes=1)) == {Outcome.FLOODED: 1}
    assert world.sleeps == [1, 1, 1]  # ten minutes are not waited for inside a sweep
    assert world.bot.sent == []
    assert await world.sweep(SEVEN_DAYS + timedelta(minutes=2)) == {Outcome.SENT: len(ALL)}
    assert sorted(s.chat_id for s in world.bot.sent) == sorted(ALL)


async def test_an_error_that_sent_nothing_is_tried_again_next_sweep(world: World) -> None:
    refused = NetworkError("Bad Gateway")  # Telegram answered 502: nothing was sent
    no_connection = TimedOut()
    no_connection.__cause__ = httpx.ConnectTimeout("connect timed out")
    world.bot.failures[101].append(refused)
    world.bot.failures[201].append(no_connection)
    assert await world.sweep(SEVEN_DAYS) == {Outcome.RETRY: 1}  # stops: Telegram is not well
    # Institutions go by short name: ABH, IFT, then VHS, where 201 stops the sweep again.
    assert await world.sweep(SEVEN_DAYS + timedelta(minutes=1)) == {
        Outcome.SENT: 4,
        Outcome.RETRY: 1,
    }
    assert await world.sweep(SEVEN_DAYS + timedelta(minutes=2)) == {Outcome.SENT: 2}
    assert sorted(s.chat_id for s in world.bot.sent) == sorted(ALL)


async def test_an_error_after_which_telegram_may_have_sent_it_is_not_repeated(world: World) -> None:
    lost_answer = TimedOut()
    lost_answer.__cause__ = httpx.ReadTimeout("read timed out")
    world.bot.failures[101].append(lost_answer)
    assert await world.sweep(SEVEN_DAYS) == {Outcome.SENT: len(ALL) - 1, Outcome.UNCERTAIN: 1}
    await world.sweep(SEVEN_DAYS + timedelta(minutes=1))
    assert world.bot.calls.count(101) == 1
    assert {r.status for r in await world.rows() if r.member_id == world.members[101].id} == {
        "uncertain"
    }


async def test_a_crash_between_sending_and_recording_does_not_send_twice(world: World) -> None:
    world.bot.failures[102].append(CRASH)
    with pytest.raises(asyncio.CancelledError):
        await world.sweep(SEVEN_DAYS)
    assert [s.chat_id for s in world.bot.sent] == [101, 102]
    # The restarted bot sweeps again: 102's reminder may have arrived, so it is not repeated.
    assert await world.sweep(SEVEN_DAYS + timedelta(seconds=30)) == {Outcome.SENT: len(ALL) - 2}
    assert sorted(s.chat_id for s in world.bot.sent) == sorted(ALL)
    statuses = {r.member_id: r.status for r in await world.rows()}
    assert statuses[world.members[102].id] == "uncertain"


async def test_a_bad_request_fails_that_message_only(world: World) -> None:
    world.bot.failures[101].append(BadRequest("Bad Request: can't parse entities"))
    assert await world.sweep(SEVEN_DAYS) == {Outcome.SENT: len(ALL) - 1, Outcome.FAILED: 1}
    member = await storage.member_by_user(world.services.db, 101)
    assert member is not None and not member.unreachable


async def test_two_sweeps_at_once_send_each_reminder_once(world: World) -> None:
    await asyncio.gather(world.sweep(SEVEN_DAYS), world.sweep(SEVEN_DAYS))
    assert sorted(s.chat_id for s in world.bot.sent) == sorted(ALL)


async def test_a_moved_deadline_is_told_once_and_reminders_follow_it(world: World) -> None:
    await submit(world, "IFT")
    await world.sweep(ONE_DAY)  # the 1-day reminder for the old deadline
    moved_at = ONE_DAY + timedelta(hours=1)
    move = await move_deadline(world.services.db, world.cycle, date(2027, 4, 13), 900, moved_at)
    assert (move.told, move.institutions) == (5, 2)
    assert await world.sweep(moved_at) == {Outcome.SENT: 5}
    assert await world.sweep(moved_at + timedelta(minutes=1)) == {}
    notice = world.bot.to(201)[-1].text
    assert (
        "vom 30.03.2027 auf den <b>13.04.2027</b>" in notice and world.bot.to(201)[-1].callback_data
    )
    assert world.bot.to(301) == []
    # The schedule starts again from the new deadline; the old 1-day key does not block the new.
    await world.sweep(datetime(2027, 4, 12, 7, 1, tzinfo=UTC))
    assert "morgen fällig" in world.bot.to(201)[-1].text
    assert [len(world.bot.to(u)) for u in (101, 201, 301)] == [3, 3, 0]


async def test_a_notice_made_obsolete_before_sending_is_dropped(world: World) -> None:
    db = world.services.db
    first = await move_deadline(db, world.cycle, date(2027, 4, 13), 900, ONE_DAY)
    cycle = await storage.current_cycle(db)
    assert cycle is not None
    await move_deadline(db, cycle, date(2027, 4, 20), 900, ONE_DAY)
    await submit(world, "VHS")
    await world.sweep(ONE_DAY)
    assert {s.chat_id for s in world.bot.sent} == {101, 102, 103, 301}  # the latest notice only
    assert all("20.04.2027" in s.text for s in world.bot.sent)
    statuses = [
        r.status
        for r in await world.rows()
        if r.key.startswith(f"deadline_moved:{first.change.id}:")
    ]
    assert statuses == ["dropped"] * 6
