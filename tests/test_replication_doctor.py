"""`chancencheck doctor` on replication: configured or not, and how far behind the replica is.

The tests with Litestream run the real binary (the [replication] extra) against a file replica:
`litestream replicate -once` syncs once and exits, so no daemon is left behind."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

import storage
from bot.cli.doctor import FAIL, INFO, OK, check_replication
from bot.config import Config, load_config
from bot.replication import find_litestream

LITESTREAM = find_litestream()
needs_litestream = pytest.mark.skipif(
    LITESTREAM is None, reason="litestream is not installed: pip install -e '.[replication]'"
)


def configured(tmp_path: Path, litestream: str | None = "litestream.yml") -> Config:
    """Write and load a config with a database in tmp_path and, if given, [replication]."""
    text = '[storage]\npath = "bot.sqlite3"\n'
    if litestream:
        text += f'[replication]\nlitestream_config = "{litestream}"\n'
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "config.toml", env={})


def litestream_yml(tmp_path: Path, database: str = "bot.sqlite3") -> None:
    """Write a Litestream config replicating the database to tmp_path/replica."""
    (tmp_path / "litestream.yml").write_text(
        f"dbs:\n  - path: {tmp_path / database}\n    replica:\n      type: file\n"
        f"      path: {tmp_path / 'replica'}\n",
        encoding="utf-8",
    )


async def write(config: Config, count: int = 1) -> None:
    """Store some rows, as the bot would."""
    async with await storage.open_database(config.storage.path) as db:
        for n in range(count):
            async with db.transaction():
                await storage.set_setting(db, f"test{n}", str(time.time()))


def sync_once(tmp_path: Path) -> None:
    assert LITESTREAM is not None
    subprocess.run(
        [str(LITESTREAM), "replicate", "-once", "-config", str(tmp_path / "litestream.yml")],
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_without_replication_it_only_says_so(tmp_path: Path) -> None:
    """An operator without replication learns what that risks, without a failed doctor."""
    [finding] = check_replication(configured(tmp_path, None), datetime.now(UTC))
    assert finding.level == INFO and "not configured" in finding.text


def test_a_missing_litestream_config_is_a_problem(tmp_path: Path) -> None:
    """A config naming a Litestream file that is not there fails, with the fix."""
    [finding] = check_replication(configured(tmp_path), datetime.now(UTC))
    assert finding.level == FAIL
    assert "does not exist" in finding.text or "not installed" in finding.text


@needs_litestream
def test_a_litestream_config_for_another_database_is_a_problem(tmp_path: Path) -> None:
    """Replicating some other file protects nothing: the doctor says which path to set."""
    litestream_yml(tmp_path, "other.sqlite3")
    [finding] = check_replication(configured(tmp_path), datetime.now(UTC))
    assert finding.level == FAIL and "does not replicate" in finding.text


@needs_litestream
async def test_an_empty_replica_is_a_problem(tmp_path: Path) -> None:
    """Configured but never run: nothing is protected yet."""
    litestream_yml(tmp_path)
    config = configured(tmp_path)
    await write(config)
    [finding] = check_replication(config, datetime.now(UTC))
    assert finding.level == FAIL and "holds nothing" in finding.text


@needs_litestream
async def test_a_replica_in_step_is_green_and_a_stale_one_fails(tmp_path: Path) -> None:
    """After a sync the replica has every transaction (green); a database written long after
    the replica's newest position means Litestream is not running: a problem."""
    litestream_yml(tmp_path)
    config = configured(tmp_path)
    await write(config, 3)
    await asyncio.to_thread(sync_once, tmp_path)
    [finding] = check_replication(config, datetime.now(UTC))
    assert finding.level == OK, finding
    assert "0 behind" in finding.text
    with closing(sqlite3.connect(config.storage.path)) as conn:
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # keep the write in the log, as Litestream
        conn.execute("INSERT INTO settings (key, value) VALUES ('later', 'x')")
        conn.commit()
        wal = Path(f"{config.storage.path}-wal")
        later = time.time() + 120  # the write, two minutes after the last sync
        os.utime(wal, (later, later))
        [finding] = check_replication(config, datetime.now(UTC))
    assert finding.level == FAIL and "is Litestream running" in (finding.fix or ""), finding
