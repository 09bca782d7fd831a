"""Reminders to N members through a fake Bot API that enforces Telegram's limits.

    python -m bench.fanout --recipients 300 [--latency 50]

The fake HTTP server (bench.httpapi on tests/fakebot) admits about 30 messages a second overall
and one a second per chat, like Telegram, and answers 429 with `retry_after` beyond that. The
bot is the real Application with its AIORateLimiter; the reminder sweep (bot.reminders.sweep)
runs at a moment when the 7-day reminder is due for everyone, and again until nothing is left
(in production the next sweep comes a minute later; the count of sweeps needed is reported).

Share of the allowed rate: in T seconds from the sweep's start to the last delivery, the limits
admit 30 + 30·T messages (a burst of 30, then 30 a second); the share is delivered / that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import bot.reminders.delivery as reminders_delivery
import storage
from bench.common import FIRST_USER, emit, machine, peak_rss_mb, write_config
from bench.httpapi import BenchBotApi, Limits
from bot.catalogue import load_catalogue
from bot.reminders.sweep import sweep
from bot.services import SERVICES, Services
from bot.telegram.app import build_application

OPENED = datetime(2027, 3, 1, 10, tzinfo=UTC)
DEADLINE = date(2027, 3, 30)
SEVEN_DAYS = datetime(2027, 3, 23, 8, 0, 30, tzinfo=UTC)  # 09:00:30 in Ludwigshafen
MEMBERS_PER_INSTITUTION = 10
MAX_SWEEPS = 20


async def set_up(config: Any, recipients: int) -> list[int]:
    """Open a round and add institutions with `recipients` members; return their user ids."""
    catalogue = load_catalogue(config.checks.catalogue_path)
    users = [FIRST_USER + n for n in range(recipients)]
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        await storage.open_cycle(db, "2027", catalogue.id, catalogue.version, DEADLINE, OPENED)
        institution = None
        for number, user in enumerate(users):
            if number % MEMBERS_PER_INSTITUTION == 0:
                short = f"E{number // MEMBERS_PER_INSTITUTION:04d}"
                institution = await storage.add_institution(
                    db, short, f"Amt {short}", f"code{short}", OPENED
                )
            assert institution is not None
            await storage.join_institution(db, user, institution.id, f"P{user}", "de", OPENED)
    return users


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    if args.in_flight:  # e.g. 1: one message after another, as the sweep sent before
        reminders_delivery.IN_FLIGHT = args.in_flight
    server = await BenchBotApi(
        limits=Limits(args.overall, args.per_chat), latency=args.latency / 1000
    ).start()
    try:
        config = write_config(folder, base_url=f"http://127.0.0.1:{server.port}")
        users = await set_up(config, args.recipients)
        for user in users:
            server.user(user, f"P{user}")
        app = build_application(config, clock=lambda: SEVEN_DAYS)
        async with app:
            await app.post_init(app)  # type: ignore[misc]
            services: Services = app.bot_data[SERVICES]
            started, sweeps, outcomes = time.monotonic(), 0, Counter[str]()
            while sweeps < MAX_SWEEPS:
                sweeps += 1
                report = await sweep(services, app.bot, SEVEN_DAYS)
                outcomes.update({o.value: n for o, n in report.outcomes.items()})
                if not report.outcomes:
                    break
            finished = time.monotonic()
            statuses = await storage.reminders_of_cycle(services.db, 1)
            await app.post_shutdown(app)  # type: ignore[misc]
    finally:
        await server.stop()
    return _figures(
        args,
        server,
        users,
        started,
        finished,
        sweeps,
        outcomes,
        Counter(r.status for r in statuses),
    )


def _figures(
    args: argparse.Namespace,
    server: BenchBotApi,
    users: list[int],
    started: float,
    finished: float,
    sweeps: int,
    outcomes: Counter[str],
    statuses: Counter[str],
) -> dict[str, Any]:
    sent = [(at, chat) for at, method, chat in server.accepted if method == "sendMessage"]
    per_chat = Counter(chat for _, chat in sent)
    last = max((at for at, _ in sent), default=started)
    took = last - started
    allowed = args.overall + args.overall * took
    return {
        "recipients": args.recipients,
        "latency_ms": args.latency,
        "in_flight": reminders_delivery.IN_FLIGHT,
        "delivered": len(sent),
        "seconds": round(took, 2),
        "rate_per_s": round(len(sent) / took, 1) if took else None,
        "share_of_allowed": round(len(sent) / allowed, 3),
        "responses_429": sum(server.refused.values()),
        "lost": sum(1 for user in users if per_chat[user] == 0),
        "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
        "sweeps": sweeps - 1 if sweeps > 1 else sweeps,  # the last found nothing left
        "outcomes": dict(outcomes),
        "reminder_rows": dict(statuses),
        "sweep_seconds": round(finished - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="milliseconds the fake server takes per call (a round trip)",
    )
    parser.add_argument("--overall", type=float, default=30.0, help="messages/s, all chats")
    parser.add_argument("--per-chat", type=float, default=1.0, help="messages/s per chat")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=0,
        help="messages on their way at once (default: the bot's IN_FLIGHT)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (fresh processes)")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser.parse_args(argv)


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fanout-", dir=args.dir) as tmp:
        return asyncio.run(measure(args, Path(tmp)))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.repeat <= 1:
        emit(run_once(args), args.json)
        return
    child = list(argv if argv is not None else sys.argv[1:])
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run(
            [sys.executable, "-m", "bench.fanout", *child, "--repeat", "1", "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary = dict(runs[0])
    for key in (
        "delivered",
        "seconds",
        "rate_per_s",
        "share_of_allowed",
        "responses_429",
        "sweep_seconds",
        "peak_rss_mb",
    ):
        summary[key] = statistics.median(run[key] for run in runs)
    for key in ("lost", "duplicates", "sweeps"):
        summary[key] = max(run[key] for run in runs)  # the worst run counts
    summary["share_each"] = [run["share_of_allowed"] for run in runs]
    summary["runs"] = len(runs)
    summary["machine"] = machine(Path(args.dir or tempfile.gettempdir()))
    emit(summary, args.json)


if __name__ == "__main__":
    main()
