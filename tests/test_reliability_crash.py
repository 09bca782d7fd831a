"""Crash suite: the bot as its own process, killed with SIGKILL at random moments while members
answer, restarted each time. Nothing the bot acknowledged may be lost, no digest or reminder
lost or doubled, and every member resumes at the first open question.

CHANCENCHECK_CRASH_KILLS sets the number of kills while members answer (default 20; two more
follow while the digests are sent), CHANCENCHECK_CRASH_SEED the random seed,
CHANCENCHECK_CRASH_MEMBERS the number of members (default 3, one per institution).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
import time as clock
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reliability.fakes import OpsBotApi
from reliability.figures import report
from reliability.members import Life, Member, judge
from reliability.world import (
    CATALOGUE,
    GROUP,
    configure,
    copies,
    group_sends,
    prefill,
    reminder_moment,
    reminders_received,
    set_up,
)

pytestmark = pytest.mark.slow  # a reliability suite (RELIABILITY.md)

RUNNER = Path(__file__).parent / "reliability" / "botprocess.py"
KILLS = int(os.environ.get("CHANCENCHECK_CRASH_KILLS", "20"))
SEED = int(os.environ.get("CHANCENCHECK_CRASH_SEED", "2026"))  # fixed in CI; vary it by hand
MEMBERS = int(os.environ.get("CHANCENCHECK_CRASH_MEMBERS", "3"))
AFTER = 2  # kills after the members are done, while the digests are sent
THINK = (0.02, 0.2)  # seconds a member takes to read a question
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


class BotProcess:
    """Start, kill and stop the bot process; count the kills that hit a delivery in flight."""

    def __init__(
        self, server: OpsBotApi, config_path: Path, db_path: Path, offset: float, log: Path
    ) -> None:
        self.server, self.config_path, self.db_path = server, config_path, db_path
        self.env = {
            **os.environ,
            "CHANCENCHECK_TELEGRAM_TOKEN": TOKEN,
            "CHANCENCHECK_TEST_CLOCK_OFFSET": str(offset),
        }
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.kills = 0
        self.in_flight_hits = 0  # kills between Telegram accepting a digest part and its record

    async def start(self, wait: bool = True) -> None:
        polls = len(self.server.calls("getUpdates"))
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(RUNNER),
                str(self.config_path),
                env=self.env,
                stdout=out,
                stderr=out,
            )
        if wait:
            deadline = clock.monotonic() + 30
            while len(self.server.calls("getUpdates")) <= polls:
                assert clock.monotonic() < deadline, "the bot did not start polling"
                assert self.proc.returncode is None, self.log.read_text()[-3000:]
                await asyncio.sleep(0.02)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.kills += 1
        self.in_flight_hits += self._unrecorded_deliveries()

    def _unrecorded_deliveries(self) -> int:
        """Count group messages Telegram accepted that the outbox does not record (yet)."""
        with closing(sqlite3.connect(self.db_path)) as conn:
            recorded = {
                row[0]
                for row in conn.execute(
                    "SELECT message_id FROM outbox WHERE message_id IS NOT NULL"
                )
            }
        seen = getattr(self, "_seen", set())
        hits = {r.result["message_id"] for r in group_sends(self.server)} - recorded - seen
        self._seen = seen | hits
        return len(hits)

    async def stop(self) -> float:
        """SIGTERM the process; return how long it took to exit."""
        assert self.proc is not None
        started = clock.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout=30)
        assert code == 0, self.log.read_text()[-3000:]
        return clock.monotonic() - started


async def test_sigkill_at_random_moments_loses_nothing_acknowledged(
    tmp_path: Path, server: OpsBotApi
) -> None:
    rng = random.Random(SEED)
    config, config_path = configure(tmp_path, server, level="WARNING")
    deadline, moment = reminder_moment(10)
    now = datetime.now(UTC)
    staff = {f"I{n}": 5000 + n for n in range(MEMBERS)}
    await set_up(config, staff, deadline, now)
    offset = (moment - now + timedelta(seconds=30)).total_seconds()
    bot = BotProcess(server, config_path, config.storage.path, offset, tmp_path / "bot.log")
    life = Life()
    members = [
        Member(
            server,
            server.user(uid, f"P{uid}"),
            CATALOGUE,
            config.storage.path,
            life,
            seed=SEED + uid,
        )
        for uid in staff.values()
    ]
    started = clock.monotonic()

    for member in members:
        member.think = THINK  # so that they still answer when the last kill comes
    answering = [asyncio.create_task(m.answer_everything()) for m in members]
    while_answering = while_delivering = 0

    def answered() -> bool:
        return all(task.done() for task in answering)

    async def live_and_die() -> None:
        early = rng.random() < 0.15  # now and then while it starts up
        await bot.start(wait=not early)
        life.started()
        await asyncio.sleep(rng.uniform(0.1, 0.6) if early else rng.uniform(0.05, 1.2))
        life.died()
        await bot.kill()

    while while_answering < KILLS and not answered():
        await live_and_die()
        while_answering += 1
    await bot.start()
    life.started()
    done = await asyncio.wait_for(asyncio.gather(*answering), timeout=240)
    for _ in range(AFTER):  # while the digests are on their way
        await asyncio.sleep(rng.uniform(0.05, 1.2))
        await bot.kill()
        while_delivering += 1
        await bot.start()
    await _wait_for_digests(server, config.storage.path, len(staff))
    stop_seconds = await bot.stop()

    verdict = judge(server, members)
    digests = _digest_figures(server, config.storage.path)
    reminders = _reminder_figures(server, config.storage.path, staff)
    windows = _delivery_windows(server, config.storage.path, offset)
    figures = {
        "seed": SEED,
        "kills": bot.kills,
        "kills_while_members_answered": while_answering,
        "kills_after_they_submitted": while_delivering,
        "members": len(members),
        "submitted": sum(done),
        "inputs": sum(len(m.inputs) for m in members),
        "answers_sent": verdict.answers,
        "answers_acknowledged": verdict.acknowledged,
        "answers_lost": len(verdict.lost),
        "answers_phantom": len(verdict.phantom),
        "resumes_checked": verdict.resumes,
        "resumes_wrong": len(verdict.wrong_resumes),
        **digests,
        **reminders,
        "kills_in_delivery_window": bot.in_flight_hits,
        # From Telegram's answer to the bot's record of it, per digest part: only a kill in
        # this window doubles a part; the chance of a random kill hitting one is their sum
        # over the bot's time alive.
        "delivery_window_ms_median": windows[len(windows) // 2] if windows else None,
        "delivery_window_ms_max": windows[-1] if windows else None,
        "sigterm_exit_seconds": round(stop_seconds, 2),
        "seconds": round(clock.monotonic() - started, 1),
    }
    report("crash", figures)
    for story in verdict.lost + verdict.phantom + verdict.wrong_resumes:
        print(f"\n{story}")  # shown by pytest when an assertion below fails
    assert all(done), f"not every member could submit: {figures}"
    assert while_answering >= KILLS, f"the members were done too soon: {figures}"
    assert verdict.lost == [], verdict.lost
    assert verdict.phantom == [], verdict.phantom
    assert verdict.wrong_resumes == [], verdict.wrong_resumes
    assert digests["digest_parts_lost"] == 0, figures
    # At least once: only a kill after Telegram accepted a part and before the bot recorded it
    # may double that part; see RELIABILITY.md.
    assert digests["digest_parts_doubled"] <= bot.in_flight_hits, figures
    assert reminders["reminders_doubled"] == 0, figures
    assert stop_seconds < 10


async def _wait_for_digests(server: OpsBotApi, db_path: Path, count: int) -> None:
    """Wait until every digest part in the outbox is delivered."""
    deadline = clock.monotonic() + 90
    while True:
        with closing(sqlite3.connect(db_path)) as conn:
            open_parts = conn.execute(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
            ).fetchone()[0]
            parts = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        if open_parts == 0 and parts >= 4 * count:
            return
        assert clock.monotonic() < deadline, f"{open_parts} of {parts} digest parts undelivered"
        await asyncio.sleep(0.1)


def _digest_figures(server: OpsBotApi, db_path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db_path)) as conn:
        rows = list(conn.execute("SELECT kind, payload FROM outbox WHERE key LIKE 'digest:%'"))
        shorts = dict(conn.execute("SELECT id, short FROM institutions"))
    counts = []
    for kind, text in rows:
        payload = json.loads(text)
        short = shorts.get(payload.get("institution_id"), "")
        counts.append(copies(server, kind, payload, short))
    return {
        "digest_parts": len(counts),
        "digest_parts_lost": counts.count(0),
        "digest_parts_doubled": sum(c - 1 for c in counts if c > 1),
        "group_messages": len(group_sends(server)),
    }


def _delivery_windows(server: OpsBotApi, db_path: Path, offset: float) -> list[float]:
    """Return, per delivered digest part, the milliseconds from Telegram's answer to its record."""
    wall = clock.time() - clock.monotonic()  # the fake stamps requests with the monotonic clock
    answered = {
        r.result["message_id"]: r.finished + wall
        for r in group_sends(server)
        if r.finished is not None
    }
    with closing(sqlite3.connect(db_path)) as conn:
        rows = list(
            conn.execute(
                "SELECT message_id, delivered_at FROM outbox "
                "WHERE delivered_at IS NOT NULL AND key LIKE 'digest:%'"
            )
        )
    windows = [
        (datetime.fromisoformat(at).timestamp() - offset - answered[mid]) * 1000
        for mid, at in rows
        if mid in answered
    ]
    return sorted(round(w, 1) for w in windows)


def _reminder_figures(server: OpsBotApi, db_path: Path, staff: dict[str, int]) -> dict[str, int]:
    received = {uid: reminders_received(server, uid) for uid in staff.values()}
    with closing(sqlite3.connect(db_path)) as conn:
        statuses = dict(conn.execute("SELECT status, count(*) FROM reminders GROUP BY status"))
    return {
        "reminders_received": sum(received.values()),
        "reminders_doubled": sum(n - 1 for n in received.values() if n > 1),
        "reminders_uncertain": statuses.get("uncertain", 0),
        "reminders_sent_recorded": statuses.get("sent", 0),
    }


async def test_a_kill_after_telegram_accepted_a_digest_part_doubles_that_part_only(
    tmp_path: Path, server: OpsBotApi
) -> None:
    """The courier's window, hit on purpose: Telegram accepts the report and the bot dies before
    it hears so. After the restart the report is sent again (at least once); nothing else is."""
    config, config_path = configure(tmp_path, server, level="WARNING")
    await set_up(
        config, {"ABH": 5001}, datetime.now(UTC).date() + timedelta(days=30), datetime.now(UTC)
    )
    await prefill(config.storage.path, 5001, 44)
    bot = BotProcess(server, config_path, config.storage.path, 0, tmp_path / "bot.log")
    await bot.start()
    killed = asyncio.Event()

    def kill_after_report(method: str, params: dict[str, object]) -> None:
        if method == "sendDocument" and params.get("chat_id") == GROUP and not killed.is_set():
            assert bot.proc is not None
            bot.proc.send_signal(signal.SIGKILL)  # before the bot reads Telegram's answer
            killed.set()

    server.after_effect = kill_after_report
    member = Member(server, server.user(5001, "P5001"), CATALOGUE, config.storage.path, Life(), 1)
    member.prefilled = 44
    assert await member.answer_everything()
    await asyncio.wait_for(killed.wait(), timeout=60)
    await bot.proc.wait()
    await bot.start()
    await _wait_for_digests(server, config.storage.path, 1)
    await bot.stop()
    digests = _digest_figures(server, config.storage.path)
    report("crash-window", {"kills_after_acceptance": 1, **digests})
    assert digests["digest_parts_lost"] == 0
    assert digests["digest_parts_doubled"] == 1, digests
