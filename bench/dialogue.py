"""N members complete the whole check at once, through the real Application and SQLite file.

    python -m bench.dialogue --members 100            # Bot API answered in-process
    python -m bench.dialogue --members 100 --http     # through the fake HTTP Bot API server

Every member joins with the invite link, starts, answers the 45 questions, submits and
confirms, sending the next update as soon as the bot has handled the previous one. The bot is
the one `build_application` makes: its handlers, its SQLite file (WAL, synchronous=FULL, so
every answer costs an fsync), its logging at INFO (into a file). Only the transport differs:
in-process, the Bot API is answered by bench.fakeapi and updates go straight into the
Application's update queue; with --http, the bot long-polls the fake HTTP server of the tests.

Telegram's 30 messages a second are Telegram's limit, not the bot's cost: the AIORateLimiter
stays in the path but its overall limit is switched off unless --rate-limited is given.

Each repetition runs in a fresh process (peak RSS is per process); the medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, Application, SimpleUpdateProcessor

from bench.common import (
    COORDINATOR,
    FIRST_USER,
    cpu_seconds,
    database_size,
    emit,
    machine,
    peak_rss_mb,
    percentiles,
    production_logging,
    seed,
    write_config,
)
from bench.fakeapi import InProcessBotApi
from bench.locks import LockTimes
from bench.members import Member, Tracker, complete_check, make_member
from bot.catalogue import load_catalogue
from bot.telegram.app import build_application, serve
from bot.telegram.concurrency import CONCURRENT_UPDATES

COORDINATOR_COMMANDS = ("/status", "/export", "/heatmap")


class InProcess:
    """Members reach the Application through its update queue; the fake answers the Bot API."""

    def __init__(self, app: Application, api: InProcessBotApi, tracker: Tracker) -> None:  # type: ignore[type-arg]
        self.app, self.api, self.tracker = app, api, tracker
        self.update_ids = itertools.count(1)
        self.query_ids = itertools.count(4_000_000_001)

    def join(self, member: Member) -> None:
        self.api.add_private_chat(member.user)

    def active(self, chat_id: int) -> dict[str, Any] | None:
        return self.api.chats[chat_id].active

    async def text(self, member: Member, text: str) -> float:
        chat = self.api.chats[member.chat_id]
        message: dict[str, Any] = {
            "message_id": self.api.next_message_id(member.chat_id),
            "from": member.user,
            "chat": chat.chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return await self._put({"message": message})

    async def press(self, member: Member, message: dict[str, Any], data: str) -> float:
        query = {
            "id": str(next(self.query_ids)),
            "from": member.user,
            "message": message,
            "chat_instance": str(member.chat_id * 7919),
            "data": data,
        }
        return await self._put({"callback_query": query})

    async def _put(self, body: dict[str, Any]) -> float:
        update_id = next(self.update_ids)
        handled = self.tracker.expect(update_id)
        # Parsed here as PTB's Updater does after getUpdates; counted in the rate, not the latency.
        await self.app.update_queue.put(
            Update.de_json({"update_id": update_id, **body}, self.app.bot)
        )
        return await handled


class OverHttp:
    """Members inject updates into the fake HTTP Bot API server, which the bot long-polls."""

    def __init__(self, server: Any, tracker: Tracker) -> None:
        self.server, self.tracker = server, tracker
        self.users: dict[int, Any] = {}

    def join(self, member: Member) -> None:
        self.users[member.chat_id] = self.server.user(member.chat_id, member.user["first_name"])

    def active(self, chat_id: int) -> dict[str, Any] | None:
        return self.server.active_messages.get(chat_id)

    async def text(self, member: Member, text: str) -> float:
        update = self.users[member.chat_id].send(text)
        return await self.tracker.expect(update["update_id"])

    async def press(self, member: Member, message: dict[str, Any], data: str) -> float:
        update = self.users[member.chat_id].press(message["message_id"], data, check=False)
        return await self.tracker.expect(update["update_id"])


def monkeypatch_sequential() -> None:
    """Make build_application handle updates one after another, for comparison."""
    import bot.telegram.app

    bot.telegram.app.PerChatUpdates = lambda: SimpleUpdateProcessor(1)  # type: ignore[assignment,misc]


def limiter(rate_limited: bool) -> AIORateLimiter | None:
    """Return the limiter: the bot's own (None), or the same without its overall limits."""
    if rate_limited:
        return None
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=2)


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Run one repetition in this process and return its figures."""
    institutions = args.institutions or args.members
    coordination = args.digests
    log_errors = production_logging(folder / "bot.log")
    server = None
    if args.http:
        from bench.httpapi import BenchBotApi

        server = await BenchBotApi(latency=args.latency / 1000).start()
    config = write_config(
        folder,
        base_url=f"http://127.0.0.1:{server.port}" if server else None,
        coordination_chat=coordination,
    )
    codes = await seed(config, institutions, args.extra_members)
    size_before = database_size(config.storage.path)
    catalogue = load_catalogue(config.checks.catalogue_path)
    members = [make_member(FIRST_USER + n, codes[n % institutions]) for n in range(args.members)]
    tracker = Tracker()
    api = InProcessBotApi(latency=args.latency / 1000)
    # PTB's default: one update after another, as before bot/telegram/concurrency.py
    if args.sequential:
        monkeypatch_sequential()
    app = build_application(
        config, request=None if server else api, rate_limiter=limiter(args.rate_limited)
    )
    tracker.install(app)
    if server is not None:
        transport: Any = OverHttp(server, tracker)
        if coordination:
            server.add_chat(
                {
                    "id": config.telegram.coordination_chat_id,
                    "type": "supergroup",
                    "title": "Koordinierung",
                }
            )
        stop = asyncio.Event()
        running = asyncio.create_task(serve(app, stop, poll_timeout=10))
        await server.wait_for(lambda r: r.method == "getUpdates", timeout=30)
    else:
        transport = InProcess(app, api, tracker)
        if coordination:
            api.add_group(config.telegram.coordination_chat_id, "Koordinierung")
        await app.initialize()
        await app.post_init(app)  # type: ignore[misc]
        await app.start()
    for member in members:
        transport.join(member)
    locks = LockTimes().install() if args.lock_times else None
    cpu_before, api_before = cpu_seconds(), sum(api.calls.values())
    try:
        await asyncio.wait_for(
            asyncio.gather(*(complete_check(m, transport, catalogue) for m in members)),
            args.timeout,
        )
        dialogue = _dialogue_figures(
            tracker, members, cpu_seconds() - cpu_before, api, api_before, server
        )
        if locks is not None:
            dialogue.update(locks.figures(dialogue["seconds"], tracker.updates))
        extra = await _coordinator(transport, tracker) if args.coordinator else {}
    finally:
        if server is not None:
            stop.set()
            await asyncio.wait_for(running, 30)
            await server.stop()
        else:
            await app.stop()
            await app.shutdown()
            await app.post_shutdown(app)  # type: ignore[misc]
    size_after = database_size(config.storage.path)
    return {
        "members": args.members,
        "institutions": institutions,
        "extra_members": args.extra_members,
        "transport": "http" if server else "in-process",
        "processing": "sequential"
        if args.sequential
        else f"per chat, {CONCURRENT_UPDATES} at once",
        "api_latency_ms": args.latency,
        "rate_limited": args.rate_limited,
        **dialogue,
        "db_bytes": size_after,
        "db_kib_per_check": round((size_after - size_before) / 1024 / args.members, 1),
        **extra,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "errors_logged": log_errors.errors,
    }


def _dialogue_figures(
    tracker: Tracker,
    members: list[Member],
    cpu: float,
    api: InProcessBotApi,
    api_before: int,
    server: Any,
) -> dict[str, Any]:
    assert tracker.first is not None and tracker.last is not None
    wall = tracker.last - tracker.first
    latency = {k: round(v * 1000, 2) for k, v in percentiles(tracker.latencies).items()}
    response = [t for m in members for t in m.response_times]
    waited = {k: round(v * 1000, 1) for k, v in percentiles(response).items()}
    calls = sum(api.calls.values()) - api_before if server is None else len(server.accepted)
    return {
        "updates": tracker.updates,
        "seconds": round(wall, 2),
        "updates_per_s": round(tracker.updates / wall, 1),
        "latency_ms_p50": latency["p50"],
        "latency_ms_p95": latency["p95"],
        "latency_ms_p99": latency["p99"],
        "latency_ms_max": round(max(tracker.latencies) * 1000, 2),
        "member_wait_ms_p50": waited["p50"],
        "member_wait_ms_p99": waited["p99"],
        "cpu_ms_per_update": round(cpu / tracker.updates * 1000, 3),
        "fake_api_share": round(api.busy / wall, 3) if server is None else None,
        "bot_api_calls_per_update": round(calls / tracker.updates, 2),
    }


async def _coordinator(transport: Any, tracker: Tracker) -> dict[str, Any]:
    """Have the coordinator ask for the status, the export and the heat map; time each."""
    coordinator = Member(
        {"id": COORDINATOR, "is_bot": False, "first_name": "Koordination", "language_code": "de"},
        "",
    )
    transport.join(coordinator)
    figures = {}
    for command in COORDINATOR_COMMANDS:
        tracker.reset()
        started = time.perf_counter()
        await transport.text(coordinator, command)
        figures[f"{command[1:]}_s"] = round(time.perf_counter() - started, 3)
    return figures


# ------------------------------------------------------------------------------------ command


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dialogue",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--members", type=int, default=10, help="members answering at once")
    parser.add_argument(
        "--institutions",
        type=int,
        default=0,
        help="institutions (default: one per member, each its own check)",
    )
    parser.add_argument(
        "--extra-members",
        type=int,
        default=0,
        help="further members in the database who do not answer",
    )
    parser.add_argument("--http", action="store_true", help="through the fake HTTP server")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="milliseconds every Bot API call takes, as a round trip would",
    )
    parser.add_argument(
        "--rate-limited",
        action="store_true",
        help="keep the limiter's 30 messages/s (Telegram's limit) switched on",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="handle updates one after another (PTB's default) for comparison",
    )
    parser.add_argument(
        "--digests",
        action="store_true",
        help="configure a coordination chat: each submission queues a digest",
    )
    parser.add_argument(
        "--coordinator",
        action="store_true",
        help="afterwards, a coordinator asks for /status, /export, /heatmap",
    )
    parser.add_argument(
        "--lock-times",
        action="store_true",
        help="also time how long turns wait for and hold the write transaction",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (fresh processes)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per repetition")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write a pyinstrument HTML profile of one run to this file",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser.parse_args(argv)


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-dialogue-", dir=args.dir) as tmp:
        if args.profile is None:
            return asyncio.run(measure(args, Path(tmp)))
        from pyinstrument import Profiler

        with Profiler(async_mode="enabled") as profiler:
            result = asyncio.run(measure(args, Path(tmp)))
        args.profile.write_text(profiler.output_html(), encoding="utf-8")
        return result


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.repeat <= 1:
        emit(run_once(args), args.json)
        return
    child = [arg for arg in (argv if argv is not None else sys.argv[1:])]
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run(
            [sys.executable, "-m", "bench.dialogue", *child, "--repeat", "1", "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    emit(summarise(runs, Path(args.dir or tempfile.gettempdir())), args.json)


def summarise(runs: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Return the median of every number over the runs, and each run's rate for the spread."""
    summary: dict[str, Any] = {}
    for key, value in runs[0].items():
        numbers = [run[key] for run in runs]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and None not in numbers:
            summary[key] = statistics.median(numbers)
        else:
            summary[key] = value
    summary["runs"] = len(runs)
    summary["updates_per_s_each"] = [run["updates_per_s"] for run in runs]
    summary["latency_ms_p99_each"] = [run["latency_ms_p99"] for run in runs]
    summary["machine"] = machine(folder)
    return summary


if __name__ == "__main__":
    main()
