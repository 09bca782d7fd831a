"""Logs: one line per event with its level and context (update, chat, institution); never the
token, the webhook secret, or what a member typed at INFO."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from botharness import running_bot
from reliability.fakes import OpsBotApi
from reliability.world import configure, set_up

from bot.logcontext import CURRENT, LogContext, OneLineFormatter

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
SECRET_ANSWER = "Formulare nur auf Deutsch, Geheimnis 4711"


def test_a_record_is_one_line_with_its_context_and_without_secrets() -> None:
    formatter = OneLineFormatter((TOKEN, "webhook-secret"))
    token = CURRENT.set(LogContext(17, 1001, "ABH"))
    try:
        try:
            raise RuntimeError(f"failed at https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError as exc:
            record = logging.LogRecord(
                "bot.x",
                logging.ERROR,
                __file__,
                1,
                "name %s\nforged line webhook-secret",
                ("Eve\r\n",),
                (type(exc), exc, exc.__traceback__),
            )
        line = formatter.format(record)
    finally:
        CURRENT.reset(token)
    assert "\n" not in line and "\r" not in line
    assert " ERROR bot.x [update=17 chat=1001 institution=ABH] name Eve" in line
    assert TOKEN not in line and "webhook-secret" not in line and "<secret>" in line
    assert "Traceback" in line  # still there, on the same line
    outside = formatter.format(
        logging.LogRecord("bot.y", logging.INFO, __file__, 1, "idle", (), None)
    )
    assert "[-] idle" in outside


async def test_each_update_is_logged_with_its_context_and_no_answer_text(
    tmp_path: Path, server: OpsBotApi
) -> None:
    config, _ = configure(tmp_path, server)
    await set_up(
        config, {"ABH": 1001}, datetime.now(UTC).date() + timedelta(days=30), datetime.now(UTC)
    )
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLineFormatter((TOKEN,)))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        async with running_bot(config, server):
            anna = server.user(1001, "Anna")
            await anna.send_and_wait("/weiter")
            await anna.press_button_and_wait("🟢 vollständig erfüllt")
            await anna.press_button_and_wait("Ja")
            sent = await anna.send_and_wait(SECRET_ANSWER)
            stranger = server.user(2002, "Eve")
            await stranger.send_and_wait("hallo\nforged INFO line")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = out.getvalue().splitlines()
    update_lines = [line for line in lines if "bot.telegram.handlers.tracing" in line]
    assert len(update_lines) == 5, lines
    assert any(
        "[update=" in line
        and "chat=1001 institution=ABH]" in line
        and "private message: text" in line
        for line in update_lines
    )
    assert any("chat=2002]" in line for line in update_lines), "a stranger has no institution"
    text = out.getvalue()
    assert SECRET_ANSWER not in text and "forged" not in text and TOKEN not in text
    assert all(" INFO " in line or " WARNING " in line or " ERROR " in line for line in lines)
    assert sent
