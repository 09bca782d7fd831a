"""The `chancencheck` command line: run the bot or the demo, and set up what coordinators need."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

import bot.cli.access as cli_access
import bot.cli.measures as cli_measures
import bot.cli.rounds as cli_rounds
import storage
from bot.catalogue import load_catalogue
from bot.cli.counts import count
from bot.config import Config, ConfigError, load_config
from bot.core import admin
from bot.core.rounds import round_catalogue, with_history, with_previous
from bot.logs import setup_logging
from dialogues.catalogue import CatalogueError

Command = Callable[[argparse.Namespace, Config], Awaitable[int]]


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command, and turn known errors into clear messages."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "catalogue":  # needs no config
            return _catalogue_check(args.path)
        config = load_config(args.config)
        token = config.telegram.token.get_secret_value() if config.telegram.token else None
        secret = config.webhook.secret_token
        setup_logging(
            args.log_level or config.logging.level,
            token,
            secret.get_secret_value() if secret else None,
        )
        code: int = asyncio.run(args.handler(args, config))
        return code
    except (ConfigError, CatalogueError, storage.StorageError, admin.AdminError) as exc:
        print(f"chancencheck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chancencheck",
        description="Telegram bot for the ChancenCheckLU self-check.",
        parents=[_common_options(None)],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _command(sub, "run", _run, "run the Telegram bot (the offline demo without a token)")
    demo = _command(sub, "demo", _demo, "answer the check in the terminal, offline")
    demo.add_argument(
        "--reset", action="store_true", help="delete the demo's answers and start over (asks first)"
    )
    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db", required=True)
    _command(db, "migrate", _migrate, "create or update the database schema")
    catalogue = sub.add_parser("catalogue", help="catalogue files")
    cat_sub = catalogue.add_subparsers(dest="catalogue", required=True)
    check = cat_sub.add_parser("check", help="validate a catalogue file and summarise it")
    check.add_argument("path", type=Path)
    _institution_commands(sub)
    _cycle_commands(sub)
    _report_commands(sub)
    cli_access.commands(sub, _command)
    cli_measures.commands(sub, _command)
    _operation_commands(sub)
    return parser


def _operation_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _command(
        sub,
        "doctor",
        _doctor,
        "check config, database, token, coordination chat and "
        "reminders, and say what to fix (exit code 1 if something is wrong)",
    )
    backup = _command(
        sub, "backup", _backup, "copy the database consistently, also while the bot runs"
    )
    backup.add_argument("file", type=Path, help="the backup file to write (must not exist)")


def _common_options(default: object) -> argparse.ArgumentParser:
    """Options allowed before and after the subcommand; after it, they only override."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=default,
        help="config file (default: $CHANCENCHECK_CONFIG, else built-in defaults)",
    )
    common.add_argument(
        "--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default=default
    )
    return common


def _command(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    handler: Command,
    help_text: str,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text, parents=[_common_options(argparse.SUPPRESS)]
    )
    parser.set_defaults(handler=handler)
    return parser


def _institution_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = sub.add_parser("institution", help="institutions and their invite links")
    inner = group.add_subparsers(dest="institution", required=True)
    add = _command(inner, "add", _institution_add, "add an institution and print its invite link")
    add.add_argument("short", help="short name, e.g. ABH")
    add.add_argument("name", help='full name, e.g. "Ausländerbehörde"')
    _command(inner, "list", _institution_list, "list institutions")
    cli_access.institution_commands(inner, _command)


def _report_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = _command(
        sub, "report", _report, "write one institution's full report with its chart (PDF or HTML)"
    )
    report.add_argument("short", help="the institution's short name, e.g. ABH")
    report.add_argument(
        "--format",
        choices=["pdf", "html"],
        help="pdf or html (default: from --out's extension, else pdf)",
    )
    report.add_argument("--out", type=Path, help="file to write (default: named after it)")
    report.add_argument("--force", action="store_true", help="overwrite an existing file")
    report.add_argument(
        "--round", help="the round's name (default: the open round, else the latest closed one)"
    )
    export = _command(sub, "export", _export, "write all answers of a round")
    export.add_argument(
        "--round", help="the round's name (default: the open round, else the latest closed one)"
    )
    export.add_argument(
        "--format",
        choices=["xlsx", "csv"],
        help="xlsx or csv (default: from --out's extension, else xlsx)",
    )
    export.add_argument("--out", type=Path, required=True, help="file to write")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")


def _cycle_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = sub.add_parser("cycle", help="assessment rounds")
    inner = group.add_subparsers(dest="cycle", required=True)
    opening = _command(inner, "open", _cycle_open, "open a round with a deadline")
    opening.add_argument("name", help='e.g. "2027"')
    opening.add_argument("--deadline", required=True, type=_date, help="DD.MM.YYYY or YYYY-MM-DD")
    _command(inner, "list", cli_rounds.cycle_list, "list rounds: dates, state, checks submitted")
    closing = _command(
        inner,
        "close",
        cli_rounds.cycle_close,
        "close an open round (lists who has not submitted, asks first) and send its summary",
    )
    closing.add_argument("name")
    closing.add_argument("--yes", action="store_true", help="close without asking (scripts)")
    moving = _command(
        inner,
        "deadline",
        _cycle_deadline,
        "move the open round's deadline; the running bot tells the members",
    )
    moving.add_argument("deadline", type=_date, help="the new deadline, DD.MM.YYYY or YYYY-MM-DD")


def _date(text: str) -> date:
    """Read a date as TT.MM.JJJJ or JJJJ-MM-TT, as /frist does."""
    from bot.reminders.deadline import DayError, parse_day

    try:
        return parse_day(text)
    except DayError as error:
        if not error.exists:
            raise argparse.ArgumentTypeError(
                f"{text} gibt es nicht: there is no such day; check the day and the month"
            ) from None
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write DD.MM.YYYY or YYYY-MM-DD (e.g. 31.03.2027)"
        ) from None


# -- commands --------------------------------------------------------------------------------


async def _run(args: argparse.Namespace, config: Config) -> int:
    if not config.has_token:
        print("No Telegram token configured: starting the offline demo.\n", file=sys.stderr)
        return await _demo(args, config)
    from bot.telegram.app import run_bot  # imported late: the demo needs no Telegram machinery

    await run_bot(config)
    return 0


async def _demo(args: argparse.Namespace, config: Config) -> int:
    import signal

    from bot.cli.demo import reset_demo, run_demo
    from bot.render.terminal import LineReader

    read_line = LineReader()
    previous = read_line.install()
    try:
        if getattr(args, "reset", False) and not await reset_demo(config, read_line, print):
            return 0
        await run_demo(config, read_line, print, colour=sys.stdout.isatty())
    finally:
        signal.signal(signal.SIGINT, previous)  # type: ignore[arg-type]
    return 0


async def _doctor(args: argparse.Namespace, config: Config) -> int:
    from bot.cli.doctor import FAIL, diagnose, render

    findings = await diagnose(config, datetime.now(UTC))
    token = config.telegram.token.get_secret_value() if config.telegram.token else None
    print(render(findings, (token,)))
    return 1 if any(f.level == FAIL for f in findings) else 0


async def _backup(args: argparse.Namespace, config: Config) -> int:
    from bot.cli.backup import backup_database

    done = await asyncio.to_thread(backup_database, config.storage.path, args.file)
    print(
        f"wrote {done.path}: {done.size / 1024:.0f} KiB, {done.answers} answer revisions, "
        f"integrity ok, in {done.seconds:.1f} s"
    )
    return 0


async def _migrate(args: argparse.Namespace, config: Config) -> int:
    db = await storage.open_database(config.storage.path)  # opening applies the migrations
    await db.close()
    print(f"database {config.storage.path} is up to date")
    return 0


def _catalogue_check(path: Path) -> int:
    catalogue = load_catalogue(path)
    questions = len(catalogue.requirements) * len(catalogue.questions)
    print(f"{path}: catalogue {catalogue.id} version {catalogue.version} is valid")
    print(
        f"  {count(len(catalogue.areas), 'area')}, "
        f"{count(len(catalogue.requirements), 'requirement')}, "
        f"{count(questions, 'question')}, {count(len(catalogue.scale), 'rating step')}"
    )
    for area in catalogue.areas:
        ids = ", ".join(r.id for r in area.requirements)
        print(f"  {area.id:<3} {area.title.de} ({ids})")
    return 0


async def _institution_add(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        invitation = await admin.add_institution(db, args.short, args.name)
    print(f"added {invitation.institution.short}: {invitation.institution.name}")
    await cli_access.print_invitation(invitation, await cli_access.bot_username(config))
    return 0


async def _institution_list(args: argparse.Namespace, config: Config) -> int:
    async with await storage.open_database(config.storage.path) as db:
        institutions = await storage.list_institutions(db)
        members = [len(await storage.members_of(db, i.id)) for i in institutions]
    if not institutions:
        print('no institutions yet; add one with: chancencheck institution add ABH "Name"')
        return 0
    for institution, number in zip(institutions, members, strict=True):
        print(f"{institution.short:<12} {institution.name:<40} {count(number, 'member')}")
    # Only a fingerprint of each code is stored, so a link cannot be shown again.
    print(
        "invite links cannot be shown again; for a new one (the old one stops working): "
        "chancencheck institution invite SHORT --rotate"
    )
    return 0


async def _cycle_open(args: argparse.Namespace, config: Config) -> int:
    catalogue = load_catalogue(config.checks.catalogue_path)
    async with await storage.open_database(config.storage.path) as db:
        cycle = await admin.open_round(db, catalogue, args.name, args.deadline, date.today())
    print(
        f"opened round {cycle.name} (catalogue {cycle.catalogue_id} {cycle.catalogue_version}),"
        f" deadline {cycle.deadline.isoformat()}"
    )
    return 0


async def _cycle_deadline(args: argparse.Namespace, config: Config) -> int:
    from bot.reminders.deadline import deadline_problem, move_deadline

    now = datetime.now(UTC)
    async with await storage.open_database(config.storage.path) as db:
        cycle = await storage.current_cycle(db)
        if cycle is None:
            raise admin.AdminError(
                "no round is open; open one with: chancencheck cycle open "
                '"2027" --deadline YYYY-MM-DD'
            )
        problem = deadline_problem(cycle, args.deadline, now.astimezone(config.checks.tz).date())
        if problem:
            why = "has passed" if problem == "past" else "is the deadline already"
            raise admin.AdminError(f"{args.deadline.isoformat()} {why}; choose another date")
        move = await move_deadline(db, cycle, args.deadline, None, now)
    print(
        f"moved the deadline of round {cycle.name} from {cycle.deadline.isoformat()} to "
        f"{args.deadline.isoformat()}; the running bot tells {count(move.told, 'member')} of "
        f"{count(move.institutions, 'institution')} that have not submitted"
    )
    return 0


async def _report(args: argparse.Namespace, config: Config) -> int:
    from bot import reports
    from bot.render.templates import Templates
    from bot.telegram.courier import file_stem

    catalogue = load_catalogue(config.checks.catalogue_path)
    async with await storage.open_database(config.storage.path) as db:
        cycle, institution = await _round_and_institution(db, args.short, args.round)
        report = await reports.load_check_report(
            db, institution.id, cycle.id, config.privacy.authors
        )
        report = await with_history(db, report, catalogue)
    catalogue = round_catalogue(cycle, catalogue)
    file_format = report_format(args.format, args.out)
    document = reports.report_file(
        report, catalogue, Templates(config.checks.tz), config.checks.language, file_format
    )
    out = args.out or Path(f"{file_stem(report)}.{file_format}")
    write_new(out, document, args.force)
    print(f"wrote {out}")
    return 0


def write_new(path: Path, data: bytes, force: bool) -> None:
    """Write a file, refusing to replace an existing one unless forced."""
    if path.exists() and not force:
        raise admin.AdminError(f"{path} exists already; choose another file or add --force")
    path.write_bytes(data)


def report_format(chosen: str | None, out: Path | None) -> str:
    """Return the report's format: as chosen, else from the file's extension, else pdf."""
    if chosen:
        return chosen
    suffix = out.suffix.lower().lstrip(".") if out else ""
    return "html" if suffix in ("html", "htm") else "pdf"


async def _export(args: argparse.Namespace, config: Config) -> int:
    from bot import reports

    catalogue = load_catalogue(config.checks.catalogue_path)
    async with await storage.open_database(config.storage.path) as db:
        cycle = await cli_rounds.chosen_round(db, args.round)
        round_reports = await reports.load_round_reports(db, cycle.id, config.privacy.authors)
        round_reports = await with_previous(db, cycle, round_reports)
    catalogue = round_catalogue(cycle, catalogue)
    csv = (args.format or args.out.suffix.lower().lstrip(".")) == "csv"
    write = reports.export_csv if csv else reports.export_xlsx
    data = write(round_reports, catalogue, config.checks.language, config.checks.tz)
    write_new(args.out, data, args.force)
    print(f"wrote {args.out} ({count(len(round_reports), 'institution')}, round {cycle.name})")
    return 0


async def _round_and_institution(
    db: storage.Database, short: str, name: str | None = None
) -> tuple[storage.Cycle, storage.Institution]:
    cycle = await cli_rounds.chosen_round(db, name)
    institution = await storage.institution_by_short(db, short)
    if institution is None:
        raise admin.AdminError(
            f"there is no institution {short!r}; see: chancencheck institution list"
        )
    return cycle, institution
