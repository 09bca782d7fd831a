"""`chancencheck doctor` against the fake Bot API: what it finds, what it says to fix, its exit
code."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reliability.fakes import OpsBotApi, restricted
from reliability.world import GROUP, configure, set_up

import storage
from bot.cli.entry import main
from bot.config import load_config

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
async def ready(tmp_path: Path, server: OpsBotApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configured bot with a database, an open round and a coordination group."""
    config, path = configure(tmp_path, server)
    await set_up(
        config, {"ABH": 1001}, datetime.now(UTC).date() + timedelta(days=30), datetime.now(UTC)
    )
    monkeypatch.setenv("CHANCENCHECK_TELEGRAM_TOKEN", TOKEN)
    return path


async def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `chancencheck --config CONFIG doctor` as the operator would; return code and output."""
    code = await asyncio.to_thread(main, ["--config", str(config), "doctor"])
    return code, capsys.readouterr().out


def line(output: str, topic: str) -> str:
    return next(text for text in output.splitlines() if f" {topic} " in f" {text} ")


async def test_all_in_order(
    ready: Path, server: OpsBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    server.bot_member[GROUP] = {
        "status": "administrator",
        "user": server.bot_user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": False,
        "can_restrict_members": False,
        "can_promote_members": False,
        "can_change_info": False,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    code, out = await doctor(ready, capsys)
    assert code == 0, out
    assert line(out, "database").startswith("ok") and "none pending" in out
    assert "belongs to @chancencheck_test_bot" in line(out, "token")
    assert "can post to Koordinierungsgruppe" in out and "as administrator" in out
    assert line(out, "coordination").endswith("from [telegram] coordination_chat_id")
    reminders = line(out, "reminders")
    assert reminders.startswith("ok") and "days before" in reminders
    assert out.rstrip().endswith("everything the bot needs is in order")
    assert TOKEN not in out
    assert [r.method for r in server.requests if r.method.startswith(("send", "edit"))] == []


async def test_a_bot_that_may_not_send_files_to_the_group_is_a_problem(
    ready: Path, server: OpsBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    server.bot_member[GROUP] = restricted(server.bot_user, can_send_documents=False)
    code, out = await doctor(ready, capsys)
    assert code == 1
    assert line(out, "coordination").startswith("FAIL") and "may not send files" in out
    assert "→ allow it in the group's permissions" in out
    assert out.rstrip().endswith("1 problem to fix; run `chancencheck doctor` again afterwards")


async def test_a_removed_bot_and_an_unknown_group_are_problems(
    ready: Path, server: OpsBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    server.left.add(GROUP)
    code, out = await doctor(ready, capsys)
    assert code == 1 and "the bot is not a member of Koordinierungsgruppe" in out
    server.chats.pop(GROUP)
    code, out = await doctor(ready, capsys)
    assert code == 1 and f"the bot cannot see chat {GROUP}" in out
    assert "→ add the bot to the coordination group" in out


async def test_a_group_chosen_in_the_chat_outranks_the_config_and_is_fixed_there(
    ready: Path, server: OpsBotApi, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = -1009876543210  # stored by /koordinationsgruppe; the bot has left it since
    async with await storage.open_database(load_config(ready).storage.path) as db, db.transaction():
        await storage.set_setting(db, storage.COORDINATION_CHAT, str(chosen))
    code, out = await doctor(ready, capsys)
    assert code == 1
    assert f"the bot cannot see chat {chosen}" in out, out
    assert line(out, "coordination").endswith("chosen with /koordinationsgruppe")
    assert "→ add the bot to the coordination group and send /koordinationsgruppe there" in out


async def test_a_wrong_token_is_a_problem_and_is_not_printed(
    ready: Path,
    server: OpsBotApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "654321:WRONG-token-abcdefghijklmnopqrstuvwxyz"
    monkeypatch.setenv("CHANCENCHECK_TELEGRAM_TOKEN", wrong)
    code, out = await doctor(ready, capsys)
    assert code == 1
    assert line(out, "token").startswith("FAIL") and "Telegram refuses the token" in out
    assert wrong not in out


async def test_a_damaged_database_is_a_problem(
    ready: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = ready.parent / "bot.sqlite3"
    data = bytearray(database.read_bytes())
    data[4096 * 2 : 4096 * 2 + 512] = b"\xff" * 512  # a table page overwritten
    database.write_bytes(bytes(data))
    Path(f"{database}-wal").unlink(missing_ok=True)
    code, out = await doctor(ready, capsys)
    assert code == 1
    assert line(out, "database").startswith("FAIL"), out
    assert "restore" in out


async def test_pending_migrations_are_a_warning(
    ready: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with closing(sqlite3.connect(ready.parent / "bot.sqlite3")) as conn:
        conn.execute("DELETE FROM _migrations WHERE name = (SELECT max(name) FROM _migrations)")
        conn.commit()
    code, out = await doctor(ready, capsys)
    assert code == 0, out
    assert line(out, "database").startswith("warn") and "1 migration pending" in out
    assert "→ the bot applies them at start" in out


async def test_a_passed_deadline_is_a_warning(
    ready: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with closing(sqlite3.connect(ready.parent / "bot.sqlite3")) as conn:
        conn.execute(
            "UPDATE cycles SET deadline = ?",
            ((datetime.now(UTC).date() - timedelta(days=2)).isoformat(),),
        )
        conn.commit()
    code, out = await doctor(ready, capsys)
    assert code == 0, out  # a warning, not a failure
    assert line(out, "reminders").startswith("warn") and "has passed" in out
    assert "→ move it (`chancencheck cycle deadline YYYY-MM-DD`)" in out


async def test_without_a_database_and_round_it_says_how_to_begin(
    tmp_path: Path,
    server: OpsBotApi,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, path = configure(tmp_path, server)
    monkeypatch.setenv("CHANCENCHECK_TELEGRAM_TOKEN", TOKEN)
    code, out = await doctor(path, capsys)
    assert "does not exist yet" in out and "chancencheck db migrate" in out
    assert "no round is open" in out
    assert code == 0, out
