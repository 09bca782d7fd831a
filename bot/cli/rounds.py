"""The command line's rounds: list them, close one with its summary, pick one to read."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import storage
from bot.catalogue import load_catalogue
from bot.cli.counts import count
from bot.config import Config
from bot.core import admin
from bot.core.rounds import UnknownRound, close_round, pick_round, round_to_close
from bot.render.templates import Templates
from dialogues.catalogue import Catalogue


async def cycle_list(args: argparse.Namespace, config: Config) -> int:
    """Print each round with its dates, state and how many checks were submitted."""
    async with await storage.open_database(config.storage.path) as db:
        cycles = await storage.list_cycles(db)
        counts = await storage.round_counts(db)
    if not cycles:
        print('no rounds yet; open one with: chancencheck cycle open "2027" --deadline 2027-03-31')
    for cycle in cycles:
        state = f"closed {cycle.closed_at:%Y-%m-%d}" if cycle.closed_at else "open"
        tally = counts.get(cycle.id, storage.RoundCount(cycle.id, 0, 0))
        print(
            f"{cycle.name:<20} opened {cycle.opened_at:%Y-%m-%d}  "
            f"deadline {cycle.deadline.isoformat()}  {state:<17} "
            f"submitted {tally.submitted}/{tally.checks}  "
            f"catalogue {cycle.catalogue_id} {cycle.catalogue_version}"
        )
    return 0


async def cycle_close(args: argparse.Namespace, config: Config) -> int:
    """Close a round after naming who has not submitted; ask first unless --yes."""
    catalogue = load_catalogue(config.checks.catalogue_path)
    async with await storage.open_database(config.storage.path) as db:
        cycle, missing = await _closable(db, args.name)
        if missing:
            print(
                f"{count(len(missing), 'institution')} have not submitted in round "
                f"{cycle.name}: {', '.join(missing)}"
            )
        if not args.yes and not _confirmed(f"close round {cycle.name}? [y/N] "):
            print("nothing closed")
            return 1
        now = datetime.now(UTC)
        templates = Templates(config.checks.tz)
        queued = await _close(db, config, templates, catalogue, cycle.name, now)
    where = (
        "the summary goes to the coordination group"
        if queued
        else "no coordination chat is configured, so no summary is sent"
    )
    print(f"closed round {cycle.name}; {where}")
    return 0


async def _closable(db: storage.Database, name: str) -> tuple[storage.Cycle, list[str]]:
    try:
        return await round_to_close(db, name)
    except UnknownRound as exc:
        raise admin.AdminError(str(exc)) from None


async def _close(
    db: storage.Database,
    config: Config,
    templates: Templates,
    catalogue: Catalogue,
    name: str,
    now: datetime,
) -> bool:
    try:
        _, queued = await close_round(db, config, templates, catalogue, name, storage.CLI, now)
    except UnknownRound as exc:
        raise admin.AdminError(str(exc)) from None
    return queued


def _confirmed(prompt: str) -> bool:
    """Ask on the terminal; anything but yes (or no terminal at all) means no."""
    if not sys.stdin.isatty():
        print("not confirmed: add --yes to close without asking", file=sys.stderr)
        return False
    return input(prompt).strip().lower() in ("y", "yes", "j", "ja")


async def chosen_round(db: storage.Database, name: str | None) -> storage.Cycle:
    """Return the round named by --round, else the open one, else the latest closed one."""
    try:
        cycle = await pick_round(db, name)
    except UnknownRound as exc:
        raise admin.AdminError(f"{exc}; see: chancencheck cycle list") from None
    if cycle is None:
        raise admin.AdminError(
            'no round yet; open one with: chancencheck cycle open "2027" --deadline 2027-03-31'
        )
    return cycle
