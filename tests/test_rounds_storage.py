"""Rounds over years in storage (issue 15): the m007 migration, each round's own catalogue,
the carried-from link, and a deleted old round that leaves the newer one readable."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
import pytest
from pypdf import PdfReader

import storage
from bot.catalogue import load_catalogue
from bot.core import admin
from bot.core.checks import Checks
from bot.core.rounds import (
    UnknownRound,
    pick_round,
    round_catalogue,
    with_history,
    with_previous,
)
from bot.render.templates import Templates
from bot.reports import (
    export_rows,
    load_check_report,
    load_round_reports,
    report_file,
    report_html,
)
from bot.reports.change import change_lines, compare
from dialogues import effects as fx
from dialogues import events as ev
from dialogues.catalogue import DEFAULT_CATALOGUE, Catalogue, parse_catalogue
from dialogues.engine import Dialogue
from dialogues.model import Position
from storage.migrations import MIGRATIONS, migrate

V1 = load_catalogue()
TODAY = date.today()
TZ = ZoneInfo("Europe/Berlin")
OLD_Z1 = "Die Einrichtung weiß, welche Bürger*innen ihre Angebote nutzen"
NEW_Z1 = "Die Einrichtung kennt die Menschen, die ihre Angebote nutzen"


def catalogue_v2() -> Catalogue:
    """The next version: Z1 reworded, Z3 dropped, Z4 new in its place."""
    text = Path(DEFAULT_CATALOGUE).read_text(encoding="utf-8")
    text = text.replace('version = "2026.2-entwurf"', 'version = "2027.1"')
    text = text.replace(OLD_Z1, NEW_Z1).replace('id = "Z3"', 'id = "Z4"')
    return parse_catalogue(text)


async def answer_all(db: storage.Database, check_id: int, member_id: int, value: str) -> None:
    for requirement in V1.requirements:
        for key, (v, t) in {
            "fulfilment": (value, None),
            "potential": ("no", None),
            "measures": ("planned", f"Maßnahme {requirement.id}"),
        }.items():
            new = storage.NewAnswer(requirement.id, key, v, t, member_id, V1.id, V1.version)
            await storage.record_answer(db, check_id, new)


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with await storage.open_database(tmp_path / "bot.sqlite3") as database:
        yield database


async def round_2026(db: storage.Database) -> tuple[storage.Member, storage.Cycle]:
    """ABH answered everything "partly" in round 2026 (catalogue v1), now closed."""
    async with db.transaction():
        abh = await storage.add_institution(db, "ABH", "Ausländerbehörde", "code")
        member = await storage.join_institution(db, 1001, abh.id, "Anna", "de")
    cycle = await admin.open_round(db, V1, "2026", TODAY + timedelta(days=9), TODAY)
    async with db.transaction():
        check = await storage.check_for(db, abh.id, cycle.id)
        await answer_all(db, check.id, member.id, "partly")
        await storage.close_cycle(db, cycle.id)
    return member, cycle


async def test_m007_links_existing_rounds_and_migrating_again_changes_nothing(
    tmp_path: Path,
) -> None:
    """Protects the append-only migration: rounds from before issue 15 get their predecessor
    and its name, keep no catalogue (reports fall back to the loaded one), and a second run
    applies nothing."""
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        for migration in MIGRATIONS[:6]:
            await conn.execute("BEGIN")
            await migration(conn)
            await conn.execute("INSERT INTO _migrations VALUES (?, 'x')", (migration.__name__,))
            await conn.execute("COMMIT")
        for n, name in enumerate(("2025", "2026")):
            await conn.execute(
                "INSERT INTO cycles (name, catalogue_id, catalogue_version, opened_at, deadline)"
                " VALUES (?, 'cclu', '1', ?, '2026-03-31')",
                (name, f"2026-01-0{n + 1}T00:00:00+00:00"),
            )
    async with await storage.open_database(path) as db:
        cycles = await storage.list_cycles(db)
        assert [(c.name, c.previous_name) for c in cycles] == [("2025", None), ("2026", "2025")]
        assert cycles[1].previous_id == cycles[0].id and cycles[0].catalogue is None
        assert round_catalogue(cycles[1], V1) is V1
        assert await migrate(db.conn) == []


async def test_a_round_keeps_its_catalogue_and_the_next_one_proposes_by_requirement_id(
    db: storage.Database,
) -> None:
    """Protects the catalogue-version cases: a new version can be loaded for the next round;
    the old round keeps its wording; a reworded requirement's proposal carries the note; a new
    requirement is asked as today; a dropped one appears as "entfallen"."""
    member, old = await round_2026(db)
    v2 = catalogue_v2()
    new = await admin.open_round(db, v2, "2027", TODAY + timedelta(days=30), TODAY)
    assert new.previous_id == old.id and round_catalogue(old, v2) == V1
    checks = Checks(db, Dialogue(v2))
    first = (await checks.handle(member, ev.Resume())).step.effects[0]
    assert isinstance(first, fx.Propose) and first.position.requirement_id == "Z1"
    assert first.reworded
    z2 = (await checks.handle(member, ev.Jump("Z2"))).step.effects[0]
    assert isinstance(z2, fx.Propose) and not z2.reworded
    z4 = (await checks.handle(member, ev.Jump("Z4"))).step.effects[0]
    assert isinstance(z4, fx.Ask) and not z4.proposed  # new in the catalogue: asked as today

    old_report = await load_check_report(db, member.institution_id, old.id)
    html = report_html(old_report, round_catalogue(old, v2), Templates(TZ), "de").decode()
    assert OLD_Z1 in html and NEW_Z1 not in html
    now_report = await load_check_report(db, member.institution_id, new.id)
    dropped = [c for c in compare(now_report, old_report, v2, V1) if c.direction == "dropped"]
    assert [c.requirement_id for c in dropped] == ["Z3"]
    lines = change_lines(
        (await with_previous(db, new, [now_report]))[0], v2, "de", round_catalogue(old, v2)
    )
    assert "✖ Z3: entfallen" in lines


async def test_deleting_the_old_round_leaves_the_new_one_readable(db: storage.Database) -> None:
    """Protects ON DELETE SET NULL: a retention run that deletes round 2026 keeps the 2027
    answers carried from it (carried, link cleared), and comparisons say "Vorrunde gelöscht"."""
    member, _ = await round_2026(db)
    new = await admin.open_round(db, V1, "2027", TODAY + timedelta(days=30), TODAY)
    checks = Checks(db, Dialogue(V1))
    await checks.handle(member, ev.Resume())
    await checks.handle(member, ev.Carry(fx_position("Z1")))
    linked = await storage.carried_answers(db, (await load_round_reports(db, new.id))[0].check.id)
    assert {c.from_round for c in linked.values()} == {"2026"} and len(linked) == 3

    async with db.transaction():
        purge = await storage.purge_cycles(db, datetime.now(UTC) + timedelta(days=1))
    assert purge.cycles == ["2026"]
    new = await pick_round(db, "2027")
    assert new is not None and new.previous_deleted
    report = (await with_previous(db, new, await load_round_reports(db, new.id)))[0]
    assert len(report.answers) == 3  # the carried answers stay
    carried = await storage.carried_answers(db, report.check.id)
    assert {c.from_round for c in carried.values()} == {None} and len(carried) == 3
    assert change_lines(report, V1, "de") == ["Vorrunde gelöscht"]
    rows = export_rows([report], V1, "de", TZ)
    assert {row["previous_value"] for row in rows} == {"Vorrunde gelöscht"}


async def test_rounds_are_picked_by_name_else_open_else_latest_closed(
    db: storage.Database,
) -> None:
    """Protects the optional round argument: no name reads the open round, or the latest
    closed one when none is open; an unknown name lists the rounds there are."""
    _, old = await round_2026(db)
    assert _id(await pick_round(db, None)) == old.id  # none open: the latest closed
    new = await admin.open_round(db, V1, "Runde 2027", TODAY + timedelta(days=30), TODAY)
    assert _id(await pick_round(db, None)) == new.id
    assert _id(await pick_round(db, " 2026 ")) == old.id
    with pytest.raises(UnknownRound) as refused:
        await pick_round(db, "1999")
    assert refused.value.names == ["2026", "Runde 2027"]


async def test_a_second_open_round_and_a_taken_name_are_refused(db: storage.Database) -> None:
    """Protects "one round at a time": opening while one is open, or under a used name,
    changes nothing and says why."""
    await round_2026(db)
    with pytest.raises(admin.AdminError) as taken:
        await admin.open_round(db, V1, "2026", TODAY + timedelta(days=30), TODAY)
    assert taken.value.key == "round_name_taken"
    await admin.open_round(db, V1, "2027", TODAY + timedelta(days=30), TODAY)
    with pytest.raises(admin.AdminError) as still_open:
        await admin.open_round(db, V1, "2028", TODAY + timedelta(days=30), TODAY)
    assert still_open.value.key == "round_still_open"
    assert [c.name for c in await storage.list_cycles(db)] == ["2026", "2027"]


def fx_position(requirement_id: str) -> Position:
    return Position(requirement_id, V1.questions[0].key)


def _id(cycle: storage.Cycle | None) -> int | None:
    return cycle.id if cycle else None


async def test_confirming_everything_counts_as_answered_and_shows_no_change(
    db: storage.Database,
) -> None:
    """Protects "confirmed or answered": 15 taps complete the check (progress 45 of 45,
    submittable), every answer links to the one it was carried from, and the comparison with
    the round before says "keine Veränderung"."""
    member, old = await round_2026(db)
    new = await admin.open_round(db, V1, "2027", TODAY + timedelta(days=30), TODAY)
    checks = Checks(db, Dialogue(V1))
    turn = await checks.handle(member, ev.Resume())
    taps = 0
    while isinstance(turn.step.effects[-1], fx.Propose):
        turn = await checks.handle(member, ev.Carry(turn.step.state.position))
        taps += 1
    assert taps == 15 and checks.dialogue.progress(turn.step.state).answered == 45
    assert turn.step.state.phase.value == "at_end"
    report = (await with_previous(db, new, await load_round_reports(db, new.id)))[0]
    carried = await storage.carried_answers(db, report.check.id)
    assert len(carried) == 45 and {c.from_round for c in carried.values()} == {old.name}
    assert change_lines(report, V1, "de") == ["keine Veränderung"]


@pytest.mark.slow  # draws two charts and typesets a PDF
async def test_report_and_export_show_the_change_against_the_round_before(
    db: storage.Database,
) -> None:
    """Protects §4's outputs: the report has the section "Veränderung zur Vorrunde" with ▲ and
    a chart across the institution's rounds; the export has last round's value beside this
    round's."""
    member, _ = await round_2026(db)
    new = await admin.open_round(db, V1, "2027", TODAY + timedelta(days=30), TODAY)
    async with db.transaction():
        check = await storage.check_for(db, member.institution_id, new.id)
        await answer_all(db, check.id, member.id, "full")
    report = await load_check_report(db, member.institution_id, new.id)
    report = await with_history(db, report, V1)
    assert [name for name, _ in report.history] == ["2026"]
    html = report_file(report, V1, Templates(TZ), "de", "html").decode()
    assert "Veränderung zur Vorrunde" in html
    assert "▲ Z1: teilweise erfüllt → vollständig erfüllt" in html
    assert html.count("data:image/png;base64,") == 2  # the profile and the rounds chart
    pdf = PdfReader(io.BytesIO(report_file(report, V1, Templates(TZ), "de", "pdf")))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Veränderung zur Vorrunde" in text and "Z1: teilweise erfüllt" in text
    rows = export_rows(await with_previous(db, new, [report]), V1, "de", TZ)
    rating = next(r for r in rows if r["requirement_id"] == "Z1" and r["score"] is not None)
    assert (rating["value"], rating["previous_value"]) == (
        "vollständig erfüllt",
        "teilweise erfüllt",
    )
    assert (rating["score"], rating["previous_score"]) == (3, 1)
