"""The command line for institutions, invite links, coordinators, retention and the audit log."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import storage
from bot.cli.entry import main
from storage import migrations

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CODE = re.compile(r"invite code: (\S+)")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHANCENCHECK_CONFIG", raising=False)
    monkeypatch.delenv("CHANCENCHECK_TELEGRAM_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        '[storage]\npath = "cli.sqlite3"\n[telegram]\ncoordinators = [9001]\n', encoding="utf-8"
    )
    return str(path)


def cli(config: str, *argv: str) -> int:
    try:
        return main(["--config", config, *argv])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def query(tmp_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(tmp_path / "cli.sqlite3")) as conn:
        return list(conn.execute(sql, params))


def invite_hash_of(tmp_path: Path, short: str) -> str | None:
    """Return the stored invite hash of an institution."""
    return query(tmp_path, "SELECT invite_hash FROM institutions WHERE short = ?", (short,))[0][0]


def by_code(tmp_path: Path, code: str) -> storage.Institution | None:
    async def look() -> storage.Institution | None:
        async with await storage.open_database(tmp_path / "cli.sqlite3") as db:
            return await storage.institution_by_code(db, code)

    return asyncio.run(look())


def test_rename_and_rotate_the_invite(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(config, "institution", "add", "ABH", "Ausländerbehörde") == 0
    old = CODE.search(capsys.readouterr().out)
    assert old and by_code(tmp_path, old[1]) is not None
    assert cli(config, "institution", "rename", "abh", "Ausländerbehörde Ludwigshafen") == 0
    assert "Ausländerbehörde Ludwigshafen" in capsys.readouterr().out
    assert cli(config, "institution", "invite", "ABH", "--rotate") == 0
    out = capsys.readouterr().out
    new = CODE.search(out)
    assert new and new[1] != old[1] and "old link no longer works" in out
    assert by_code(tmp_path, old[1]) is None
    assert by_code(tmp_path, new[1]) is not None
    assert invite_hash_of(tmp_path, "ABH") == hashlib.sha256(new[1].encode()).hexdigest()
    assert len(new[1]) >= 16 and re.fullmatch(r"[A-Za-z0-9_-]+", new[1])  # 128 bits, link-safe
    assert cli(config, "institution", "invite", "ABH") == 2  # --rotate says what it does
    assert cli(config, "institution", "rename", "XYZ", "Name") == 2
    assert "no institution 'XYZ'" in capsys.readouterr().err


def test_remove_refuses_an_institution_with_answers_unless_forced(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for short in ("ABH", "VHS"):
        assert cli(config, "institution", "add", short, f"Amt {short}") == 0
    assert cli(config, "cycle", "open", "2027", "--deadline", "2099-03-31") == 0
    asyncio.run(_answer(tmp_path, "ABH", 1001))
    capsys.readouterr()
    assert cli(config, "institution", "remove", "ABH") == 2
    err = capsys.readouterr().err
    assert "1 stored answers" in err and "institution remove ABH --force" in err
    assert cli(config, "institution", "remove", "VHS") == 0
    assert cli(config, "institution", "remove", "ABH", "--force") == 0
    assert "ending 1 membership;" in capsys.readouterr().out  # not "1 members"
    for table in ("institutions", "members", "checks", "answers", "positions"):
        assert query(tmp_path, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert query(tmp_path, "PRAGMA foreign_key_check") == []
    actions = [a for (a,) in query(tmp_path, "SELECT action FROM audit WHERE actor_kind = 'cli'")]
    assert actions.count("institution_remove") == 2


async def _answer(tmp_path: Path, short: str, user_id: int) -> None:
    async with await storage.open_database(tmp_path / "cli.sqlite3") as db, db.transaction():
        institution = await storage.institution_by_short(db, short)
        cycle = await storage.current_cycle(db)
        assert institution and cycle
        member = await storage.join_institution(db, user_id, institution.id, "Anna", "de")
        check = await storage.check_for(db, institution.id, cycle.id)
        await storage.record_answer(
            db,
            check.id,
            storage.NewAnswer("K1", "fulfilment", "full", None, member.id, "cclu", "1"),
        )
        await storage.save_position(
            db, member.id, check.id, storage.SavedPosition("K1", "potential", "asking")
        )


def test_list_says_how_to_get_a_new_link(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "institution", "add", "ABH", "Ausländerbehörde") == 0
    code = CODE.search(capsys.readouterr().out)
    assert cli(config, "institution", "list") == 0
    listed = capsys.readouterr().out
    assert code and code[1] not in listed
    assert "ABH" in listed and "0 members" in listed
    assert "chancencheck institution invite SHORT --rotate" in listed


def test_coordinators_are_added_listed_and_removed(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(config, "coordinator", "add", "5005") == 0
    assert cli(config, "coordinator", "add", "5005") == 2
    assert "already" in capsys.readouterr().err
    assert cli(config, "coordinator", "list") == 0
    listed = capsys.readouterr().out
    assert re.search(r"9001\s+config file", listed) and re.search(r"5005\s+added", listed)
    assert cli(config, "coordinator", "remove", "9001") == 2
    assert "config file" in capsys.readouterr().err
    assert cli(config, "coordinator", "remove", "5005") == 0
    assert cli(config, "coordinator", "add", "-5") == 2
    assert query(tmp_path, "SELECT count(*) FROM coordinators") == [(0,)]
    assert query(tmp_path, "SELECT action, subject_user_id FROM audit ORDER BY id") == [
        ("coordinator_add", 5005),
        ("coordinator_remove", 5005),
    ]


def test_retention_deletes_old_rounds_with_everything_in_them(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_two_rounds(tmp_path))
    before = {
        t: query(tmp_path, f"SELECT count(*) FROM {t}")[0][0]
        for t in ("cycles", "checks", "answers", "submissions", "deadline_changes")
    }
    assert cli(config, "retention", "--older-than-years", "5", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "rounds closed more than 5 years ago: 2019" in out
    assert "would delete: 1 answers" in out and "1 cycles" in out and "1 deadline_changes" in out
    assert {t: query(tmp_path, f"SELECT count(*) FROM {t}")[0][0] for t in before} == before
    assert cli(config, "retention", "--older-than-years", "5") == 0
    assert "deleted: " in capsys.readouterr().out
    assert query(tmp_path, "SELECT name FROM cycles") == [("2027",)]
    assert query(tmp_path, "SELECT count(*) FROM answers") == [(1,)]
    assert query(tmp_path, "SELECT count(*) FROM submissions") == [(0,)]
    assert query(tmp_path, "SELECT key FROM outbox") == [("pending",)]
    assert query(tmp_path, "PRAGMA foreign_key_check") == []
    assert query(tmp_path, "SELECT count(*) FROM audit WHERE at < '2020'") == [(0,)]
    assert query(tmp_path, "SELECT count(*) FROM audit WHERE action = 'retention'") == [(1,)]
    assert cli(config, "retention", "--older-than-years", "0") == 2


async def _two_rounds(tmp_path: Path) -> None:
    """A round of 2019, closed that year, and the open round of 2027, each with an answer."""
    old = datetime(2019, 6, 1, tzinfo=UTC)
    async with await storage.open_database(tmp_path / "cli.sqlite3") as db, db.transaction():
        institution = await storage.add_institution(db, "ABH", "Amt", "code", old)
        member = await storage.join_institution(db, 1001, institution.id, "Anna", "de", old)
        for name, year in (("2019", 2019), ("2027", 2099)):
            cycle = await storage.open_cycle(db, name, "cclu", "1", date(year, 3, 31), old)
            check = await storage.check_for(db, institution.id, cycle.id)
            await storage.record_answer(
                db,
                check.id,
                storage.NewAnswer("K1", "fulfilment", "full", None, member.id, "cclu", "1"),
                old,
            )
            if name == "2019":
                await storage.enqueue(
                    db,
                    "digest:1:chart",
                    -100,
                    "chart",  # never delivered
                    {"institution_id": institution.id, "cycle_id": cycle.id},
                )
                await storage.set_deadline(db, cycle.id, date(2019, 4, 30), None, old)
                await storage.record_submission(db, check.id, member.id, {}, old)
                await storage.close_cycle(db, cycle.id, old)
        await storage.enqueue(db, "delivered", 1001, "message", {"text": "alt"}, old)
        await storage.enqueue(db, "pending", 1001, "message", {"text": "neu"}, old)
        delivered = next(m for m in await storage.due(db) if m.key == "delivered")
        await storage.mark_delivered(db, delivered.id, 1, old)


def test_audit_shows_who_did_what(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(config, "audit") == 0
    assert "empty" in capsys.readouterr().out
    assert cli(config, "institution", "add", "ABH", "Ausländerbehörde") == 0
    assert cli(config, "cycle", "open", "2027", "--deadline", "2099-03-31") == 0
    asyncio.run(_answer(tmp_path, "ABH", 1001))
    assert cli(config, "coordinator", "add", "5005") == 0
    capsys.readouterr()
    assert cli(config, "audit", "--limit", "3") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert re.search(r"member #1 \(Anna\)\s+member_join\s+ABH", lines[0])
    assert re.search(
        r"member #1 \(Anna\)\s+answer\s+ABH round '2027' K1.fulfilment "
        r"\(answer #1\)$",
        lines[1],
    )
    assert re.search(r"cli\s+coordinator_add\s+user 5005", lines[2])


async def test_existing_invite_links_keep_working_once_codes_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as patch:  # the database as version m003 left it
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        async with await storage.open_database(path) as db, db.transaction():
            await db.conn.execute(
                "INSERT INTO institutions (short, name, invite_code, created_at)"
                " VALUES ('ABH', 'Amt', 'old-plain-code', ?)",
                (NOW.isoformat(),),
            )
    async with await storage.open_database(path) as db:
        institution = await storage.institution_by_code(db, "old-plain-code")
        assert institution is not None and institution.short == "ABH"
        assert institution.invite_hash == hashlib.sha256(b"old-plain-code").hexdigest()
        assert await storage.institution_by_code(db, institution.invite_hash) is None
