"""The bot as its own process, members and the fake Bot API in this one, over HTTP.

    python -m bench.process --members 30 --pace 1            # 30 members, one action a second
    python -m bench.process --members 20 --pace 2 --latency 50
    python -m bench.process --members 100 --pace 3-8 --latency 50 --fanout 1000 --limits
    python -m bench.process --members 30 --pace 0 --bots peer,ours,peer,ours

Each run starts a fresh bot process: `chancencheck run` (as `python -m bot run`, from
`--bot-root`, so that another checkout's bot can be measured by the same driver) or the peer
(bench/peer.py, a bot as python-telegram-bot's examples would write it). Members act as a person
would: each reads the message with buttons, taps or types, and waits until the next question
arrives; then thinks for `--pace` seconds (a number, or a range drawn at random) before acting.
Reported per run: tap → next question as the member sees it (p50/p95/p99), actions/s, the bot
process's CPU per action (utime + stime from /proc/PID/stat), its peak RSS (VmHWM), the load
average. With `--fanout N`, N further members are due a reminder when the bot starts (ours only):
the reminders' rate, lost and doubled ones, and every 429 are counted. With `--limits`, the fake
enforces Telegram's limits as we read them: 1 message a second per chat with bursts of 3,
20 a minute per group, and 30 in any sliding second to chats that have not written in 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import FIRST_USER, TOKEN, emit, percentiles, seed, write_config
from bench.httpapi import ApiError, BenchBotApi, BotMessage
from bench.members import BenchError, _next
from bot.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
WAIT = 60  # seconds a member waits for the next question before the run fails
FANOUT_FIRST = 2 * FIRST_USER  # bench.common.seed numbers its extra members from here


class Window:
    """At most `rate` events in any sliding `period` seconds."""

    def __init__(self, rate: int, period: float) -> None:
        self.rate, self.period, self.times = rate, period, deque[float]()

    def admit(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) < self.rate:
            self.times.append(now)
            return 0.0
        return self.times[0] + self.period - now


class TelegramLimits:
    """Per chat 1/s with bursts of 3, 20/min per group, 30 bulk messages in any second."""

    def __init__(self) -> None:
        self.chats: dict[int, tuple[float, float]] = {}  # tokens, at
        self.groups: dict[int, Window] = {}
        self.bulk = Window(30, 1.0)
        self.wrote: dict[int, float] = {}  # chat → when its user last wrote to the bot

    def admit(self, chat: int, now: float) -> float:
        tokens, at = self.chats.get(chat, (3.0, now))
        tokens = min(3.0, tokens + (now - at))
        if tokens < 1:
            return 1 - tokens
        if chat < 0:
            wait = self.groups.setdefault(chat, Window(20, 60.0)).admit(now)
            if wait:
                return wait
        if now - self.wrote.get(chat, -1e9) > 10:
            wait = self.bulk.admit(now)
            if wait:
                return wait
        self.chats[chat] = (tokens - 1, now)
        return 0.0


class Server(BenchBotApi):
    """The fake Bot API, telling members when a message reaches their chat."""

    def __init__(self, latency: float, limits: TelegramLimits | None) -> None:
        super().__init__()
        self.round_trip = latency
        self.telegram_limits = limits
        self.arrived: dict[int, asyncio.Event] = {}
        self.sends = Counter[int]()  # sendMessage calls accepted, per chat
        self.refused_chats = Counter[int]()  # 429s answered, per chat

    def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        if self.telegram_limits is not None:
            chat = update.get("message", update.get("callback_query", {})).get("from", {})
            self.telegram_limits.wrote[int(chat.get("id", 0))] = time.monotonic()
        return super().inject(update)

    async def _dispatch(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> Any:
        if self.round_trip and method != "getUpdates":
            await asyncio.sleep(self.round_trip)
        limited = method.lower().startswith(("send", "edit")) and "chat_id" in params
        if self.telegram_limits is not None and limited:
            wait = self.telegram_limits.admit(int(params["chat_id"]), time.monotonic())
            if wait:
                self.refused[method] += 1
                self.refused_chats[int(params["chat_id"])] += 1
                after = max(1, int(wait + 0.999))
                raise ApiError(
                    429, f"Too Many Requests: retry after {after}", {"retry_after": after}
                )
        return await super()._dispatch(method, params, files)

    def _keep(self, shown: BotMessage, *, sent: bool) -> dict[str, Any]:
        message = super()._keep(shown, sent=sent)
        if sent:
            self.sends[shown.chat_id] += 1
            event = self.arrived.get(shown.chat_id)
            if (
                event is not None
                and shown.reply_markup
                and shown.reply_markup.get("inline_keyboard")
            ):
                event.set()
        return message


class Member:
    """A member who acts, then waits for the next question, then thinks."""

    def __init__(self, server: Server, user_id: int, code: str, pace: tuple[float, float]) -> None:
        self.server, self.code, self.pace = server, code, pace
        self.user = server.user(user_id, f"P{user_id % 100000}")
        self.waits: list[float] = []
        self.actions = 0

    async def complete(self, order: list[str], deadline: float, stop: float) -> None:
        await self._act(lambda: self.user.send(f"/start {self.code}"))
        while time.monotonic() < deadline:
            if time.monotonic() >= stop:
                return  # --duration is over
            active = self.server.active_messages.get(self.user.chat_id)
            if active is None:
                raise BenchError(f"member {self.user.chat_id}: no message with buttons")
            data = [
                b["callback_data"] for row in active["reply_markup"]["inline_keyboard"] for b in row
            ]
            await asyncio.sleep(random.uniform(*self.pace))
            if "y" in data:  # the last tap: the confirmation, no further question
                self.user.press(active["message_id"], "y", check=False)
                self.actions += 1
                return
            kind, what = _next(data, order)
            message_id = active["message_id"]
            if kind == "press":
                await self._act(partial(self.user.press, message_id, what, check=False))
            else:
                await self._act(partial(self.user.send, what))
        raise BenchError(f"member {self.user.chat_id} ran out of time")

    async def _act(self, act: Any) -> None:
        event = self.server.arrived[self.user.chat_id] = asyncio.Event()
        started = time.perf_counter()
        act()
        try:
            await asyncio.wait_for(event.wait(), WAIT)
        except TimeoutError:
            shown = self.server.active_messages.get(self.user.chat_id)
            raise BenchError(f"{self.user.chat_id}: no answer to {act} after {shown}") from None
        self.waits.append(time.perf_counter() - started)
        self.actions += 1


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start_bot(kind: str, server: Server, folder: Path, args: argparse.Namespace) -> Any:
    """Start the bot's process, wait for its first getUpdates; return (process, codes)."""
    base = f"http://127.0.0.1:{server.port}"
    env = {**os.environ, "CHANCENCHECK_TELEGRAM_TOKEN": TOKEN, "PYTHONPATH": ""}
    if kind == "peer":
        catalogue = write_config(folder, base_url=base).checks.catalogue_path
        command = ["-m", "bench.peer", "--base-url", base, "--token", TOKEN]
        command += ["--catalogue", str(catalogue), "--data", str(folder / "peer.pickle")]
        codes, cwd = ["x"] * args.members, ROOT
    else:
        config = write_config(folder, base_url=base, extra=_reminders_now() if args.fanout else "")
        deadline = date.today() + timedelta(days=7) if args.fanout else None
        codes = await seed(config, args.members, args.fanout, deadline)
        if args.fanout:
            _backdate(str(config.storage.path))
        command = ["-m", "bot", "--config", str(folder / "config.toml"), "run"]
        cwd = args.bot_root
    log = (folder / f"{kind}.log").open("w")
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, *command], cwd=cwd, env=env, stdout=log, stderr=log
    )
    await server.wait_for(lambda r: r.method == "getUpdates", timeout=60)
    return process, codes


async def measure(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    limits = TelegramLimits() if args.limits else None
    server = await Server(args.latency / 1000, limits).start()
    process = None
    try:
        catalogue = load_catalogue(write_config(folder).checks.catalogue_path)
        process, codes = await start_bot(kind, server, folder, args)
        order = [r.id for r in catalogue.requirements]
        pace = _pace(args.pace)
        members = [Member(server, FIRST_USER + n, codes[n], pace) for n in range(args.members)]
        for n in range(args.fanout):
            server.user(FANOUT_FIRST + n, f"K{n}")
        spy = _py_spy(process.pid, args.py_spy) if args.py_spy else None
        cpu, started = cpu_seconds(process.pid), time.monotonic()
        stop = started + (args.duration or args.timeout)
        await asyncio.gather(*(m.complete(order, started + args.timeout, stop) for m in members))
        took = time.monotonic() - started
        await asyncio.sleep(0.5)  # the last taps' turns (nobody waits for their answer)
        cpu = cpu_seconds(process.pid) - cpu
        fanout = await _fanout(server, args) if args.fanout and kind == "ours" else {}
        rss = peak_rss_mb(process.pid)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await asyncio.to_thread(spy.wait, 30)
    except BaseException:
        for log in folder.glob("*.log"):  # what the bot said before the benchmark failed
            print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)
            await asyncio.to_thread(process.wait, 30)
        await server.stop()
    waits = [w for m in members for w in m.waits]
    actions = sum(m.actions for m in members)
    tail = {k: round(v * 1000, 1) for k, v in percentiles(waits).items()}
    return {
        "bot": kind,
        "members": args.members,
        "pace_s": args.pace,
        "api_latency_ms": args.latency,
        "actions": actions,
        "actions_per_s": round(actions / took, 1),
        "next_question_ms_p50": tail["p50"],
        "next_question_ms_p95": tail["p95"],
        "next_question_ms_p99": tail["p99"],
        "bot_cpu_ms_per_action": round(cpu / actions * 1000, 2),
        "bot_peak_rss_mb": round(rss, 1),
        "refused_429": sum(server.refused.values()),
        **fanout,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


async def _fanout(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """Wait until every fan-out recipient has its reminder (or the time is up); count them."""
    recipients = range(FANOUT_FIRST, FANOUT_FIRST + args.fanout)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and any(server.sends[c] == 0 for c in recipients):
        await asyncio.sleep(0.5)
    times = sorted(t for t, m, c in server.accepted if m == "sendMessage" and c in recipients)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    allowed = 30 + 30 * span  # a full second's 30, then 30 a second
    return {
        "fanout_refused_429": sum(server.refused_chats[c] for c in recipients),
        "fanout_delivered": sum(server.sends[c] >= 1 for c in recipients),
        "fanout_lost": sum(server.sends[c] == 0 for c in recipients),
        "fanout_doubled": sum(server.sends[c] > 1 for c in recipients),
        "fanout_seconds": round(span, 2),
        "fanout_share_of_allowed": round(len(times) / allowed, 3),
    }


def _py_spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """Sample the bot's process with py-spy into collapsed stacks (pip install py-spy)."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "-o", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _backdate(path: str) -> None:
    """Open the round and let everyone join two hours ago: today's reminder is due for all."""
    earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="microseconds")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE cycles SET opened_at = ?", (earlier,))
        conn.execute("UPDATE members SET joined_at = ?", (earlier,))


def _reminders_now() -> str:
    """Plan the 7-day reminder for an hour ago: the bot's first sweep sends it to all."""
    local = datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(hours=1)
    return f'[reminders]\ndays_before = [7]\nsend_at = "{local:%H:%M}"\nskip_weekends = false\n'


def _pace(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--pace", default="1", help="seconds between a member's actions: 1 or 3-8")
    parser.add_argument("--latency", type=float, default=0.0, help="ms every Bot API call takes")
    parser.add_argument("--fanout", type=int, default=0, help="reminders due at the start (ours)")
    parser.add_argument("--limits", action="store_true", help="enforce Telegram's limits")
    parser.add_argument(
        "--bots", default="peer,ours", help="runs in order, e.g. peer,ours,peer,ours"
    )
    parser.add_argument("--bot-root", type=Path, default=ROOT, help="checkout to run `bot` from")
    parser.add_argument(
        "--duration", type=float, default=0, help="seconds members act (default: whole check)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    parser.add_argument("--repeat", type=int, default=1, help="ignored; for bench smoke tests")
    parser.add_argument(
        "--py-spy", type=Path, default=None, help="write the bot's py-spy profile (raw) here"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line per run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    for kind in args.bots.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-process-", dir=args.dir) as tmp:
            emit(asyncio.run(measure(kind, args, Path(tmp))), args.json)
        if not args.json:
            print()


if __name__ == "__main__":
    main()
