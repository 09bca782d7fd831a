"""`chancencheck backup FILE`: a consistent copy of the database, also while the bot runs.

SQLite's online backup copies every page within one read transaction, so the copy is the
database as of one moment, with every transaction committed before it and none after; the bot
keeps writing meanwhile (the write-ahead log lets readers and the writer pass each other). The
copy is checked and converted to a single file (no -wal/-shm beside it) before it is moved into
place, so FILE is either a complete, sound backup or not there at all.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from storage.db import explain
from storage.errors import StorageError


class BackupError(StorageError):
    """The backup could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int  # bytes
    answers: int  # answer revisions in the copy
    seconds: float


def backup_database(source: Path, target: Path) -> Backup:
    """Copy the database at source to target with SQLite's online backup API, and check it."""
    _refuse(source, target)
    partial = target.with_name(f"{target.name}.partial")
    started = time.monotonic()
    try:
        with (
            closing(sqlite3.connect(source, timeout=10)) as src,
            closing(sqlite3.connect(partial)) as copy,
        ):
            src.execute("PRAGMA busy_timeout = 10000")
            src.backup(copy)  # all pages in one step: one read transaction, one moment
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            answers = copy.execute("SELECT count(*) FROM answers").fetchone()[0]
        if problems != ["ok"]:
            raise BackupError(
                f"the copy of {source} fails SQLite's integrity check "
                f"({problems[0]}): the database itself may be damaged; run "
                "`chancencheck doctor`"
            )
        _sync(partial)
        os.replace(partial, target)
        _sync(target.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {explain(str(source), exc)}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror}; choose another place") from None
    finally:
        partial.unlink(missing_ok=True)
    return Backup(target, target.stat().st_size, answers, time.monotonic() - started)


def _refuse(source: Path, target: Path) -> None:
    """Refuse a backup that would overwrite something or copy from nothing."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}; check [storage] path")
    if target.exists():
        raise BackupError(
            f"{target} exists already; choose a new file name, e.g. with the "
            "date in it, or delete the old file first"
        )
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist; create it first")


def _sync(path: Path) -> None:
    """Flush a file or folder to disk, so that the backup survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
