"""`chancencheck measures list|export`: the improvement plan on the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

import storage
from bot.config import Config
from bot.core import admin
from bot.core.measures import CLI_STATUSES
from bot.core.plan import PlanRow, rows
from bot.reports.labels import label
from storage import measures as store

AddCommand = Callable[..., argparse.ArgumentParser]  # bot.cli.entry._command
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def commands(sub: Subparsers, command: AddCommand) -> None:
    """Add `measures list` and `measures export` to the command line."""
    group = sub.add_parser("measures", help="the improvement plan: measures and their status")
    inner = group.add_subparsers(dest="measures", required=True)
    listing = command(inner, "list", _list, "list measures with owner, due month and status")
    listing.add_argument("--institution", metavar="SHORT", help="only this institution")
    listing.add_argument(
        "--status",
        choices=sorted(CLI_STATUSES),
        metavar="STATUS",
        help="only this status: " + ", ".join(sorted(CLI_STATUSES)),
    )
    listing.add_argument("--round", metavar="NAME", help="only the measures of this round")
    export = command(inner, "export", _export, "write all measures to an XLSX or CSV file")
    export.add_argument("--out", type=Path, required=True, help="FILE.xlsx or FILE.csv")
    export.add_argument("--force", action="store_true", help="replace an existing file")


async def load_rows(
    db: storage.Database,
    config: Config,
    institution: str | None = None,
    round_name: str | None = None,
) -> list[PlanRow]:
    """Load the plan as coordinators may see it ([privacy] authors decides owner names)."""
    institution_id = cycle_id = None
    if institution is not None:
        found = await storage.institution_by_short(db, institution)
        if found is None:
            raise admin.AdminError(
                f"there is no institution {institution!r}; see: chancencheck institution list"
            )
        institution_id = found.id
    if round_name is not None:
        cycle = await storage.cycle_by_name(db, round_name)
        if cycle is None:
            raise admin.AdminError(
                f"there is no round {round_name!r}; see: chancencheck cycle list"
            )
        cycle_id = cycle.id
    measures = await store.list_measures(db, institution_id, cycle_id)
    today = datetime.now(UTC).astimezone(config.checks.tz).date()
    named = "(benannt)" if config.checks.language == "de" else "(named)"
    return await rows(db, measures, today, config.privacy.authors, named)


async def _list(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        found = await load_rows(db, config, args.institution, args.round)
    if args.status:
        wanted = args.status.replace("-", "_")
        found = [r for r in found if r.status == wanted]
    if not found:
        print("no measures match")
        return 0
    open_word = label(config.checks.language, "open")
    for r in found:
        status = r.status.replace("_", "-")
        print(
            f"{r.institution:<8} {r.round:<12} {r.requirement_id:<4} {status:<12} "
            f"{r.due or open_word:<8} {r.owner or '–':<16} {r.text}"
        )
    return 0


async def _export(args: argparse.Namespace, config: Config) -> int:
    from bot.reports.measures import measures_csv, measures_xlsx

    async with await storage.open_database(config.storage.path) as db:
        found = await load_rows(db, config)
    csv = args.out.suffix.lower() == ".csv"
    write = measures_csv if csv else measures_xlsx
    if args.out.exists() and not args.force:
        raise admin.AdminError(f"{args.out} exists already; choose another file or add --force")
    args.out.write_bytes(write(found, config.checks.language, config.checks.tz))
    print(f"wrote {args.out} ({len(found)} measures)")
    return 0
