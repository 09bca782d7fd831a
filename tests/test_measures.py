"""The improvement plan's rules (issue 16): splitting a reply, due months, who is asked when,
and the storage of measures with their history — on the real SQLite file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import storage
from bot.core import measures as plan
from bot.core.plan import carried_out_before, rows
from bot.reports.measures import measures_csv, measures_xlsx
from storage import measures as store

NOW = datetime(2027, 2, 10, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Flyer in Leichter Sprache", ["Flyer in Leichter Sprache"]),
        ("Flyer\nFormulare übersetzen\n\n", ["Flyer", "Formulare übersetzen"]),
        ("1. Flyer 2. Formulare übersetzen", ["Flyer", "Formulare übersetzen"]),
        ("1) Flyer\n2) Schulung im März", ["Flyer", "Schulung im März"]),
        ("- Flyer\n• Schulung", ["Flyer", "Schulung"]),
        ("Schulung für 2 Teams", ["Schulung für 2 Teams"]),  # a number inside is no list
        ("Termin am 3. Mai", ["Termin am 3. Mai"]),  # one "3." is no enumeration
    ],
)
def test_a_reply_splits_into_measures_by_lines_or_numbers(reply: str, expected: list[str]) -> None:
    """Protects "several measures in one reply become several measures" without cutting a
    single measure that merely contains a number."""
    assert plan.split_measures(reply) == expected


@pytest.mark.parametrize(
    ("today", "choice", "month"),
    [
        (date(2027, 1, 12), "quarter", "2027-03"),
        (date(2027, 3, 31), "quarter", "2027-03"),
        (date(2027, 1, 12), "next_quarter", "2027-06"),
        (date(2027, 11, 2), "next_quarter", "2028-03"),
        (date(2027, 11, 2), "six", "2028-05"),
        (date(2027, 1, 12), "twelve", "2028-01"),
        (date(2027, 1, 12), "open", None),
    ],
)
def test_due_month_is_the_quarters_last_month_or_months_ahead(
    today: date, choice: str, month: str | None
) -> None:
    """Protects the issue's rule for "Bis wann?", across the turn of the year."""
    assert plan.due_month(choice, today) == month


def _measure(**changes: object) -> store.Measure:
    base = store.Measure(
        1, 1, 1, 1, "K1", "Flyer", 1, 1, None, None, "2027-06", "geplant", NOW, NOW
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_measure_is_asked_in_its_month_then_monthly_three_times_then_shown_overdue() -> None:
    """Protects "at most once a month; overdue asked monthly, at most three times" and when
    coordinators see a measure as overdue."""
    m = _measure()
    assert not plan.wants_ask(m, [], date(2027, 5, 31))  # not yet due
    assert plan.wants_ask(m, [], date(2027, 6, 1))
    assert not plan.wants_ask(m, ["2027-06"], date(2027, 6, 20))  # asked this month
    asked = ["2027-06", "2027-07", "2027-08", "2027-09"]
    assert plan.wants_ask(m, asked[:3], date(2027, 9, 1))  # third time overdue
    assert not plan.wants_ask(m, asked, date(2027, 10, 1))  # three overdue asks: enough
    assert plan.is_shown_overdue(m, 3, date(2027, 10, 1))
    assert not plan.is_shown_overdue(m, 2, date(2027, 10, 1))
    assert not plan.wants_ask(_measure(status="umgesetzt"), [], date(2027, 6, 1))
    assert not plan.wants_ask(_measure(due_month=None), [], date(2027, 6, 1))


async def test_measures_keep_their_history_and_a_rewrite_replaces_only_untouched_ones(
    tmp_path: Path,
) -> None:
    """Protects the stored plan: each change records who and when; retyping a requirement's
    measures drops only those nobody has worked on; /loeschen's release keeps the measure."""
    async with await storage.open_database(tmp_path / "db.sqlite3") as db:
        async with db.transaction():
            institution = await storage.add_institution(db, "ABH", "Amt", "code", NOW)
            cycle = await storage.open_cycle(db, "2027", "cclu", "1", date(2027, 3, 31), NOW)
            member = await storage.join_institution(db, 1, institution.id, "Anna", "de", NOW)
            check = await storage.check_for(db, institution.id, cycle.id)
            batch = await plan.record_reply(db, member, check, "K1", "1. Flyer 2. Kurs", NOW)
        assert batch is not None
        first, _ = await store.measures_of_batch(db, batch)
        await plan.set_status(db, member, first.id, "umgesetzt", NOW)
        await plan.plan_owner(db, member, batch, "me", NOW)
        async with db.transaction():
            await plan.record_reply(db, member, check, "K1", "Schulung", NOW)
        texts = [(m.text, m.status) for m in await store.list_measures(db)]
        assert texts == [("Flyer", "umgesetzt"), ("Schulung", "geplant")]
        changes = await store.changes_of(db, first.id)
        assert [(c.field, c.new, c.member_id) for c in changes] == [
            ("status", "umgesetzt", member.id),
            ("owner_member_id", str(member.id), member.id),
        ]
        async with db.transaction():
            await store.release_owner(db, member.id, NOW)
        assert (await store.measure_by_id(db, first.id)).owner_member_id is None  # type: ignore[union-attr]
        assert await carried_out_before(db, cycle, institution.id) is None  # no round before


async def test_a_stranger_cannot_change_another_institutions_measure(tmp_path: Path) -> None:
    """Protects the plan from members of other institutions (forged buttons)."""
    async with await storage.open_database(tmp_path / "db.sqlite3") as db:
        async with db.transaction():
            abh = await storage.add_institution(db, "ABH", "Amt", "code1", NOW)
            vhs = await storage.add_institution(db, "VHS", "VHS", "code2", NOW)
            cycle = await storage.open_cycle(db, "2027", "cclu", "1", date(2027, 3, 31), NOW)
            anna = await storage.join_institution(db, 1, abh.id, "Anna", "de", NOW)
            bert = await storage.join_institution(db, 2, vhs.id, "Bert", "de", NOW)
            check = await storage.check_for(db, abh.id, cycle.id)
            batch = await plan.record_reply(db, anna, check, "K1", "Flyer", NOW)
        assert batch is not None
        (measure,) = await store.measures_of_batch(db, batch)
        assert await plan.set_status(db, bert, measure.id, "verworfen", NOW) is None
        assert await plan.plan_due(db, bert, batch, "six", NOW, NOW.date()) == []
        assert (await store.measure_by_id(db, measure.id)).status == "geplant"  # type: ignore[union-attr]


async def test_owner_names_reach_coordinators_only_as_privacy_authors_allows(
    tmp_path: Path,
) -> None:
    """Protects [privacy] authors in the plan's outputs: typed and member names appear only
    with "names"; otherwise the row says that someone is named, not who."""
    async with await storage.open_database(tmp_path / "db.sqlite3") as db:
        async with db.transaction():
            abh = await storage.add_institution(db, "ABH", "Amt", "code1", NOW)
            cycle = await storage.open_cycle(db, "2027", "cclu", "1", date(2027, 3, 31), NOW)
            anna = await storage.join_institution(db, 1, abh.id, "Anna", "de", NOW)
            check = await storage.check_for(db, abh.id, cycle.id)
            batch = await plan.record_reply(db, anna, check, "K1", "Flyer", NOW)
        assert batch is not None
        await plan.name_owner(db, anna, batch, "Herr Özdemir", NOW)
        measures = await store.list_measures(db)
        named = await rows(db, measures, NOW.date(), "names")
        hidden = await rows(db, measures, NOW.date(), "none", "benannt")
        assert named[0].owner == "Herr Özdemir" and hidden[0].owner == "benannt"
        csv = measures_csv(hidden, "de", ZoneInfo("Europe/Berlin")).decode("utf-8-sig")
        assert "Özdemir" not in csv and "Flyer" in csv and csv.startswith("Einrichtung;")
        assert measures_xlsx(named, "de", ZoneInfo("Europe/Berlin"))[:2] == b"PK"


async def test_the_report_has_a_section_maßnahmenplan_and_the_export_a_sheet(
    tmp_path: Path,
) -> None:
    """Protects the coordinators' outputs of the plan: the HTML report's section and the
    export's sheet "Maßnahmen" list each measure with owner, month and status."""
    import io

    from openpyxl import load_workbook

    from bot.catalogue import load_catalogue
    from bot.render.templates import Templates
    from bot.reports import export_xlsx
    from bot.reports.data import load_check_report
    from bot.reports.document import report_html

    catalogue = load_catalogue()
    tz = ZoneInfo("Europe/Berlin")
    async with await storage.open_database(tmp_path / "db.sqlite3") as db:
        async with db.transaction():
            abh = await storage.add_institution(db, "ABH", "Amt", "code1", NOW)
            cycle = await storage.open_cycle(
                db, "2027", catalogue.id, catalogue.version, date(2027, 3, 31), NOW
            )
            anna = await storage.join_institution(db, 1, abh.id, "Anna", "de", NOW)
            check = await storage.check_for(db, abh.id, cycle.id)
            batch = await plan.record_reply(db, anna, check, "Z1", "Flyer <neu>", NOW)
        assert batch is not None
        await plan.plan_due(db, anna, batch, "quarter", NOW, NOW.date())
        await plan.plan_owner(db, anna, batch, "me", NOW)
        report = await load_check_report(db, abh.id, cycle.id, "names")
    html = report_html(report, catalogue, Templates(tz), "de").decode()
    section = html[html.index('id="massnahmenplan"') :]
    assert "<h2>Maßnahmenplan</h2>" in section
    assert (
        "<td>Z1</td><td>Flyer &lt;neu&gt;</td><td>Anna</td><td>03/2027</td><td>geplant</td>"
        in section
    )
    book = load_workbook(io.BytesIO(export_xlsx([report], catalogue, "de", tz)))
    values = [[c.value for c in row] for row in book["Maßnahmen"].iter_rows()]
    assert values[0][:7] == [
        "Einrichtung",
        "Runde",
        "Anforderung",
        "Maßnahme",
        "Zuständig",
        "Bis",
        "Stand",
    ]
    assert values[1][:7] == ["ABH", "2027", "Z1", "Flyer <neu>", "Anna", "03/2027", "geplant"]


@pytest.mark.slow
def test_cli_lists_filters_and_exports_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Protects `chancencheck measures list|export`: the filters by institution, status and
    round, CSV and XLSX by the file's extension, and a clear error for an unknown institution."""
    import asyncio

    from bot.cli.entry import main

    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n', encoding="utf-8")

    async def set_up() -> None:
        async with await storage.open_database(tmp_path / "db.sqlite3") as db:
            async with db.transaction():
                abh = await storage.add_institution(db, "ABH", "Amt", "code1", NOW)
                vhs = await storage.add_institution(db, "VHS", "VHS", "code2", NOW)
                cycle = await storage.open_cycle(db, "2027", "cclu", "1", date(2027, 3, 31), NOW)
                anna = await storage.join_institution(db, 1, abh.id, "Anna", "de", NOW)
                bert = await storage.join_institution(db, 2, vhs.id, "Bert", "de", NOW)
                for member, text in ((anna, "Flyer"), (bert, "Kurs")):
                    check = await storage.check_for(db, member.institution_id, cycle.id)
                    await plan.record_reply(db, member, check, "K1", text, NOW)
            flyer = (await store.list_measures(db, abh.id))[0]
            await plan.set_status(db, anna, flyer.id, "in_arbeit", NOW)

    asyncio.run(set_up())
    base = ["--config", str(config), "measures"]
    assert main([*base, "list", "--status", "in-arbeit"]) == 0
    out = capsys.readouterr().out
    assert "Flyer" in out and "Kurs" not in out and "in-arbeit" in out
    assert main([*base, "list", "--institution", "VHS", "--round", "2027"]) == 0
    out = capsys.readouterr().out
    assert "Kurs" in out and "Flyer" not in out
    assert main([*base, "list", "--institution", "XYZ"]) == 2
    assert "no institution 'XYZ'" in capsys.readouterr().err
    assert main([*base, "export", "--out", str(tmp_path / "plan.csv")]) == 0
    csv = (tmp_path / "plan.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[1].startswith("ABH;2027;K1;Flyer;;;in Arbeit;")
    assert main([*base, "export", "--out", str(tmp_path / "plan.xlsx")]) == 0
    assert (tmp_path / "plan.xlsx").read_bytes()[:2] == b"PK"
    assert main([*base, "export", "--out", str(tmp_path / "plan.csv")]) == 2  # exists already


async def test_a_follow_up_in_doubt_is_marked_and_never_sent_again(tmp_path: Path) -> None:
    """Protects "never twice per (measure, month), also across restarts": a claimed ask is not
    claimed again, one a crash left "sending" becomes "uncertain" and still counts as asked,
    and one that surely failed is released for the next sweep."""
    async with await storage.open_database(tmp_path / "db.sqlite3") as db:
        async with db.transaction():
            abh = await storage.add_institution(db, "ABH", "Amt", "code1", NOW)
            cycle = await storage.open_cycle(db, "2027", "cclu", "1", date(2027, 3, 31), NOW)
            anna = await storage.join_institution(db, 1, abh.id, "Anna", "de", NOW)
            check = await storage.check_for(db, abh.id, cycle.id)
            batch = await plan.record_reply(db, anna, check, "K1", "Flyer\nKurs", NOW)
        assert batch is not None
        flyer, kurs = await store.measures_of_batch(db, batch)
        async with db.transaction():
            first = await store.claim_ask(db, flyer.id, "2027-06", anna.id, NOW)
            assert first is not None
            assert await store.claim_ask(db, flyer.id, "2027-06", anna.id, NOW) is None
            failed = await store.claim_ask(db, kurs.id, "2027-06", anna.id, NOW)
            assert failed is not None
            await store.release_ask(db, failed)  # surely not delivered
        async with db.transaction():  # the restart after a crash
            assert await store.abandon_asks(db, NOW) == 1
        assert await store.asks_of(db, flyer.id) == ["2027-06"]
        assert not plan.wants_ask(
            replace(flyer, due_month="2027-06"), ["2027-06"], date(2027, 6, 9)
        )
        assert await store.asks_of(db, kurs.id) == []  # asked again by the next sweep
