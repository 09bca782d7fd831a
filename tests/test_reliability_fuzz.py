"""Hostile-input suite: a fuzzer sends random and malformed updates of every kind.

The bot must never reach its error handler, reply to every private message, answer every button
press, keep the database sound, and change no stored answer that the input had no right to.

CHANCENCHECK_FUZZ_INPUTS sets the number of updates (default 1200), CHANCENCHECK_FUZZ_SEED the
seed.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botharness import Failure, running_bot
from reliability.fakes import OpsBotApi
from reliability.figures import report
from reliability.fuzz import Fuzzer, Planned
from reliability.world import GROUP, configure, prefill, set_up

import storage

pytestmark = pytest.mark.slow  # a reliability suite (RELIABILITY.md)

INPUTS = int(os.environ.get("CHANCENCHECK_FUZZ_INPUTS", "1200"))
SEED = int(os.environ.get("CHANCENCHECK_FUZZ_SEED", "2026"))  # fixed in CI; vary it by hand
BATCH = 20  # updates at once, each from another chat, so that replies can be told apart
OPEN, SUBMITTED = 8001, 8002  # members: one mid-way through the check, one done


def snapshot(db_path: Path) -> dict[str, Any]:
    """Return what no input from these users may change."""
    with closing(sqlite3.connect(db_path)) as conn:
        return {
            "submitted_answers": list(
                conn.execute(
                    "SELECT a.* FROM answers a JOIN checks c ON c.id = a.check_id "
                    "WHERE c.status = 'submitted' ORDER BY a.id"
                )
            ),
            "checks": list(conn.execute("SELECT id, institution_id, status FROM checks")),
            "members": sorted(conn.execute("SELECT telegram_user_id, institution_id FROM members")),
            "institutions": list(conn.execute("SELECT id, short, name FROM institutions")),
            "cycles": list(conn.execute("SELECT id, name, deadline, closed_at FROM cycles")),
        }


async def test_a_thousand_hostile_updates_break_nothing(tmp_path: Path, server: OpsBotApi) -> None:
    rng = random.Random(SEED)
    config, _ = configure(tmp_path, server)
    await set_up(
        config,
        {"ABH": OPEN, "VHS": SUBMITTED},
        datetime.now(UTC).date() + timedelta(days=30),
        datetime.now(UTC),
    )
    await prefill(config.storage.path, OPEN, 10)
    await prefill(config.storage.path, SUBMITTED, 45)
    await _submit(config.storage.path, SUBMITTED)
    before = snapshot(config.storage.path)
    revisions_before = _count(config.storage.path, "SELECT max(id) FROM answers")
    failures: list[Failure] = []
    missing: list[Planned] = []
    sent_by_open: list[str] = []
    tried: dict[str, int] = {}
    started = time.monotonic()
    async with running_bot(config, server, failures=failures):
        fuzzer = Fuzzer(server, rng, [OPEN, SUBMITTED], [GROUP, -4001, -4002])
        for _ in range(max(1, INPUTS // BATCH)):
            since = len(server.requests)
            senders = [OPEN, SUBMITTED, *rng.sample(fuzzer.unknown, BATCH - 2)]
            batch = [_plan(fuzzer, rng, uid) for uid in senders]
            for planned in batch:
                tried[planned.kind] = tried.get(planned.kind, 0) + 1
                message = planned.update.get("message") or {}
                if planned.chat_id == OPEN and isinstance(message, dict):
                    sent_by_open += [message.get("text") or "", message.get("caption") or ""]
            missing += await _wait_for(server, batch, since)

    after = snapshot(config.storage.path)
    integrity = _rows(config.storage.path, "PRAGMA integrity_check")
    foreign = _rows(config.storage.path, "PRAGMA foreign_key_check")
    new_revisions = _rows(
        config.storage.path,
        "SELECT a.text, m.telegram_user_id FROM answers a "
        "LEFT JOIN members m ON m.id = a.author_id WHERE a.id > ?",
        (revisions_before,),
    )
    unexplained = [
        (text, who)
        for text, who in new_revisions
        if who != OPEN
        or (
            text is not None
            and text not in sent_by_open
            and text not in {t.strip() for t in sent_by_open}
        )
    ]
    figures = {
        "seed": SEED,
        "inputs_tried": sum(tried.values()),
        "by_kind": tried,
        "error_handler_calls": len(failures),
        "unanswered": len(missing),
        "integrity": integrity[0][0],
        "foreign_key_problems": len(foreign),
        "answers_stored_from_fuzz": len(new_revisions),
        "answers_changed_unexpectedly": len(unexplained) + (after != before),
        "bot_requests": len(server.requests),
        "seconds": round(time.monotonic() - started, 1),
    }
    report("fuzz", figures)
    assert failures == [], [(f.update, repr(f.error)) for f in failures[:5]]
    assert missing == [], [(p.kind, p.expects, p.update) for p in missing[:5]]
    assert integrity == [("ok",)] and foreign == []
    assert after == before
    assert unexplained == [], unexplained[:5]


def _plan(fuzzer: Fuzzer, rng: random.Random, uid: int) -> Planned:
    roll = rng.random()
    if uid in (OPEN, SUBMITTED) and roll < 0.6:
        return fuzzer.member_turn(uid)
    if roll < 0.55:
        return fuzzer.private(uid)
    if roll < 0.75:
        return fuzzer.button(uid)
    if roll < 0.85:
        return fuzzer.group(rng.choice(fuzzer.groups))
    if roll < 0.9:
        return fuzzer.channel()
    if roll < 0.96:
        return fuzzer.other(uid)
    return fuzzer.malformed(uid)


async def _wait_for(
    server: OpsBotApi, batch: list[Planned], since: int, timeout: float = 15
) -> list[Planned]:
    """Wait until the bot took the batch and owes nothing; return what it left unanswered."""
    last = max(p.update["update_id"] for p in batch)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tail = [r for r in server.requests[since:] if r.method != "getUpdates"]
        owed = [p for p in batch if not _done(p, tail)]
        quiet = not tail or (
            all(r.finished for r in tail)
            and time.monotonic() - max(r.finished or 0 for r in tail) > 0.05
        )
        if server.confirmed_offset > last and not owed and quiet:
            return []
        await asyncio.sleep(0.02)
    return [p for p in batch if not _done(p, server.requests[since:])]


def _done(planned: Planned, requests: list[Any]) -> bool:
    if planned.expects == "reply":
        return any(
            r.method == "sendMessage"
            and r.status == 200
            and str(r.params.get("chat_id")) == str(planned.chat_id)
            for r in requests
        )
    if planned.expects == "answer":
        return any(
            r.method == "answerCallbackQuery"
            and r.status == 200
            and r.params.get("callback_query_id") == planned.query_id
            for r in requests
        )
    return True


async def _submit(db_path: Path, user_id: int) -> None:
    async with await storage.open_database(db_path) as db, db.transaction():
        member = await storage.member_by_user(db, user_id)
        cycle = await storage.current_cycle(db)
        assert member is not None and cycle is not None
        check = await storage.check_for(db, member.institution_id, cycle.id)
        await storage.submit_check(db, check.id, member.id, datetime.now(UTC))


def _rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db_path)) as conn:
        return list(conn.execute(sql, params))


def _count(db_path: Path, sql: str) -> int:
    return _rows(db_path, sql)[0][0] or 0


async def test_commands_queued_from_a_group_the_bot_left_are_dropped(
    tmp_path: Path, server: OpsBotApi
) -> None:
    """Found by the fuzzer: the bot leaves a group it does not belong in, and a command from
    that group, fetched with the same batch, failed with Forbidden when the bot answered it."""
    config, _ = configure(tmp_path, server)
    await set_up(
        config, {"ABH": OPEN}, datetime.now(UTC).date() + timedelta(days=30), datetime.now(UTC)
    )
    failures: list[Failure] = []
    async with running_bot(config, server, failures=failures):
        stranger = server.user(7_000_001, "Eve").in_group(-4711, "Fremd", "supergroup")
        since = len(server.requests)
        stranger.message(new_chat_members=[server.bot_user])
        queued = stranger.send("/bericht ABH")
        await server.wait_for(lambda r: r.method == "leaveChat", start=since)
        await stranger.wait_answered(queued, since=since, expect_reply=False)
        server.add_chat(stranger.chat)  # added once more: the bot is in the group again
        again = stranger.message(new_chat_members=[server.bot_user])
        await stranger.wait_answered(again, since=since)
    assert failures == []
    sends = [
        r.status
        for r in server.requests[since:]
        if r.method == "sendMessage" and r.params.get("chat_id") == -4711
    ]
    assert sends == [200, 200], "told to use the private chat, twice; the command dropped"
