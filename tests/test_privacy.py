"""Data protection end to end: a person exports, leaves, and erases their data."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from accessharness import COORDINATOR, GROUP, coordination_config, fill, rows, said, scan
from botharness import DEADLINE, running_bot, set_up_institution
from fakebot import FakeBotApi
from test_digest import digest_delivered

import storage
from bot.cli.entry import main
from bot.config import Config, load_config
from bot.core import privacy

ZOLTANNA = 7000000123  # ten digits: no timestamp or message id holds them by chance
NAME = "Zoltanna"


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    return coordination_config(tmp_path, fake_bot_api)


def document(server: FakeBotApi, chat_id: int) -> tuple[str, bytes]:
    [sent] = [m for m in server.sent_to(chat_id) if m.file]
    assert sent.file is not None
    return sent.file


async def test_my_data_comes_as_a_json_document(config: Config, fake_bot_api: FakeBotApi) -> None:
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait("▶️ Los geht's")
        await anna.press_button_and_wait("🟠 teilweise erfüllt")
        await anna.send_and_wait("/zurueck")
        await anna.press_button_and_wait("🟢 vollständig erfüllt")  # a second revision
        await anna.send_and_wait("/erinnerungen aus")
        await anna.send_and_wait("/meinedaten")
        caption = anna.last_message().visible_text
    name, content = document(fake_bot_api, anna.chat_id)
    data = json.loads(content)
    assert name.endswith(".json") and caption == said("my_data")
    assert data["telegram_user_id"] == 1001
    membership = data["membership"]
    assert membership["institution"] == {"short": "ABH", "name": "Ausländerbehörde"}
    assert membership["first_name"] == "Anna" and membership["language"] == "de"
    assert data["reminders"]["enabled"] is False
    first = [
        a for a in data["answers"] if a["requirement"] == "Z1" and a["question"] == "fulfilment"
    ]
    assert [(a["revision"], a["value"]) for a in first] == [(1, "partly"), (2, "full")]
    assert first[0]["round"] == "Runde 2027" and first[0]["institution"] == "ABH"
    assert {"member_join", "answer"} <= {entry["action"] for entry in data["audit_log"]}


async def test_erasure_leaves_no_trace_of_the_id_or_the_name(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Zoltanna answered, submitted (the digest names her), guessed a code, and was also a
    coordinator who moved the deadline and replaced an invite link: afterwards no table, no
    revision, no log entry and no stored message holds her id or name."""
    code = await set_up_institution(config)
    await fill(config, "ABH", ZOLTANNA, NAME, "Schulung für alle", leave_out=1)
    config_file = str(Path(config.storage.path).parent / "config.toml")
    assert (
        await asyncio.to_thread(
            main, ["--config", config_file, "coordinator", "add", str(ZOLTANNA)]
        )
        == 0
    )
    zoltanna = fake_bot_api.user(ZOLTANNA, NAME)
    async with running_bot(config, fake_bot_api):
        await zoltanna.send_and_wait("/start falsch")
        await zoltanna.send_and_wait(f"/start {code}")
        await zoltanna.send_and_wait(f"/frist {(DEADLINE + timedelta(days=7)).isoformat()}")
        await zoltanna.send_and_wait("/einladung ABH neu")
        await zoltanna.send_and_wait("/weiter")
        await zoltanna.press_button_and_wait("Keine Maßnahmen geplant")
        await zoltanna.press_button_and_wait("✅ Absenden")
        await zoltanna.press_button_and_wait("✅ Ja, absenden")
        await digest_delivered(fake_bot_api)
        answers_before = rows(config, "SELECT id, value, text FROM answers ORDER BY id")
        assert scan(config, NAME) and scan(config, ZOLTANNA)  # there was something to erase
        await zoltanna.send_and_wait("/loeschen")
        assert "Ihre Daten löschen?" in (zoltanna.last_message().visible_text or "")
        await zoltanna.press_button_and_wait("🗑 Ja, meine Daten löschen")
        assert zoltanna.last_message().visible_text == said("erased", in_config=False)
        assert scan(config, NAME) == [] and scan(config, ZOLTANNA) == []
        await zoltanna.send_and_wait("/weiter")  # she is a stranger now
        assert zoltanna.last_message().visible_text == said("not_member")
    assert scan(config, NAME) == [] and scan(config, ZOLTANNA) == []
    # The institution's answers stay, by a former member without id or name.
    assert rows(config, "SELECT id, value, text FROM answers ORDER BY id") == answers_before
    authors = rows(
        config,
        "SELECT DISTINCT m.telegram_user_id, m.first_name FROM answers a "
        "JOIN members m ON m.id = a.author_id",
    )
    assert authors == [(None, None)]
    assert rows(config, "SELECT count(*) FROM coordinators") == [(0,)]
    # Not in the file's free pages or the write-ahead log either (secure_delete, checkpoint).
    files = list(Path(config.storage.path).parent.glob(Path(config.storage.path).name + "*"))
    assert Path(config.storage.path) in files
    for path in files:
        assert NAME.encode() not in path.read_bytes(), path


async def test_cancelling_changes_nothing(config: Config, fake_bot_api: FakeBotApi) -> None:
    code = await set_up_institution(config)
    anna = fake_bot_api.user(1001, "Anna")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        for command in ("/loeschen", "/austreten"):
            before = rows(config, "SELECT * FROM members")
            await anna.send_and_wait(command)
            await anna.press_button_and_wait("Abbrechen")
            assert anna.last_message().visible_text == said("privacy_cancelled")
            assert not anna.last_message().buttons
            assert rows(config, "SELECT * FROM members") == before


async def test_a_member_leaves_and_their_answers_stay(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    code = await set_up_institution(config)
    anna, sam = fake_bot_api.user(1001, "Anna"), fake_bot_api.user(1003, "Sam")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait("▶️ Los geht's")
        await anna.press_button_and_wait("🟠 teilweise erfüllt")
        await anna.send_and_wait("/austreten")
        assert "Aus der Einrichtung „Ausländerbehörde“ austreten?" in (
            anna.last_message().visible_text or ""
        )
        await anna.press_button_and_wait("🚪 Ja, austreten")
        assert "ausgetreten" in (anna.last_message().visible_text or "")
        assert [m for m in anna.messages() if m.buttons] == []  # the question's buttons too
        await anna.send_and_wait("/weiter")
        assert anna.last_message().visible_text == said("not_member")
        await sam.send_and_wait("/austreten")
        assert sam.last_message().visible_text == said("not_member")
        await anna.send_and_wait(f"/start {code}")  # she may join again, as a new member
    assert rows(config, "SELECT value FROM answers") == [("partly",)]
    assert rows(config, "SELECT telegram_user_id, first_name FROM members ORDER BY id") == [
        (None, None),
        (1001, "Anna"),
    ]
    assert rows(config, "SELECT action FROM audit WHERE action LIKE 'member_%' ORDER BY id") == [
        ("member_join",),
        ("member_leave",),
        ("member_join",),
    ]


async def test_erasing_scrubs_stored_messages_that_name_the_person(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    async with await storage.open_database(tmp_path / "db.sqlite3") as db:
        async with db.transaction():
            institution = await storage.add_institution(db, "ABH", "Amt", "code")
            await storage.join_institution(db, 42, institution.id, 'Jo "O\'Neil" <3', "de")
            named = {"text": "abgesendet von Jo &#34;O&#39;Neil&#34; &lt;3 am …"}
            await storage.enqueue(db, "sent", GROUP, "message", named, now)
            await storage.enqueue(db, "pending", GROUP, "message", named, now)
            await storage.enqueue(db, "to-her", 42, "message", {"text": "Hallo"}, now)
            sent = await storage.due(db, now)
            await storage.mark_delivered(db, sent[0].id, 7, now)
            await storage.erase_person(db, 42, "ehemaliges Mitglied")
        messages = {m.key: m.payload for m in await storage.due(db, now)}
    assert messages == {"pending": {"text": "abgesendet von ehemaliges Mitglied am …"}}
    payloads = [p for (p,) in rows_of(tmp_path / "db.sqlite3", "SELECT payload FROM outbox")]
    assert payloads == ["{}", '{"text": "abgesendet von ehemaliges Mitglied am …"}']


async def test_erasing_forgets_who_used_a_coordinator_link(tmp_path: Path) -> None:
    """Protects the promise of /loeschen for coordinators who joined by a one-time link: the
    record of the used link goes, and the link still cannot be claimed again."""
    now = datetime.now(UTC)
    path = tmp_path / "db.sqlite3"
    async with await storage.open_database(path) as db:
        async with db.transaction():
            await storage.create_coordinator_invite(db, "hash", now + timedelta(hours=1), now)
            assert await storage.claim_coordinator_invite(db, "hash", 42, now)
            await storage.add_coordinator(db, 42, now)
            await storage.erase_person(db, 42, "ehemaliges Mitglied")
        async with db.transaction():
            assert not await storage.claim_coordinator_invite(db, "hash", 43, now)
    assert rows_of(path, "SELECT count(*) FROM coordinator_invites") == [(0,)]


def rows_of(path: Path, sql: str) -> list[tuple[object, ...]]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as conn:
        return list(conn.execute(sql))


async def test_config_coordinator_is_told_the_config_still_names_them(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    chief = fake_bot_api.user(COORDINATOR, "Kora")
    async with running_bot(config, fake_bot_api):
        await chief.send_and_wait("/loeschen")
        await chief.press_button_and_wait("🗑 Ja, meine Daten löschen")
    assert chief.last_message().visible_text == said("erased", in_config=True)


async def test_erasure_under_litestream_promises_when_the_replica_forgets(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    """With [replication] configured, /loeschen erases while Litestream holds its read lock, and
    the question and the reply promise when the replica's history forgets the person too."""
    coordination_config(tmp_path, fake_bot_api)
    config = _with_replication(tmp_path, fake_bot_api)
    code = await set_up_institution(config)
    zoltanna = fake_bot_api.user(ZOLTANNA, NAME)
    async with running_bot(config, fake_bot_api):
        await zoltanna.send_and_wait(f"/start {code}")
        with closing(sqlite3.connect(config.storage.path)) as litestream:
            litestream.execute("BEGIN")
            litestream.execute("SELECT count(*) FROM members").fetchall()  # its read lock
            await zoltanna.send_and_wait("/loeschen")
            assert "spätestens nach 48 Stunden" in (zoltanna.last_message().visible_text or "")
            await zoltanna.press_button_and_wait("🗑 Ja, meine Daten löschen")
            assert zoltanna.last_message().visible_text == said(
                "erased", in_config=False, replica_hours=48
            )
            litestream.execute("COMMIT")
    assert scan(config, NAME) == [] and scan(config, ZOLTANNA) == []


async def test_without_replication_the_promise_names_no_replica(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Without replication there is no replica to promise anything about."""
    code = await set_up_institution(config)
    zoltanna = fake_bot_api.user(ZOLTANNA, NAME)
    async with running_bot(config, fake_bot_api):
        await zoltanna.send_and_wait(f"/start {code}")
        await zoltanna.send_and_wait("/loeschen")
        assert "Replikat" not in (zoltanna.last_message().visible_text or "")


@pytest.mark.parametrize("replicated", [True, False])
async def test_checkpoints_after_erasure_and_retention_never_wait_for_litestream(
    tmp_path: Path, replicated: bool
) -> None:
    """Protects the bot's agreement with Litestream, which holds a read transaction so that
    nobody checkpoints past what it has replicated: under replication, erasure and retention
    must not wait for that lock (a TRUNCATE checkpoint holds the bot's one connection for the
    whole busy_timeout, here a minute). Without replication they still empty the log."""
    path = tmp_path / "bot.sqlite3"
    async with await storage.open_database(path) as db:
        await db.conn.execute("PRAGMA busy_timeout = 60000")
        with closing(sqlite3.connect(path)) as litestream:
            if replicated:
                litestream.execute("BEGIN")
                litestream.execute("SELECT count(*) FROM members").fetchall()
            await asyncio.wait_for(privacy.erase(db, ZOLTANNA, "x", replicated), timeout=20)
            await asyncio.wait_for(
                privacy.retention(db, 3, datetime.now(UTC), False, replicated), timeout=20
            )
        wal = path.with_name(path.name + "-wal")
        assert (wal.stat().st_size == 0) is not replicated


def _with_replication(tmp_path: Path, server: FakeBotApi) -> Config:
    """Return the config in tmp_path with [replication] naming a Litestream config."""
    path = tmp_path / "config.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        f'{text}\n[replication]\nlitestream_config = "litestream.yml"\n', encoding="utf-8"
    )
    return load_config(path, env={"CHANCENCHECK_TELEGRAM_TOKEN": server.token})
