"""The coordinators' reports: one digest with its files, the export and the heat map.

    python -m bench.reports [--institutions 100] [--members 5000]

A round with this many institutions, each with a complete check (45 answers, with texts where
the catalogue asks for them) and its share of the members, is written to a fresh SQLite file.
Then, each from the database as the bot does it:
- digest: the digest of one submission (queued in the outbox, as Checks does on "submit") and
  the three files the courier sends with it: profile chart (PNG), full report (HTML) and the
  institution's spreadsheet (XLSX);
- export: all answers of the round as XLSX and CSV (the coordinator's /export);
- heatmap: institutions × requirements as a PNG (/heatmap).
The first run in a process pays for importing matplotlib and openpyxl ("cold"); the median of
the further runs is "warm". Each repetition is a fresh process.
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
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import storage
from bench.common import FIRST_USER, database_size, emit, machine, peak_rss_mb, write_config
from bot import reports
from bot.core.digest import Digests
from bot.services import Services, open_services
from dialogues.catalogue import Catalogue

NOW = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
MEASURE = (
    "Schulung aller Mitarbeitenden zu einfacher Sprache, Überarbeitung der Formulare "
    "und Merkblätter bis 06/2027; zusätzliche Sprechzeiten am Abend für Berufstätige."
)


async def populate(services: Services, institutions: int, members: int) -> list[int]:
    """Write a round whose checks are all answered; return the check ids."""
    db, catalogue = services.db, services.dialogue.catalogue
    checks = []
    async with db.transaction():
        cycle = await storage.open_cycle(
            db,
            "Runde 2027",
            catalogue.id,
            catalogue.version,
            date(2027, 3, 31),
            NOW - timedelta(days=30),
        )
        for number in range(institutions):
            institution = await storage.add_institution(
                db,
                f"E{number:04d}",
                f"Einrichtung Nummer {number} der Stadtverwaltung",
                f"code{number}",
                NOW - timedelta(days=30),
            )
            check = await storage.check_for(db, institution.id, cycle.id)
            staff = [
                await storage.join_institution(
                    db,
                    FIRST_USER + n,
                    institution.id,
                    f"Person {n}",
                    "de",
                    NOW - timedelta(days=20),
                )
                for n in range(number, members, institutions)
            ]
            await _answer_all(db, catalogue, check.id, staff, number)
            checks.append(check.id)
    return checks


async def _answer_all(
    db: storage.Database,
    catalogue: Catalogue,
    check_id: int,
    staff: list[storage.Member],
    seed: int,
) -> None:
    ratings = [step.key for step in catalogue.scale]
    for index, requirement in enumerate(catalogue.requirements):
        author = staff[index % len(staff)].id if staff else None
        answers = (
            ("fulfilment", ratings[(seed + index) % len(ratings)], None),
            ("potential", "yes", f"Potenzial bei {requirement.id}: Formulare, Telefon")
            if (seed + index) % 2
            else ("potential", "no", None),
            ("measures", "planned", f"{requirement.id}: {MEASURE}")
            if (seed + index) % 3
            else ("measures", "none", None),
        )
        for key, value, text in answers:
            await storage.record_answer(
                db,
                check_id,
                storage.NewAnswer(
                    requirement.id, key, value, text, author, catalogue.id, catalogue.version
                ),
                NOW,
            )


async def digest(services: Services, check_id: int) -> dict[str, float]:
    """Queue one submission's digest and render its three files; return seconds per part."""
    db, catalogue = services.db, services.dialogue.catalogue
    language, tz = services.config.checks.language, services.config.checks.tz
    check = await storage.check_by_id(db, check_id)
    assert check is not None
    member = (await storage.members_of(db, check.institution_id))[0]
    took: dict[str, float] = {}
    started = time.perf_counter()
    async with db.transaction():
        submitted = await storage.submit_check(db, check.id, member.id, NOW)
        await Digests(services.config, services.presenter).submitted(db, submitted, member, NOW)
    took["digest_text_s"] = time.perf_counter() - started
    report = await reports.load_check_report(db, check.institution_id, check.cycle_id)
    for name, make in (
        ("chart", lambda: reports.profile_chart_png(report, catalogue, language)),
        # The PDF, as the courier sends it: it draws the chart again inside.
        ("report", lambda: reports.report_file(report, catalogue, services.templates, language)),
        ("xlsx", lambda: reports.export_xlsx([report], catalogue, language, tz)),
    ):
        began = time.perf_counter()
        await asyncio.to_thread(make)
        took[f"digest_{name}_s"] = time.perf_counter() - began
    took["digest_total_s"] = time.perf_counter() - started
    async with db.transaction():  # open again, so that the next run submits anew
        await storage.reopen_check(db, check.id, NOW)
    return took


async def export(services: Services) -> dict[str, float]:
    """Build the round's XLSX and CSV export, as /export does."""
    db, catalogue = services.db, services.dialogue.catalogue
    language, tz = services.config.checks.language, services.config.checks.tz
    started = time.perf_counter()
    cycle = await storage.current_cycle(db)
    assert cycle is not None
    round_reports = await reports.load_round_reports(db, cycle.id)
    loaded = time.perf_counter()
    xlsx = await asyncio.to_thread(reports.export_xlsx, round_reports, catalogue, language, tz)
    csv = await asyncio.to_thread(reports.export_csv, round_reports, catalogue, language, tz)
    done = time.perf_counter()
    return {
        "export_load_s": loaded - started,
        "export_files_s": done - loaded,
        "export_total_s": done - started,
        "export_xlsx_kib": len(xlsx) / 1024,
        "export_csv_kib": len(csv) / 1024,
    }


async def heatmap(services: Services) -> dict[str, float]:
    """Draw the round's heat map, as /heatmap does."""
    db, catalogue = services.db, services.dialogue.catalogue
    started = time.perf_counter()
    cycle = await storage.current_cycle(db)
    assert cycle is not None
    round_reports = await reports.load_round_reports(db, cycle.id)
    png = await asyncio.to_thread(
        reports.heatmap_png, round_reports, catalogue, services.config.checks.language
    )
    return {"heatmap_total_s": time.perf_counter() - started, "heatmap_png_kib": len(png) / 1024}


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    config = write_config(folder, coordination_chat=True)
    services = await open_services(config, lambda: NOW)
    try:
        checks = await populate(services, args.institutions, args.members)
        result: dict[str, Any] = {
            "institutions": args.institutions,
            "members": args.members,
            "db_mib": round(database_size(config.storage.path) / 2**20, 2),
        }
        tasks: dict[str, Callable[[], Awaitable[dict[str, float]]]] = {
            "digest": lambda: digest(services, checks[len(checks) // 2]),
            "export": lambda: export(services),
            "heatmap": lambda: heatmap(services),
        }
        chosen = [make for name, make in tasks.items() if not args.only or name in args.only]
        for runs in [[await make() for _ in range(args.runs)] for make in chosen]:
            for key in runs[0]:
                if key.endswith("_s"):
                    result[f"{key[:-2]}_cold_s"] = round(runs[0][key], 3)
                    result[f"{key[:-2]}_warm_s"] = round(
                        statistics.median(run[key] for run in runs[1:] or runs), 3
                    )
                else:
                    result[key] = round(runs[0][key], 1)
    finally:
        await services.db.close()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--institutions", type=int, default=100)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5, help="runs of each task per process")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["digest", "export", "heatmap"],
        help="measure only these (peak RSS then is theirs alone)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (fresh processes)")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser.parse_args(argv)


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-reports-", dir=args.dir) as tmp:
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
            [sys.executable, "-m", "bench.reports", *child, "--repeat", "1", "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    summary["digest_total_warm_s_each"] = [run["digest_total_warm_s"] for run in runs]
    summary["runs"] = len(runs)
    summary["machine"] = machine(Path(args.dir or tempfile.gettempdir()))
    emit(summary, args.json)


if __name__ == "__main__":
    main()
