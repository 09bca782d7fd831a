"""Litestream as the doctor sees it: its binary, what it replicates, and how far behind it is.

Only asks Litestream's own read-only commands (`databases`, `status`, `ltx`), so it is safe
next to the running replication. The replica's position is the newest transaction in any of
its LTX levels; the database's is Litestream's local position, and the last write to the
write-ahead log tells whether the database moved on while Litestream was not looking.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TIMEOUT = 60  # seconds; listing a remote replica may take a while


class ReplicationError(Exception):
    """Litestream could not be asked, or said something we cannot read."""


@dataclass(frozen=True)
class Lag:
    """The database's position against the replica's."""

    local_txid: int  # the newest transaction Litestream has seen in the database
    replica_txid: int  # the newest transaction in the replica (0: nothing replicated yet)
    replica_time: datetime | None  # when the replica got it
    written_at: datetime | None  # the last write to the database's write-ahead log

    @property
    def transactions(self) -> int:
        """Return how many transactions the replica lacks."""
        return max(0, self.local_txid - self.replica_txid)

    @property
    def seconds(self) -> float:
        """Return how long the database has held writes the replica lacks (0: none)."""
        if self.written_at is None or self.replica_time is None:
            return 0.0
        return max(0.0, (self.written_at - self.replica_time).total_seconds())


def find_litestream() -> Path | None:
    """Return the litestream binary: beside this Python (the venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "litestream"
    if beside.exists():
        return beside
    found = shutil.which("litestream")
    return Path(found) if found else None


def run(binary: Path, command: str, *args: str) -> Any:
    """Run a litestream command with -json and return what it printed, parsed."""
    # -json goes first: Go's flag parsing stops at the first positional argument.
    try:
        done = subprocess.run(
            [str(binary), command, "-json", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReplicationError(f"`litestream {command}` failed: {exc}") from None
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise ReplicationError(f"`litestream {command}` failed: {said[-1] if said else '?'}")
    try:
        return json.loads(done.stdout or "null")
    except json.JSONDecodeError:
        raise ReplicationError(f"`litestream {command}` printed no JSON") from None


def replicates(binary: Path, config: Path, database: Path) -> bool:
    """Return whether the Litestream config names the database."""
    listed = run(binary, "databases", "-config", str(config)) or []
    return any(_same(Path(entry.get("path", "")), database) for entry in listed)


def lag(binary: Path, config: Path, database: Path) -> Lag:
    """Return the database's position against the newest one in its replica."""
    status = run(binary, "status", "-config", str(config), str(database)) or []
    local = _txid(status[0].get("local_txid") if status else None)
    files = run(binary, "ltx", "-config", str(config), "-level", "all", str(database)) or []
    newest = max(files, key=lambda f: _txid(f.get("max_txid")), default=None)
    return Lag(
        local_txid=local,
        replica_txid=_txid(newest.get("max_txid")) if newest else 0,
        replica_time=_time(newest.get("timestamp")) if newest else None,
        written_at=_written_at(database),
    )


def _txid(value: object) -> int:
    try:
        return int(str(value), 16)
    except ValueError:
        return 0  # "-": Litestream has not seen the database yet


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))  # 3.11 reads the "Z"
    except ValueError:
        return None


def _written_at(database: Path) -> datetime | None:
    """Return when the write-ahead log was last written (None when it is empty or gone)."""
    wal = database.with_name(database.name + "-wal")
    try:
        stat = wal.stat()
    except FileNotFoundError:
        return None
    return datetime.fromtimestamp(stat.st_mtime, UTC) if stat.st_size else None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
