"""Litestream replication: how long an acknowledged answer takes to reach the replica, and how
long a restore takes.

    python -m bench.replication [--members 50] [--restore-institutions 100] [--restores 5]

Lag: the real Application (in-process Bot API, as bench.dialogue) serves N members answering
the whole check at once, while `litestream replicate` copies its SQLite file to a file replica
(sync-interval 1 s, as deploy/litestream.yml). A follower (`litestream restore -f`, polling the
replica every 50 ms) rebuilds the database from the replica alone. A watcher reads both files
every 10 ms and notes when each answer revision first shows up: in the bot's file it is
committed, which is before the bot acknowledges it; in the follower it is in the replica. The
difference is the lag; it overstates the replica's own delay by up to the follower's 50 ms and
the watcher's 10 ms.

The same load also runs without Litestream, for what replication costs the bot.

Restore: a database with N institutions, each with a member and all 45 answers given and a
daily snapshot in the replica, restored with `litestream restore` into an empty folder (the
median of several runs); and the replica the lag run left behind (snapshot plus the history of
every sync during the load).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.common import (
    FIRST_USER,
    emit,
    machine,
    percentiles,
    production_logging,
    seed,
    write_config,
)
from bench.dialogue import InProcess, limiter
from bench.fakeapi import InProcessBotApi
from bench.members import Tracker, complete_check, make_member
from bench.reports import NOW, populate
from bot.catalogue import load_catalogue
from bot.replication import find_litestream
from bot.services import open_services
from bot.telegram.app import build_application

SYNC_INTERVAL = "1s"
FOLLOW_INTERVAL = "50ms"
WATCH_EVERY = 0.01  # seconds


def litestream() -> str:
    found = find_litestream()
    if found is None:
        raise SystemExit("litestream is not installed: pip install -e '.[replication]'")
    return str(found)


def litestream_yml(folder: Path, database: Path, replica: Path) -> Path:
    path = folder / "litestream.yml"
    path.write_text(
        f"dbs:\n  - path: {database}\n    replica:\n      type: file\n"
        f"      path: {replica}\n      sync-interval: {SYNC_INTERVAL}\n",
        encoding="utf-8",
    )
    return path


class Watcher(threading.Thread):
    """Note when each answer revision (by id) first shows up in a database file."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.stop = path, threading.Event()
        self.seen: dict[int, float] = {}

    def run(self) -> None:
        newest = 0
        while not self.stop.is_set():
            try:
                with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as conn:
                    rows = conn.execute("SELECT id FROM answers WHERE id > ?", (newest,))
                    ids = [row[0] for row in rows]
            except sqlite3.Error:
                ids = []  # the follower is not there yet, or being written
            moment = time.monotonic()
            for answer_id in ids:
                self.seen.setdefault(answer_id, moment)
            newest = max(ids, default=newest)
            time.sleep(WATCH_EVERY)


async def lag_under_load(folder: Path, members: int) -> dict[str, Any]:
    """Run the dialogue load under Litestream; return the lag figures."""
    log_errors = production_logging(folder / "bot.log")
    config = write_config(folder)
    database, replica = Path(config.storage.path), folder / "replica"
    codes = await seed(config, members)
    yml = litestream_yml(folder, database, replica)
    logs = (folder / "litestream.log").open("ab")
    replicate = _spawn(logs, "replicate", "-config", str(yml))
    await _until(lambda: (replica / "ltx").exists(), "the first snapshot")
    follower_path = folder / "follower.sqlite3"
    follower = _spawn(
        logs,
        "restore",
        "-f",
        "-follow-interval",
        FOLLOW_INTERVAL,
        "-o",
        str(follower_path),
        f"file://{replica}",
    )
    primary, copy = Watcher(database), Watcher(follower_path)
    try:
        await _until(follower_path.exists, "the follower")
        primary.start()
        copy.start()
        seconds = await _dialogue(config, codes, members)
        await _until(lambda: len(copy.seen) >= len(primary.seen) > 0, "the replica", 60)
    finally:
        for watcher in (primary, copy):
            watcher.stop.set()
        for process in (follower, replicate):
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    lags = [(copy.seen[i] - primary.seen[i]) * 1000 for i in primary.seen if i in copy.seen]
    return {
        "members": members,
        "answers": len(primary.seen),
        "answers_replicated": len(lags),
        "load_seconds": round(seconds, 1),
        "answers_per_s": round(len(primary.seen) / seconds, 1),
        "sync_interval": SYNC_INTERVAL,
        "follow_interval": FOLLOW_INTERVAL,
        **{f"lag_ms_{k}": round(v) for k, v in percentiles(lags, (50, 90, 99)).items()},
        "lag_ms_max": round(max(lags)),
        "errors_logged": log_errors.errors,
    }


async def load_alone(folder: Path, members: int) -> float:
    """Run the same dialogue load without Litestream; return how long it took."""
    production_logging(folder / "bot.log")
    config = write_config(folder)
    return await _dialogue(config, await seed(config, members), members)


def _spawn(logs: Any, *args: str) -> subprocess.Popen[bytes]:
    """Start a litestream command in the background, its output into the log."""
    return subprocess.Popen([litestream(), *args], stdout=logs, stderr=logs)


async def _dialogue(config: Any, codes: list[str], count: int) -> float:
    """Let `count` members complete the check at once; return how long it took."""
    catalogue = load_catalogue(config.checks.catalogue_path)
    api, tracker = InProcessBotApi(latency=0), Tracker()
    app = build_application(config, request=api, rate_limiter=limiter(False))
    tracker.install(app)
    transport = InProcess(app, api, tracker)
    members = [make_member(FIRST_USER + n, codes[n % len(codes)]) for n in range(count)]
    for member in members:
        transport.join(member)
    await app.initialize()
    await app.post_init(app)  # type: ignore[misc]
    await app.start()
    started = time.monotonic()
    try:
        await asyncio.wait_for(
            asyncio.gather(*(complete_check(m, transport, catalogue) for m in members)), 900
        )
    finally:
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)  # type: ignore[misc]
    return time.monotonic() - started


async def _until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


def restore_seconds(replica: Path, folder: Path, runs: int) -> float:
    """Return the median time `litestream restore` takes from the replica into a new folder."""
    times = []
    for run in range(runs):
        target = folder / f"restored-{replica.name}-{run}" / "chancencheck.sqlite3"
        target.parent.mkdir()
        started = time.monotonic()
        subprocess.run(
            [litestream(), "restore", "-o", str(target), f"file://{replica}"],
            check=True,
            capture_output=True,
        )
        times.append(time.monotonic() - started)
        with closing(sqlite3.connect(target)) as conn:  # a restore that lost rows is no restore
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return statistics.median(times)


async def filled_database(folder: Path, institutions: int) -> Path:
    """Write a database with the institutions' checks fully answered (five members each, as
    bench.reports does); return its path."""
    config = write_config(folder)
    services = await open_services(config, lambda: NOW)
    try:
        await populate(services, institutions, 5 * institutions)
    finally:
        await services.db.close()
    return Path(config.storage.path)


def snapshot(database: Path, folder: Path) -> Path:
    """Replicate the database once, as a snapshot; return the replica."""
    replica = folder / "replica"
    yml = litestream_yml(folder, database, replica)
    subprocess.run(
        [litestream(), "replicate", "-once", "-force-snapshot", "-config", str(yml)],
        check=True,
        capture_output=True,
    )
    return replica


def _size_kib(path: Path) -> int:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.replication",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--members", type=int, default=50, help="members answering at once")
    parser.add_argument(
        "--restore-institutions",
        type=int,
        default=100,
        help="institutions with a complete check in the restored database",
    )
    parser.add_argument("--restores", type=int, default=5, help="restores to take the median of")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="repetitions, each in a fresh process; the medians are reported",
    )
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.repeat <= 1:
        emit(run_once(args), args.json)
        return
    child = [*(argv if argv is not None else sys.argv[1:]), "--repeat", "1", "--json"]
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.replication", *child],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(args.repeat)
    ]
    summary = {
        key: statistics.median(run[key] for run in runs)
        if isinstance(value, (int, float))
        else value
        for key, value in runs[0].items()
    }
    summary["runs"] = len(runs)
    for key in ("lag_ms_p50", "lag_ms_p99", "restore_s"):
        summary[f"{key}_each"] = [run[key] for run in runs]
    emit(summary, args.json)


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """Run one repetition in this process and return its figures."""
    with tempfile.TemporaryDirectory(prefix="bench-replication-", dir=args.dir) as tmp:
        lag_folder, restore_folder = Path(tmp, "lag"), Path(tmp, "restore")
        alone_folder = Path(tmp, "alone")
        for folder in (lag_folder, restore_folder, alone_folder):
            folder.mkdir()
        result = asyncio.run(lag_under_load(lag_folder, args.members))
        alone = asyncio.run(load_alone(alone_folder, args.members))
        result["answers_per_s_without_litestream"] = round(result["answers"] / alone, 1)
        after_load = lag_folder / "replica"
        result["restore_after_load_s"] = round(
            restore_seconds(after_load, lag_folder, args.restores), 3
        )
        result["replica_after_load_kib"] = _size_kib(after_load)
        database = asyncio.run(filled_database(restore_folder, args.restore_institutions))
        replica = snapshot(database, restore_folder)
        result["restore_institutions"] = args.restore_institutions
        result["restore_db_kib"] = round(database.stat().st_size / 1024)
        result["restore_replica_kib"] = _size_kib(replica)
        result["restore_s"] = round(restore_seconds(replica, restore_folder, args.restores), 3)
        result["machine"] = machine(Path(tmp))
    return result


if __name__ == "__main__":
    main()
