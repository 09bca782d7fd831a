"""Storage of reminders and deadline changes, and `chancencheck cycle deadline`."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.entry import main
from storage.cycles import current_cycle, open_cycle
from storage.db import Database, open_database
from storage.errors import NotFoundError
from storage.institutions import add_institution
from storage.members import join_institution
from storage.reminders import (
    abandon_sending,
    claim_pending,
    claim_reminder,
    last_deadline_change,
    mark_reminder,
    mark_reminder_sent,
    pending_notices,
    queue_notice,
    reminders_of_cycle,
    set_deadline,
)

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
DEADLINE = date(2027, 3, 31)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "bot.sqlite3")
    async with database.transaction():
        await open_cycle(database, "2027", "cclu", "v1", DEADLINE, NOW)
        institution = await add_institution(database, "ABH", "Ausländerbehörde", "code", NOW)
        for user in (1, 2):
            await join_institution(database, user, institution.id, f"P{user}", "de", NOW)
    yield database
    await database.close()


async def test_set_deadline_moves_it_and_keeps_the_history(db: Database) -> None:
    assert await last_deadline_change(db, 1) is None
    async with db.transaction():
        first = await set_deadline(db, 1, date(2027, 4, 14), 900, NOW)
        second = await set_deadline(db, 1, date(2027, 4, 21), None, NOW + timedelta(hours=1))
    assert (first.old_deadline, first.new_deadline, first.changed_by) == (
        DEADLINE,
        date(2027, 4, 14),
        900,
    )
    assert await last_deadline_change(db, 1) == second
    cycle = await current_cycle(db)
    assert cycle is not None and cycle.deadline == date(2027, 4, 21)
    with pytest.raises(NotFoundError):
        async with db.transaction():
            await set_deadline(db, 99, date(2027, 4, 14))


async def test_a_reminder_is_claimed_once_unless_it_surely_failed(db: Database) -> None:
    key = "reminder:1:2027-03-31:7:1"
    async with db.transaction():
        row = await claim_reminder(db, key, 1, 1, DEADLINE, 7, NOW)
        assert row is not None and (row.status, row.attempts) == ("sending", 1)
        assert await claim_reminder(db, key, 1, 1, DEADLINE, 7, NOW) is None
        await mark_reminder(db, row.id, "pending", "Bad Gateway", NOW)
        again = await claim_reminder(db, key, 1, 1, DEADLINE, 7, NOW)
        assert again is not None and again.attempts == 2
        sent = await mark_reminder_sent(db, again.id, 77, NOW)
        assert (sent.status, sent.message_id, sent.error) == ("sent", 77, None)
        assert await claim_reminder(db, key, 1, 1, DEADLINE, 7, NOW) is None


async def test_a_later_reminder_supersedes_one_still_pending(db: Database) -> None:
    async with db.transaction():
        old = await claim_reminder(db, "reminder:1:2027-03-31:7:1", 1, 1, DEADLINE, 7, NOW)
        assert old is not None
        await mark_reminder(db, old.id, "pending", "no connection", NOW)
        await claim_reminder(db, "reminder:1:2027-03-31:3:1", 1, 1, DEADLINE, 3, NOW)
    assert [(r.days_before, r.status) for r in await reminders_of_cycle(db, 1)] == [
        (7, "dropped"),
        (3, "sending"),
    ]


async def test_notices_are_queued_once_and_claimed_once(db: Database) -> None:
    async with db.transaction():
        first = await queue_notice(db, "deadline_moved:1:1", 1, 1, DEADLINE, NOW)
        same = await queue_notice(db, "deadline_moved:1:1", 1, 1, DEADLINE, NOW)
        assert first == same and first.status == "pending" and first.days_before is None
        assert await pending_notices(db) == [first]
        claimed = await claim_pending(db, first.id, NOW)
        assert claimed is not None and claimed.status == "sending"
        assert await claim_pending(db, first.id, NOW) is None
    assert await pending_notices(db) == []


async def test_a_crash_leaves_sending_rows_that_become_uncertain(db: Database) -> None:
    async with db.transaction():
        await claim_reminder(db, "reminder:1:2027-03-31:7:1", 1, 1, DEADLINE, 7, NOW)
        await claim_reminder(db, "reminder:1:2027-03-31:7:2", 1, 2, DEADLINE, 7, NOW)
        assert await abandon_sending(db, NOW) == 2
        assert await abandon_sending(db, NOW) == 0
    assert {r.status for r in await reminders_of_cycle(db, 1)} == {"uncertain"}


async def test_the_schema_refuses_rows_the_domain_does_not_allow(db: Database) -> None:
    async with db.transaction():
        row = await claim_reminder(db, "reminder:1:2027-03-31:7:1", 1, 1, DEADLINE, 7, NOW)
    assert row is not None
    with pytest.raises(ValueError, match="status 'sent'"):
        async with db.transaction():
            await mark_reminder(db, row.id, "sent", None, NOW)  # sent needs a message id
    bad = [
        "UPDATE reminders SET status = 'sent'",  # without message_id
        "UPDATE reminders SET days_before = NULL",  # a reminder names its offset
        "UPDATE reminders SET status = 'lost'",
        "UPDATE reminders SET deadline = '2027-02-30'",
    ]
    for sql in bad:
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction():
                await db.writer.execute(sql)


def test_cycle_deadline_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "cli.sqlite3"\n', encoding="utf-8")
    args = ["--config", str(config)]
    later = date.today() + timedelta(days=60)
    assert main([*args, "cycle", "deadline", later.isoformat()]) == 2
    assert "no round is open" in capsys.readouterr().err
    assert main([*args, "institution", "add", "ABH", "Ausländerbehörde"]) == 0
    first = date.today() + timedelta(days=30)
    assert main([*args, "cycle", "open", "2027", "--deadline", first.isoformat()]) == 0
    capsys.readouterr()
    assert main([*args, "cycle", "deadline", later.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"from {first.isoformat()} to {later.isoformat()}" in out and "0 members" in out
    assert main([*args, "cycle", "deadline", later.isoformat()]) == 2
    assert "is the deadline already" in capsys.readouterr().err
    yesterday = date.today() - timedelta(days=1)
    assert main([*args, "cycle", "deadline", yesterday.isoformat()]) == 2
    assert "has passed" in capsys.readouterr().err
