"""Storage: the typed functions of each table, on a real database file."""

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# Imported from the modules, not the package: see the note in test_storage.py.
from storage.answers import NewAnswer, current_answers, last_activity, record_answer, revisions
from storage.checks import Check, check_by_id, check_for, reopen_check, submit_check
from storage.cycles import close_cycle, current_cycle, cycle_by_name, list_cycles, open_cycle
from storage.db import Database, open_database
from storage.errors import DuplicateError, NotFoundError
from storage.institutions import (
    Institution,
    add_institution,
    institution_by_code,
    institution_by_id,
    institution_by_short,
    list_institutions,
)
from storage.members import (
    Member,
    forget_member,
    join_institution,
    member_by_id,
    member_by_user,
    members_of,
    set_language,
    set_reminders,
    set_role,
    set_unreachable,
    touch_member,
)
from storage.outbox import due, enqueue, mark_delivered, mark_failed
from storage.positions import SavedPosition as Position
from storage.positions import load_position, save_position
from storage.sql import fetch_value

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DEADLINE = date(2026, 3, 31)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@dataclass(frozen=True)
class World:
    institution: Institution
    member: Member
    check: Check


async def world(db: Database) -> World:
    """Open a cycle with one institution, one member and their check."""
    async with db.transaction():
        cycle = await open_cycle(db, "2026", "cclu", "v1", DEADLINE, NOW)
        institution = await add_institution(db, "ABH", "Ausländerbehörde", "abh-code", NOW)
        member = await join_institution(db, 1001, institution.id, "Ana", "de", NOW)
        check = await check_for(db, institution.id, cycle.id)
    return World(institution, member, check)


async def answer(
    db: Database, w: World, key: str, value: str, at: datetime, text: str | None = None
) -> None:
    await record_answer(
        db, w.check.id, NewAnswer("K1", key, value, text, w.member.id, "cclu", "v1"), at
    )


# Institutions


async def test_institutions_are_found_by_short_code_and_id(db: Database) -> None:
    async with db.transaction():
        abh = await add_institution(db, "ABH", "Ausländerbehörde", "abh-code", NOW)
        vhs = await add_institution(db, "VHS", "Volkshochschule", "vhs-code", NOW)
    assert await institution_by_short(db, "abh") == abh  # case does not matter
    assert await institution_by_code(db, "vhs-code") == vhs
    assert await institution_by_code(db, "VHS-CODE") is None  # codes are exact
    assert await institution_by_id(db, vhs.id) == vhs
    assert await institution_by_short(db, "AA") is None
    assert await list_institutions(db) == [abh, vhs]
    assert abh.created_at == NOW


async def test_an_institution_added_before_any_cycle_has_no_check(db: Database) -> None:
    async with db.transaction():
        await add_institution(db, "ABH", "Ausländerbehörde", "abh-code", NOW)
    assert await current_cycle(db) is None
    assert list(await db.conn.execute_fetchall("SELECT * FROM checks")) == []


async def test_an_institution_added_during_an_open_cycle_gets_a_check(db: Database) -> None:
    async with db.transaction():
        cycle = await open_cycle(db, "2026", "cclu", "v1", DEADLINE, NOW)
        late = await add_institution(db, "WBL", "Wirtschaftsbetrieb", "wbl-code", NOW)
    rows = await db.conn.execute_fetchall("SELECT institution_id, cycle_id, status FROM checks")
    assert [tuple(row) for row in rows] == [(late.id, cycle.id, "open")]


# Cycles


async def test_opening_a_cycle_creates_an_open_check_for_every_institution(db: Database) -> None:
    async with db.transaction():
        institutions = [
            await add_institution(db, short, short, f"{short}-code", NOW)
            for short in ("ABH", "AA", "IFT")
        ]
        cycle = await open_cycle(db, "2026", "cclu", "v1", DEADLINE, NOW)
        checks = [await check_for(db, i.id, cycle.id) for i in institutions]
    assert await fetch_value(db.conn, "SELECT count(*) FROM checks") == 3
    assert [c.status for c in checks] == ["open"] * 3
    assert {c.institution_id for c in checks} == {i.id for i in institutions}


async def test_the_current_cycle_is_the_latest_open_one(db: Database) -> None:
    async with db.transaction():
        first = await open_cycle(db, "2025", "cclu", "v1", date(2025, 3, 31), NOW)
        second = await open_cycle(db, "2026", "cclu", "v2", DEADLINE, NOW + timedelta(days=1))
    assert await current_cycle(db) == second
    assert second.deadline == DEADLINE and second.catalogue_version == "v2"
    async with db.transaction():
        closed = await close_cycle(db, second.id, NOW + timedelta(days=2))
        again = await close_cycle(db, second.id, NOW + timedelta(days=9))
    assert closed.closed_at == NOW + timedelta(days=2) == again.closed_at
    assert await current_cycle(db) == first
    assert [c.name for c in await list_cycles(db)] == ["2025", "2026"]
    assert await cycle_by_name(db, "2026") == closed


async def test_a_cycle_name_is_used_once(db: Database) -> None:
    async with db.transaction():
        await open_cycle(db, "2026", "cclu", "v1", DEADLINE, NOW)
        with pytest.raises(DuplicateError, match="2026"):
            await open_cycle(db, "2026", "cclu", "v1", DEADLINE, NOW)
        with pytest.raises(NotFoundError):
            await close_cycle(db, 99, NOW)
    assert len(await list_cycles(db)) == 1


# Checks


async def test_check_for_returns_the_existing_check(db: Database) -> None:
    w = await world(db)
    async with db.transaction():
        again = await check_for(db, w.institution.id, w.check.cycle_id)
    assert again == w.check


async def test_submitting_and_reopening_a_check(db: Database) -> None:
    w = await world(db)
    later = NOW + timedelta(hours=1)
    async with db.transaction():
        submitted = await submit_check(db, w.check.id, w.member.id, NOW)
        double_tap = await submit_check(db, w.check.id, w.member.id, later)
    assert submitted.status == "submitted" and submitted.submitted_by == w.member.id
    assert double_tap == submitted  # the first submission stays
    async with db.transaction():
        reopened = await reopen_check(db, w.check.id, later)
    assert reopened.status == "open" and reopened.reopened_at == later
    assert reopened.submitted_at == NOW  # the last submission is still on record
    assert await check_by_id(db, w.check.id) == reopened
    async with db.transaction():
        with pytest.raises(NotFoundError):
            await submit_check(db, 999, w.member.id, NOW)


# Members


async def test_joining_again_moves_the_member(db: Database) -> None:
    w = await world(db)
    async with db.transaction():
        jc = await add_institution(db, "JC", "Jobcenter", "jc-code", NOW)
        moved = await join_institution(db, 1001, jc.id, "Ana B.", "en", NOW + timedelta(days=1))
    assert moved.id == w.member.id and moved.institution_id == jc.id
    assert (moved.first_name, moved.language) == ("Ana B.", "en")
    assert moved.joined_at == NOW + timedelta(days=1)
    assert await members_of(db, w.institution.id) == []
    assert await members_of(db, jc.id) == [moved]
    assert await member_by_user(db, 1001) == moved


async def test_member_settings_are_stored(db: Database) -> None:
    w = await world(db)
    seen = NOW + timedelta(minutes=5)
    async with db.transaction():
        await set_language(db, w.member.id, "en")
        await set_reminders(db, w.member.id, False)
        await set_role(db, w.member.id, "coordinator")
        await set_unreachable(db, w.member.id, True)
        touched = await touch_member(db, w.member.id, seen)
    assert touched.language == "en" and touched.role == "coordinator"
    assert touched.reminders_enabled is False
    assert touched.last_seen_at == seen
    assert touched.unreachable is False  # a member who writes to the bot is reachable
    assert await member_by_id(db, w.member.id) == touched
    async with db.transaction():
        with pytest.raises(NotFoundError):
            await set_language(db, 999, "de")


async def test_a_forgotten_member_stays_as_former_author(db: Database) -> None:
    w = await world(db)
    async with db.transaction():
        await answer(db, w, "fulfilment", "full", NOW)
        await save_position(db, w.member.id, w.check.id, Position("K1", "potential", "asking"), NOW)
        former = await forget_member(db, w.member.id)
    assert (former.telegram_user_id, former.first_name) == (None, None)
    assert await member_by_user(db, 1001) is None
    assert await members_of(db, w.institution.id) == []
    assert await load_position(db, w.member.id, w.check.id) is None
    stored = (await current_answers(db, w.check.id))[("K1", "fulfilment")]
    assert (stored.author_id, stored.author_name) == (w.member.id, None)


# Answers


async def test_every_revision_is_kept_and_the_last_is_current(db: Database) -> None:
    w = await world(db)
    times = [NOW + timedelta(minutes=m) for m in (0, 5, 10)]
    async with db.transaction():
        for value, at in zip(("full", "mostly", "partly"), times, strict=True):
            await answer(db, w, "fulfilment", value, at)
        await answer(db, w, "potential", "yes", NOW, text="Formulare in Leichter Sprache")
    history = await revisions(db, w.check.id, "K1", "fulfilment")
    assert [(a.value, a.revision, a.answered_at) for a in history] == [
        ("full", 1, times[0]),
        ("mostly", 2, times[1]),
        ("partly", 3, times[2]),
    ]
    current = await current_answers(db, w.check.id)
    assert current[("K1", "fulfilment")] == history[-1]
    assert current[("K1", "potential")].text == "Formulare in Leichter Sprache"
    assert current[("K1", "potential")].author_name == "Ana"
    assert await last_activity(db, w.check.id) == times[2]


async def test_record_answer_returns_the_stored_revision(db: Database) -> None:
    w = await world(db)
    assert await last_activity(db, w.check.id) is None
    async with db.transaction():
        first = await record_answer(
            db, w.check.id, NewAnswer("K2", "measures", "none", None, None, "cclu", "v1"), NOW
        )
        second = await record_answer(
            db, w.check.id, NewAnswer("K2", "measures", "planned", "Flyer", None, "cclu", "v1"), NOW
        )
    assert (first.revision, first.author_name) == (1, None)
    assert (second.revision, second.value, second.text) == (2, "planned", "Flyer")


KEYS = st.tuples(st.sampled_from(["K1", "K2", "Z3"]), st.sampled_from(["fulfilment", "measures"]))


@settings(max_examples=15, deadline=None)
@given(writes=st.lists(st.tuples(KEYS, st.sampled_from(["full", "not", "none"])), max_size=12))
async def test_current_answers_are_the_last_written(
    writes: list[tuple[tuple[str, str], str]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with await open_database(Path(folder) / "bot.sqlite3") as db:
            w = await world(db)
            async with db.transaction():
                for (requirement, key), value in writes:
                    await record_answer(
                        db,
                        w.check.id,
                        NewAnswer(requirement, key, value, None, None, "c", "1"),
                        NOW,
                    )
            current = await current_answers(db, w.check.id)
    expected = dict(writes)
    assert {k: a.value for k, a in current.items()} == expected
    assert {k: a.revision for k, a in current.items()} == {
        k: sum(1 for key, _ in writes if key == k) for k in expected
    }


# Positions


async def test_positions_round_trip(db: Database) -> None:
    w = await world(db)
    assert await load_position(db, w.member.id, w.check.id) is None
    async with db.transaction():
        await save_position(db, w.member.id, w.check.id, Position("K1", "potential", "asking"), NOW)
        await save_position(db, w.member.id, w.check.id, Position("K2", "measures", "paused"), NOW)
    position = await load_position(db, w.member.id, w.check.id)
    assert position == Position("K2", "measures", "paused")


# Outbox


async def test_enqueue_is_idempotent_by_key(db: Database) -> None:
    async with db.transaction():
        first = await enqueue(db, "digest:1", -100, "digest", {"check": 1, "name": "ABH"}, NOW)
        again = await enqueue(db, "digest:1", -100, "digest", {"check": 2}, NOW)
    assert again == first and first.payload == {"check": 1, "name": "ABH"}
    assert await due(db, NOW) == [first]
    assert await due(db, NOW - timedelta(seconds=1)) == []


async def test_mark_delivered_stores_the_message_id(db: Database) -> None:
    async with db.transaction():
        queued = await enqueue(db, "digest:1", -100, "digest", {}, NOW)
        sent = await mark_delivered(db, queued.id, 4711, NOW)
        again = await mark_delivered(db, queued.id, 4712, NOW + timedelta(seconds=1))
    assert (sent.message_id, sent.delivered_at, sent.attempts) == (4711, NOW, 1)
    assert again == sent  # the first delivery stays on record
    assert await due(db, NOW + timedelta(days=1)) == []


async def test_mark_failed_retries_later_or_gives_up(db: Database) -> None:
    retry_at = NOW + timedelta(minutes=1)
    async with db.transaction():
        queued = await enqueue(db, "reminder:1", 42, "reminder", {}, NOW)
        failed = await mark_failed(db, queued.id, "RetryAfter 30", retry_at)
    assert (failed.attempts, failed.last_error) == (1, "RetryAfter 30")
    assert await due(db, NOW) == []
    assert [m.id for m in await due(db, retry_at)] == [queued.id]
    async with db.transaction():
        given_up = await mark_failed(db, queued.id, "Forbidden: bot was blocked", None)
    assert given_up.next_attempt_at is None and given_up.attempts == 2
    assert await due(db, NOW + timedelta(days=365)) == []


async def test_active_message_round_trip(tmp_path) -> None:
    """Remember, replace and forget the one message with buttons per member."""
    from storage import ActiveMessage, load_active_message, save_active_message
    from storage.db import open_database
    from storage.institutions import add_institution
    from storage.members import join_institution

    async with await open_database(tmp_path / "a.sqlite3") as db:
        async with db.transaction():
            inst = await add_institution(db, "ABH", "Ausländerbehörde", "code-1")
            member = await join_institution(db, 7, inst.id, "Anna", "de")
            await save_active_message(db, member.id, ActiveMessage(10, "K1.fulfilment"))
            await save_active_message(db, member.id, ActiveMessage(11, None))
        assert await load_active_message(db, member.id) == ActiveMessage(11, None)
        async with db.transaction():
            await save_active_message(db, member.id, None)
        assert await load_active_message(db, member.id) is None


async def test_a_write_alone_is_durable_and_never_joins_another_tasks_transaction(
    tmp_path,
) -> None:
    """The write after a turn commits by itself, and waits for a colleague's open transaction
    instead of becoming part of it: that one's rollback must not take it along."""
    import asyncio
    import sqlite3

    from storage import ActiveMessage, load_active_message, save_active_message
    from storage.db import open_database
    from storage.institutions import add_institution
    from storage.members import join_institution

    path = tmp_path / "a.sqlite3"
    async with await open_database(path) as db:
        async with db.transaction():
            inst = await add_institution(db, "ABH", "Ausländerbehörde", "code-1")
            anna = await join_institution(db, 7, inst.id, "Anna", "de")
            ben = await join_institution(db, 8, inst.id, "Ben", "de")
        opened = asyncio.Event()

        async def failing_turn() -> None:
            async with db.transaction():
                await save_active_message(db, ben.id, ActiveMessage(20, None))
                opened.set()
                await asyncio.sleep(0.05)  # the other task's write comes now
                raise RuntimeError("this turn fails")

        turn = asyncio.create_task(failing_turn())
        await opened.wait()
        await save_active_message(db, anna.id, ActiveMessage(10, "K1.fulfilment"))
        try:
            await turn
        except RuntimeError:
            pass
        assert await load_active_message(db, ben.id) is None
        assert await load_active_message(db, anna.id) == ActiveMessage(10, "K1.fulfilment")
        other = sqlite3.connect(path)  # committed: another process sees it at once
        try:
            rows = other.execute("SELECT member_id, message_id FROM active_messages").fetchall()
        finally:
            other.close()
        assert rows == [(anna.id, 10)]
