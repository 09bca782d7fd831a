"""Storage: the connection, migrations, transactions and the constraints of the schema."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import aiosqlite
import pytest

# Imported from the modules, not the package: the editable install in /work/venv predates
# storage/__init__.py and resolves `storage` as a namespace package when run by bin/pytest.
from storage.answers import NewAnswer, current_answers, record_answer
from storage.checks import check_for
from storage.cycles import open_cycle
from storage.db import Database, open_database
from storage.errors import DuplicateError, StorageError
from storage.institutions import add_institution, list_institutions
from storage.members import join_institution
from storage.migrations import MIGRATIONS, migrate
from storage.sql import fetch_value

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def make_check(db: Database) -> int:
    """Create an institution with a check in an open cycle and return the check's id."""
    async with db.transaction():
        cycle = await open_cycle(db, "2026", "cclu", "v1", date(2026, 3, 31), NOW)
        institution = await add_institution(db, "ABH", "Ausländerbehörde", "abh-code", NOW)
        check = await check_for(db, institution.id, cycle.id)
    return check.id


async def answer(db: Database, check_id: int, value: str, key: str = "fulfilment") -> None:
    await record_answer(db, check_id, NewAnswer("K1", key, value, None, None, "cclu", "v1"), NOW)


async def schema(conn: aiosqlite.Connection) -> list[tuple[str, str]]:
    rows = await conn.execute_fetchall("SELECT name, sql FROM sqlite_master ORDER BY name")
    return [(row[0], row[1]) for row in rows]


async def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "raw.sqlite3", isolation_level=None) as conn:
        first = await migrate(conn)
        before = await schema(conn)
        second = await migrate(conn)
        recorded = await conn.execute_fetchall("SELECT name FROM _migrations")
        assert first == [m.__name__ for m in MIGRATIONS]
        assert second == []
        assert await schema(conn) == before
        assert [row[0] for row in recorded] == first


async def test_opening_again_applies_no_migration(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await (await open_database(path)).close()
    async with await open_database(path) as db:
        assert await migrate(db.conn) == []
        count = await fetch_value(db.conn, "SELECT count(*) FROM _migrations")
        assert count == len(MIGRATIONS)


async def test_pragmas_are_in_force(db: Database) -> None:
    async def pragma(name: str) -> object:
        return await fetch_value(db.conn, f"PRAGMA {name}")

    assert await pragma("journal_mode") == "wal"
    assert await pragma("synchronous") == 2  # FULL
    assert await pragma("foreign_keys") == 1
    assert await pragma("busy_timeout") == 5000


async def test_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "bot.sqlite3"
    async with await open_database(path) as db:
        check_id = await make_check(db)
        async with db.transaction():
            await answer(db, check_id, "mostly")
    async with await open_database(path) as db:
        answers = await current_answers(db, check_id)
        institutions = await list_institutions(db)
    assert answers[("K1", "fulfilment")].value == "mostly"
    assert [i.short for i in institutions] == ["ABH"]


async def test_an_answer_in_a_failed_transaction_is_not_stored(db: Database) -> None:
    check_id = await make_check(db)
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction():
            await answer(db, check_id, "full")
            raise RuntimeError("boom")
    assert await current_answers(db, check_id) == {}
    async with db.transaction():  # the connection is usable again
        await answer(db, check_id, "partly")
    assert (await current_answers(db, check_id))[("K1", "fulfilment")].value == "partly"


async def test_a_failed_nested_block_undoes_only_its_own_writes(db: Database) -> None:
    check_id = await make_check(db)
    async with db.transaction():
        await answer(db, check_id, "full", "fulfilment")
        with pytest.raises(ValueError):
            async with db.transaction():
                await answer(db, check_id, "yes", "potential")
                raise ValueError("inner")
        assert db.in_transaction()  # still inside the outer transaction
    stored = await current_answers(db, check_id)
    assert list(stored) == [("K1", "fulfilment")]


async def test_a_nested_block_commits_with_the_outer_one(db: Database) -> None:
    check_id = await make_check(db)
    with pytest.raises(KeyError):
        async with db.transaction():
            async with db.transaction():
                await answer(db, check_id, "full")
            raise KeyError("outer fails after the inner block finished")
    assert await current_answers(db, check_id) == {}


async def test_writes_outside_a_transaction_are_refused(db: Database) -> None:
    check_id = await make_check(db)
    with pytest.raises(RuntimeError, match="transaction"):
        await answer(db, check_id, "full")
    assert await current_answers(db, check_id) == {}


async def test_tasks_do_not_share_a_transaction(db: Database) -> None:
    check_id = await make_check(db)
    a_wrote = asyncio.Event()

    async def failing_writer() -> None:
        async with db.transaction():
            await answer(db, check_id, "full", "fulfilment")
            a_wrote.set()
            await asyncio.sleep(0.01)  # let the other task try to write meanwhile
            raise RuntimeError("A fails")

    async def second_writer() -> None:
        await a_wrote.wait()
        async with db.transaction():
            await answer(db, check_id, "no", "potential")

    results = await asyncio.gather(failing_writer(), second_writer(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert list(await current_answers(db, check_id)) == [("K1", "potential")]


async def test_naive_times_are_refused(db: Database) -> None:
    check_id = await make_check(db)
    async with db.transaction():
        with pytest.raises(ValueError, match="naive"):
            naive = datetime(2026, 3, 1, 9, 0)
            await record_answer(
                db, check_id, NewAnswer("K1", "measures", "none", None, None, "c", "1"), naive
            )


async def test_an_unusable_path_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match=str(blocker)):
        await open_database(blocker / "bot.sqlite3")


async def test_a_file_that_is_no_database_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("these are notes, not a database " * 100)
    with pytest.raises(StorageError, match="not an SQLite database") as caught:
        await open_database(path)
    assert str(path) in str(caught.value)


async def test_a_database_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await open_database(path) as db:
        await db.conn.execute("INSERT INTO _migrations VALUES ('m999_future', '2030')")
    with pytest.raises(StorageError, match="m999_future"):
        await open_database(path)


# Each entry writes one row the domain does not allow; the schema must refuse it.
IMPOSSIBLE = {
    "answer for a missing check": (
        "INSERT INTO answers (check_id, requirement_id, question_key, value, catalogue_id,"
        " catalogue_version, answered_at) VALUES (999, 'K1', 'fulfilment', 'full', 'c', '1', 't')"
    ),
    "bad question key": (
        "INSERT INTO answers (check_id, requirement_id, question_key, value, catalogue_id,"
        " catalogue_version, answered_at) VALUES (1, 'K1', 'feelings', 'full', 'c', '1', 't')"
    ),
    "empty answer value": (
        "INSERT INTO answers (check_id, requirement_id, question_key, value, catalogue_id,"
        " catalogue_version, answered_at) VALUES (1, 'K1', 'fulfilment', '', 'c', '1', 't')"
    ),
    "submitted without time": "UPDATE checks SET status = 'submitted' WHERE id = 1",
    "unknown status": "UPDATE checks SET status = 'done', submitted_at = 't' WHERE id = 1",
    "second check for institution and cycle": (
        "INSERT INTO checks (institution_id, cycle_id) SELECT institution_id, cycle_id FROM checks"
    ),
    "check of a missing institution": "INSERT INTO checks (institution_id, cycle_id) VALUES (9, 1)",
    "member with bad language": (
        "INSERT INTO members (telegram_user_id, institution_id, language, joined_at, last_seen_at)"
        " VALUES (7, 1, 'fr', 't', 't')"
    ),
    "member with bad role": (
        "INSERT INTO members (telegram_user_id, institution_id, role, joined_at, last_seen_at)"
        " VALUES (7, 1, 'admin', 't', 't')"
    ),
    "former member with a name": (
        "INSERT INTO members (institution_id, first_name, joined_at, last_seen_at)"
        " VALUES (1, 'Ana', 't', 't')"
    ),
    "short with a dash": (
        "INSERT INTO institutions (short, name, invite_hash, created_at)"
        " VALUES ('A-B', 'x', 'y', 't')"
    ),
    "short too long": (
        "INSERT INTO institutions (short, name, invite_hash, created_at)"
        " VALUES ('ABCDEFGHIJKLM', 'x', 'y', 't')"
    ),
    "duplicate short in other case": (
        "INSERT INTO institutions (short, name, invite_hash, created_at)"
        " VALUES ('abh', 'x', 'y', 't')"
    ),
    "deadline that is no date": (
        "INSERT INTO cycles (name, catalogue_id, catalogue_version, opened_at, deadline)"
        " VALUES ('x', 'c', '1', 't', '2026-02-30')"
    ),
    "text where a number belongs": (
        "INSERT INTO outbox (key, chat_id, kind, payload, created_at)"
        " VALUES ('k', 'abc', 'digest', '{}', 't')"
    ),
    "outbox payload that is no JSON": (
        "INSERT INTO outbox (key, chat_id, kind, payload, created_at)"
        " VALUES ('k', 1, 'digest', '{oops', 't')"
    ),
}


@pytest.mark.parametrize("sql", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
async def test_the_schema_refuses_impossible_rows(db: Database, sql: str) -> None:
    await make_check(db)
    before = await schema(db.conn)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction():
            await db.writer.execute(sql)
    assert await schema(db.conn) == before


async def test_functions_refuse_impossible_rows(db: Database) -> None:
    check_id = await make_check(db)
    async with db.transaction():
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            await answer(db, check_id + 1, "full")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            await answer(db, check_id, "full", key="mood")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            await join_institution(db, 7, 1, "Ana", "fr")
        with pytest.raises(DuplicateError, match="'abh'"):
            await add_institution(db, "abh", "Doppelt", "other-code")
        with pytest.raises(DuplicateError, match="invite code"):
            await add_institution(db, "AA", "Agentur für Arbeit", "abh-code")
        with pytest.raises(ValueError, match="letters or digits"):
            await add_institution(db, "A B", "Leerzeichen", "space-code")
    assert await current_answers(db, check_id) == {}
    assert [i.short for i in await list_institutions(db)] == ["ABH"]
