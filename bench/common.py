"""What the benchmarks share: the machine, a config on a scratch folder, seeding, statistics."""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import telegram

import storage
from bot.catalogue import load_catalogue
from bot.config import Config, load_config
from bot.core import admin
from bot.logs import setup_logging

TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME = "chancencheck_bench_bot"
COORDINATOR = 9_000_000_001  # Telegram user id of the coordinator in the benchmarks
COORDINATION_CHAT = -1_009_000_000_001
FIRST_USER = 10_000_000  # Telegram user ids of the benchmark's members count up from here


# ---------------------------------------------------------------------------------- machine


def machine(folder: Path) -> dict[str, Any]:
    """Describe what the figures were measured on: CPU, load, Python, SQLite, the disk."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "python_telegram_bot": telegram.__version__,
        "disk": _disk(folder),
        "fsync_ms_p50": round(fsync_cost(folder) * 1000, 3),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _disk(folder: Path) -> str:
    """Name the file system and device the scratch folder is on."""
    try:
        out = (
            subprocess.run(["df", "-T", str(folder)], capture_output=True, text=True, check=True)
            .stdout.splitlines()[-1]
            .split()
        )
        return f"{out[0]} ({out[1]}), {folder}"
    except (OSError, subprocess.CalledProcessError, IndexError):
        return str(folder)


def fsync_cost(folder: Path, rounds: int = 200) -> float:
    """Return the median seconds of one fsync after a 4 KiB write in folder."""
    path = folder / ".fsync-probe"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    took = []
    try:
        for _ in range(rounds):
            os.write(fd, b"x" * 4096)
            start = time.perf_counter()
            os.fsync(fd)
            took.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(took)


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """Return the CPU time this process used so far, user and system, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------- numbers


def percentiles(values: Sequence[float], points: Iterable[int] = (50, 95, 99)) -> dict[str, float]:
    """Return the nearest-rank percentiles of values, e.g. {"p50": …, "p99": …}."""
    ordered = sorted(values)
    if not ordered:
        return {f"p{p}": float("nan") for p in points}
    return {
        f"p{p}": ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))]
        for p in points
    }


def median_of(runs: Sequence[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def emit(result: dict[str, Any], as_json: bool) -> None:
    """Print a result as one JSON object, or as aligned lines for people."""
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str))
        return
    width = max(map(len, result))
    for key, value in result.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")


# ---------------------------------------------------------------------------------- the bot


def write_config(
    folder: Path, *, base_url: str | None = None, coordination_chat: bool = False, extra: str = ""
) -> Config:
    """Write the bot's config for a database in folder and load it as the bot does."""
    telegram_section = [f'bot_username = "{BOT_USERNAME}"', f"coordinators = [{COORDINATOR}]"]
    if base_url is not None:
        telegram_section += [
            f'base_url = "{base_url}/bot"',
            f'base_file_url = "{base_url}/file/bot"',
        ]
    if coordination_chat:
        telegram_section.append(f"coordination_chat_id = {COORDINATION_CHAT}")
    path = folder / "config.toml"
    path.write_text(
        "[telegram]\n" + "\n".join(telegram_section) + f"\n{extra}\n"
        f'[storage]\npath = "{folder / "bench.sqlite3"}"\n',
        encoding="utf-8",
    )
    return load_config(path, env={"CHANCENCHECK_TELEGRAM_TOKEN": TOKEN})


class ErrorCount(logging.Handler):
    """Count the log records at ERROR and above: a benchmark that had errors says so."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.errors += 1


def production_logging(log_file: Path, level: str = "INFO") -> ErrorCount:
    """Log as `chancencheck run` does (one line per update at INFO), into log_file."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    setup_logging(level, TOKEN)
    stream = log_file.open("a", encoding="utf-8")
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    counter = ErrorCount()
    root.addHandler(counter)
    return counter


async def seed(
    config: Config, institutions: int, extra_members: int = 0, deadline: date | None = None
) -> list[str]:
    """Open a round and add institutions (and members who only sit in the database).

    Returns the invite codes, one per institution. The extra members are spread evenly over the
    institutions, as staff who joined but do not answer during the benchmark.
    """
    catalogue = load_catalogue(config.checks.catalogue_path)
    codes = []
    async with await storage.open_database(config.storage.path) as db:
        await admin.open_round(
            db, catalogue, "Runde 2027", deadline or date.today() + timedelta(days=30), date.today()
        )
        for number in range(institutions):
            invitation = await admin.add_institution(db, f"E{number:04d}", f"Einrichtung {number}")
            codes.append(invitation.code)
        listed = await storage.list_institutions(db)
        async with db.transaction():
            for number in range(extra_members):
                institution = listed[number % len(listed)]
                await storage.join_institution(
                    db, 2 * FIRST_USER + number, institution.id, f"Kollegin {number}", "de"
                )
    return codes


def database_size(path: str) -> int:
    """Return the database's size in bytes once its write-ahead log is folded in."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(Path(p).stat().st_size for p in (path, f"{path}-wal") if Path(p).exists())


def python_command() -> str:
    return Path(sys.executable).name
