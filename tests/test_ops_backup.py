"""`chancencheck backup FILE` while the bot writes: every copy is sound, holds every transaction
committed before it began, and no half of one; a copy restores to a working database."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import storage
from bot.catalogue import load_catalogue
from bot.cli.backup import BackupError, backup_database
from bot.cli.entry import main

CATALOGUE = load_catalogue()
PER_TRANSACTION = 3  # answers written together: a copy must hold all three or none


async def prepare(path: Path) -> tuple[int, int]:
    """Create a database with a round, an institution and a member; return check and member."""
    async with await storage.open_database(path) as db, db.transaction():
        now = datetime.now(UTC)
        cycle = await storage.open_cycle(
            db, "2027", CATALOGUE.id, CATALOGUE.version, date.today() + timedelta(days=30), now
        )
        institution = await storage.add_institution(db, "ABH", "Amt", "codeABH", now)
        member = await storage.join_institution(db, 1001, institution.id, "Anna", "de", now)
        check = await storage.check_for(db, institution.id, cycle.id)
        return check.id, member.id


class Writer:
    """Writes answers in transactions of three, as fast as it can, counting the commits."""

    def __init__(self, path: Path, check_id: int, member_id: int) -> None:
        self.path, self.check_id, self.member_id = path, check_id, member_id
        self.committed = 0
        self.stop = asyncio.Event()

    async def run(self) -> None:
        keys = [(r.id, q.key) for r in CATALOGUE.requirements for q in CATALOGUE.questions]
        async with await storage.open_database(self.path) as db:
            while not self.stop.is_set():
                async with db.transaction():
                    for n in range(PER_TRANSACTION):
                        requirement, key = keys[(self.committed * PER_TRANSACTION + n) % 45]
                        value = {"fulfilment": "partly", "potential": "no", "measures": "none"}[key]
                        await storage.record_answer(
                            db,
                            self.check_id,
                            storage.NewAnswer(
                                requirement,
                                key,
                                value,
                                None,
                                self.member_id,
                                CATALOGUE.id,
                                CATALOGUE.version,
                            ),
                        )
                self.committed += 1
                await asyncio.sleep(0)


def answers_in(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return int(conn.execute("SELECT count(*) FROM answers").fetchone()[0])


async def test_backups_while_the_bot_writes_are_consistent(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    writer = Writer(database, *await prepare(database))
    task = asyncio.create_task(writer.run())
    copies = []
    try:
        for number in range(5):
            await asyncio.sleep(0.2)
            before = writer.committed
            target = tmp_path / f"backup-{number}.sqlite3"
            done = await asyncio.to_thread(backup_database, database, target)
            copies.append((before, writer.committed, target, done))
    finally:
        writer.stop.set()
        await task
    for before, after, target, done in copies:
        count = answers_in(target)
        assert count % PER_TRANSACTION == 0, "a transaction was copied in part"
        assert before * PER_TRANSACTION <= count <= after * PER_TRANSACTION
        assert done.answers == count
        assert not Path(f"{target}-wal").exists() and not Path(f"{target}.partial").exists()
    assert copies[-1][0] > copies[0][0] > 0, "the writer wrote during the backups"


async def test_a_backup_restores_to_a_database_the_bot_opens(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    await prepare(database)
    backup = tmp_path / "backup.sqlite3"
    backup_database(database, backup)
    restored = tmp_path / "restored" / "bot.sqlite3"
    restored.parent.mkdir()
    shutil.copy(backup, restored)  # README: stop the bot, copy the backup in place, start it
    async with await storage.open_database(restored) as db:
        assert [i.short for i in await storage.list_institutions(db)] == ["ABH"]
        assert (await storage.current_cycle(db)) is not None


def test_the_cli_writes_a_backup_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    asyncio.run(prepare(database))
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "data/bot.sqlite3"\n', encoding="utf-8")
    target = tmp_path / "nightly.sqlite3"
    assert main(["--config", str(config), "backup", str(target)]) == 0
    assert "integrity ok" in capsys.readouterr().out and answers_in(target) == 0
    assert main(["--config", str(config), "backup", str(target)]) == 2
    assert "exists already" in capsys.readouterr().err
    with pytest.raises(BackupError, match="no database"):
        backup_database(tmp_path / "missing.sqlite3", tmp_path / "x.sqlite3")
