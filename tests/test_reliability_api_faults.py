"""API-fault suite: Telegram answers a share of all calls with 5xx, 429 with retry_after, a
dropped connection or no answer at all, while members answer, submit and get reminders.

The bot must keep running; nothing acknowledged may be lost; every digest part and reminder
must arrive. Exactly once holds wherever Telegram's answer says what happened. Where the answer
is lost after Telegram acted (a dropped connection or a timeout), the bot cannot know: digest
parts are then sent again (at least once) and reminders are not (at most once). The suite
counts those faults and holds the bot to them: no doubled digest part without such a fault on
a group message, no lost reminder without one on a reminder.

CHANCENCHECK_FAULT_RATE sets the share of failing calls (default 0.12; three times that, at
most a half, for calls to the coordination group), CHANCENCHECK_FAULT_SEED
the seed, CHANCENCHECK_FAULT_MEMBERS the number of members (default 2), and
CHANCENCHECK_FAULT_PREFILLED how many of the 45 questions are answered beforehand (default 21).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botharness import Failure, running_bot
from reliability.fakes import Chaos, OpsBotApi
from reliability.figures import report
from reliability.inprocess import ShiftedClock
from reliability.members import Life, Member, judge
from reliability.world import (
    CATALOGUE,
    GROUP,
    configure,
    copies,
    prefill,
    reminder_moment,
    reminders_received,
    set_up,
)

import bot.reminders.sweep as reminders
from bot.telegram import app as bot_app
from bot.telegram.courier import COURIER

pytestmark = pytest.mark.slow  # a reliability suite (RELIABILITY.md)

RATE = float(os.environ.get("CHANCENCHECK_FAULT_RATE", "0.12"))
SEED = int(os.environ.get("CHANCENCHECK_FAULT_SEED", "2026"))  # fixed in CI; vary it by hand
MEMBERS = int(os.environ.get("CHANCENCHECK_FAULT_MEMBERS", "2"))
# Questions answered before the suite starts, so that it stays short; 0 answers all 45.
PREFILLED = int(os.environ.get("CHANCENCHECK_FAULT_PREFILLED", "21"))
AFTER_EFFECT = {"drop-after", "timeout-after"}  # Telegram acted, the bot never heard of it
BEFORE_EFFECT = {"drop-before", "timeout-before"}  # the same to the bot, but nothing happened
SENDS = {"sendMessage", "sendPhoto", "sendDocument"}


async def test_telegram_failing_at_random_loses_nothing_and_doubles_only_what_it_must(
    tmp_path: Path, server: OpsBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot_app, "FLUSH_INTERVAL", 1)
    monkeypatch.setattr(reminders, "FIRST_SWEEP", 0.3)
    monkeypatch.setattr(reminders, "SWEEP_INTERVAL", 1)
    config, _ = configure(tmp_path, server)
    deadline, moment = reminder_moment(10)
    staff = {f"F{n}": 6000 + n for n in range(MEMBERS)}
    await set_up(config, staff, deadline, datetime.now(UTC))
    for uid in staff.values():
        await prefill(config.storage.path, uid, PREFILLED)
    failures: list[Failure] = []
    # The coordination group's share is higher: the digest's parts must get through.
    chaos = Chaos(rate=RATE, seed=SEED, chat_rates={GROUP: min(3 * RATE, 0.5)})
    started = time.monotonic()
    clock = ShiftedClock(moment + timedelta(seconds=30))
    async with running_bot(config, server, clock, failures, read_timeout=1.0) as app:
        app.bot_data[COURIER].backoff_base = 0.2  # retries within the test's patience
        server.chaos = chaos
        life = Life()
        members = [
            Member(
                server,
                server.user(uid, f"P{uid}"),
                CATALOGUE,
                config.storage.path,
                life,
                seed=SEED + uid,
                reply_timeout=6,
            )
            for uid in staff.values()
        ]
        for member in members:
            member.prefilled = PREFILLED
        done = await asyncio.wait_for(
            asyncio.gather(*(m.answer_everything() for m in members)), timeout=300
        )
        await _settled(config.storage.path, len(staff))
        server.chaos = None
        probe = server.user(9999, "Probe")  # the bot still answers
        await probe.send_and_wait("/hilfe")

    verdict = judge(server, members)
    digests = _digests(server, config.storage.path)
    doubling_faults = sum(
        kind in AFTER_EFFECT and method in SENDS and chat == GROUP
        for method, kind, chat in chaos.log
    )
    received = {uid: reminders_received(server, uid) for uid in staff.values()}
    reminder_faults = sum(
        kind in BEFORE_EFFECT and method == "sendMessage" and chat in received
        for method, kind, chat in chaos.log
    )
    figures = {
        "seed": SEED,
        "fault_rate": RATE,
        "calls": len(server.requests),
        "faults_injected": sum(chaos.injected.values()),
        "faults_by_kind": dict(chaos.injected),
        "members": len(members),
        "submitted": sum(done),
        "answers_sent": verdict.answers,
        "answers_acknowledged": verdict.acknowledged,
        "answers_lost": len(verdict.lost),
        "answers_phantom": len(verdict.phantom),
        "resumes_checked": verdict.resumes,
        "resumes_wrong": len(verdict.wrong_resumes),
        **digests,
        "after_effect_faults_on_group_sends": doubling_faults,
        "reminders_expected": len(staff),
        "reminders_received": sum(received.values()),
        "reminders_doubled": sum(n - 1 for n in received.values() if n > 1),
        "reminders_lost": sum(n == 0 for n in received.values()),
        "before_effect_faults_on_member_sends": reminder_faults,
        "error_handler_calls": len(failures),
        "seconds": round(time.monotonic() - started, 1),
    }
    report("api-faults", figures)
    for story in verdict.lost + verdict.phantom + verdict.wrong_resumes:
        print(f"\n{story}")  # shown by pytest when an assertion below fails
    assert all(done), figures
    assert verdict.lost == [] and verdict.phantom == [], (verdict.lost, verdict.phantom)
    assert verdict.wrong_resumes == [], verdict.wrong_resumes
    assert digests["digest_parts_lost"] == 0, figures
    assert digests["digest_parts_doubled"] <= doubling_faults, figures
    assert figures["reminders_doubled"] == 0, figures
    assert figures["reminders_lost"] <= reminder_faults, figures
    assert probe.last_message().visible_text


async def _settled(db_path: Path, count: int) -> None:
    """Wait until every digest part is delivered and no reminder is still to be sent."""
    deadline = time.monotonic() + 120
    while True:
        with closing(sqlite3.connect(db_path)) as conn:
            parts, open_parts = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE delivered_at IS NULL) FROM outbox "
                "WHERE key LIKE 'digest:%'"
            ).fetchone()
            to_send = conn.execute(
                "SELECT count(*) FROM reminders WHERE status IN ('pending', 'sending')"
            ).fetchone()[0]
        if parts >= 4 * count and open_parts == 0 and to_send == 0:
            return
        assert time.monotonic() < deadline, (parts, open_parts, to_send)
        await asyncio.sleep(0.1)


def _digests(server: OpsBotApi, db_path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db_path)) as conn:
        rows = list(conn.execute("SELECT kind, payload FROM outbox WHERE key LIKE 'digest:%'"))
        shorts = dict(conn.execute("SELECT id, short FROM institutions"))
    counts = []
    for kind, text in rows:
        payload = json.loads(text)
        counts.append(copies(server, kind, payload, shorts.get(payload.get("institution_id"), "")))
    return {
        "digest_parts": len(counts),
        "digest_parts_lost": counts.count(0),
        "digest_parts_doubled": sum(c - 1 for c in counts if c > 1),
    }
