"""SIGTERM, as systemd sends it: the bot finishes the updates in flight, records what it sent,
and exits within seconds. The bot runs as `python -m bot --config … run`, as in production."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reliability.fakes import OpsBotApi
from reliability.world import GROUP, configure, group_sends, prefill, set_up

pytestmark = pytest.mark.slow  # the bot as a child process, stopped with SIGTERM: ~15 s

USER = 3131


class Cli:
    """`python -m bot --config CONFIG run` as a child process, its log in a file."""

    def __init__(self, server: OpsBotApi, config_path: Path, log: Path) -> None:
        self.server, self.config_path, self.log = server, config_path, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        polls = len(self.server.calls("getUpdates"))
        env = {**os.environ, "CHANCENCHECK_TELEGRAM_TOKEN": self.server.token}
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--config",
                str(self.config_path),
                "run",
                env=env,
                stdout=out,
                stderr=out,
            )
        deadline = time.monotonic() + 30
        while len(self.server.calls("getUpdates")) <= polls:
            assert time.monotonic() < deadline and self.proc.returncode is None, self.text()
            await asyncio.sleep(0.02)

    async def terminate(self) -> tuple[int, float]:
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout=30)
        return code, time.monotonic() - started

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def test_sigterm_finishes_the_answer_in_flight_and_exits_within_seconds(
    tmp_path: Path, server: OpsBotApi
) -> None:
    config, config_path = configure(tmp_path, server)
    await set_up(
        config, {"ABH": USER}, datetime.now(UTC).date() + timedelta(days=30), datetime.now(UTC)
    )
    bot = Cli(server, config_path, tmp_path / "bot.log")
    await bot.start()
    anna = server.user(USER, "Anna")
    await anna.send_and_wait("/weiter", timeout=15)
    server.slow["editMessageText"] = 1.5  # Telegram is slow to show the answer
    since = len(server.requests)
    anna.press_button("🟢 vollständig erfüllt")
    await server.wait_for(lambda r: r.method == "editMessageText", start=since, timeout=10)
    code, seconds = await bot.terminate()  # while the update is in flight

    assert code == 0, bot.text()[-3000:]
    assert seconds < 5, seconds
    replies = [r.method for r in server.requests[since:] if r.status == 200]
    assert "sendMessage" in replies, "the next question was still sent"
    with closing(sqlite3.connect(config.storage.path)) as conn:
        assert conn.execute("SELECT value FROM answers").fetchall() == [("full",)]
    log = bot.text()
    assert "SIGTERM: finishing the updates in flight" in log and "bot stopped" in log
    assert server.token not in log


async def test_sigterm_during_a_digest_records_every_part_sent_and_sends_none_twice(
    tmp_path: Path, server: OpsBotApi
) -> None:
    config, config_path = configure(tmp_path, server)
    await set_up(
        config, {"ABH": USER}, datetime.now(UTC).date() + timedelta(days=30), datetime.now(UTC)
    )
    await prefill(config.storage.path, USER, 44)
    bot = Cli(server, config_path, tmp_path / "bot.log")
    await bot.start()
    anna = server.user(USER, "Anna")
    await anna.send_and_wait("/weiter", timeout=15)
    server.slow["sendPhoto"] = 1.0  # the chart takes its time to upload
    await anna.press_button_and_wait("Keine Maßnahmen geplant", timeout=15)
    await anna.press_button_and_wait("✅ Absenden", timeout=15)
    anna.press_button("✅ Ja, absenden")
    await server.wait_for(
        lambda r: r.method == "sendPhoto" and r.params.get("chat_id") == GROUP, timeout=60
    )
    code, seconds = await bot.terminate()  # while the chart is on its way

    assert code == 0 and seconds < 10, (code, seconds, bot.text()[-3000:])
    with closing(sqlite3.connect(config.storage.path)) as conn:
        recorded = {
            row[0]
            for row in conn.execute("SELECT message_id FROM outbox WHERE delivered_at IS NOT NULL")
        }
        waiting = conn.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()
    sent = {r.result["message_id"] for r in group_sends(server)}
    assert sent == recorded, "every part Telegram accepted is recorded as delivered"
    assert waiting[0] > 0, "the parts not yet sent wait for the next start"
    await bot.start()
    deadline = time.monotonic() + 60
    while len(group_sends(server)) < len(sent) + waiting[0]:
        assert time.monotonic() < deadline, bot.text()[-3000:]
        await asyncio.sleep(0.1)
    await bot.terminate()
    kinds = [r.method for r in group_sends(server)]
    assert kinds.count("sendPhoto") == 1 and kinds.count("sendDocument") == 2
