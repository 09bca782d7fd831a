"""A repeat check where nothing changed: a member confirms last round's answers, one tap each.

    python -m bench.carry                  # Bot API answered in-process, 50 ms per call
    python -m bench.carry --latency 0      # the bot's own time only

Round "2026" holds the institution's 45 answers and is closed; round "2027" is open. The
member sends /weiter, taps "✅ Stimmt noch so" on each requirement, then "Absenden" and
"Ja, absenden". Counted: the member's taps, the Bot API calls, and the wall time from the
first update to the last one handled, through the real Application and SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import storage
from bench.common import FIRST_USER, emit, production_logging, write_config
from bench.dialogue import InProcess, limiter
from bench.fakeapi import InProcessBotApi
from bench.members import BenchError, Member, Tracker, make_member
from bot.catalogue import load_catalogue
from bot.config import Config
from bot.core import admin
from bot.telegram.app import build_application
from storage.sql import fetch_value


async def last_year(config: Config, user_id: int) -> None:
    """Close round 2026 with all 45 answers of the member's institution; open round 2027."""
    catalogue = load_catalogue(config.checks.catalogue_path)
    today = date.today()
    async with await storage.open_database(config.storage.path) as db:
        invitation = await admin.add_institution(db, "ABH", "Ausländerbehörde")
        old = await admin.open_round(db, catalogue, "2026", today + timedelta(days=1), today)
        async with db.transaction():
            member = await storage.join_institution(
                db, user_id, invitation.institution.id, "Anna", "de"
            )
            check = await storage.check_for(db, invitation.institution.id, old.id)
            for requirement in catalogue.requirements:
                for key, value, text in (
                    ("fulfilment", "mostly", None),
                    ("potential", "yes", "Formulare in einfacher Sprache"),
                    ("measures", "planned", "Leichte Sprache, Team A, bis 06/2027"),
                ):
                    answer = storage.NewAnswer(
                        requirement.id, key, value, text, member.id, catalogue.id, catalogue.version
                    )
                    await storage.record_answer(db, check.id, answer)
            await storage.submit_check(db, check.id, member.id)
            await storage.close_cycle(db, old.id)
        await admin.open_round(db, catalogue, "2027", today + timedelta(days=30), today)


async def confirm_everything(member: Member, transport: InProcess) -> int:
    """Walk the repeat check by "Stimmt noch so" only; return the member's taps."""
    await transport.text(member, "/weiter")
    taps = 1
    for _ in range(100):
        active = transport.active(member.chat_id)
        if active is None:
            raise BenchError("no message with buttons to go on with")
        data = [
            b["callback_data"] for row in active["reply_markup"]["inline_keyboard"] for b in row
        ]
        carry = next((d for d in data if d.startswith("a:")), None)
        step = carry or next((d for d in ("y", "s") if d in data), None)
        if step is None:
            raise BenchError(f"no way on from buttons {data}")
        await transport.press(member, active, step)
        taps += 1
        if step == "y":
            return taps
    raise BenchError("the repeat check did not end")


async def measure(latency_ms: float, folder: Path) -> dict[str, Any]:
    production_logging(folder / "bot.log")
    config = write_config(folder)
    member = make_member(FIRST_USER, "")
    await last_year(config, member.chat_id)
    api = InProcessBotApi(latency=latency_ms / 1000)
    app = build_application(config, request=api, rate_limiter=limiter(False))
    tracker = Tracker()
    tracker.install(app)
    transport = InProcess(app, api, tracker)
    await app.initialize()
    await app.post_init(app)  # type: ignore[misc]
    await app.start()
    transport.join(member)
    started = time.perf_counter()
    try:
        taps = await confirm_everything(member, transport)
    finally:
        elapsed = time.perf_counter() - started
        await app.stop()
        await app.post_shutdown(app)  # type: ignore[misc]
        await app.shutdown()
    async with await storage.open_database(config.storage.path) as db:
        carried = await fetch_value(db.conn, "SELECT count(*) FROM answers WHERE carried = 1")
        submitted = await fetch_value(db.conn, "SELECT count(*) FROM submissions")
    calls = sum(api.calls.values())
    return {
        "latency_ms_per_call": latency_ms,
        "taps": taps,
        "bot_api_calls": calls,
        "calls_per_tap": round(calls / taps, 2),
        "walk_seconds": round(elapsed, 2),
        "bot_seconds_per_tap": round(elapsed / taps, 3),
        "answers_carried": carried,
        "submissions": submitted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=50.0, help="ms per Bot API call")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--dir", type=Path, help="folder for the databases (default: a temp one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-carry-", dir=args.dir) as folder:
            runs.append(asyncio.run(measure(args.latency, Path(folder))))
    result = sorted(runs, key=lambda r: float(r["walk_seconds"]))[len(runs) // 2]
    result["walk_seconds_each"] = [r["walk_seconds"] for r in runs]
    emit(result, args.json)


if __name__ == "__main__":
    main()
