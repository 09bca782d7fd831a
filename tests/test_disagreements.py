"""Differing views (issue 19 §2): which changes count as a colleague's different judgement,
and how the report and the export list them under each `[privacy] authors` mode. The real
SQLite file and the real report code; no Telegram here (see test_several_voices.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

import storage
from bot.catalogue import load_catalogue
from bot.core import admin
from bot.core.disagreements import changed
from bot.render.templates import Templates
from bot.reports import disagreements, export_csv, load_check_report, report_file, report_html

CATALOGUE = load_catalogue()
NOW = datetime(2027, 3, 12, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
REASON = "Die Formulare gibt es nur auf Deutsch"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[storage.Database]:
    async with await storage.open_database(tmp_path / "bot.sqlite3") as db:
        yield db


async def answer(
    db: storage.Database,
    check: storage.Check,
    member: storage.Member,
    key: tuple[str, str],
    value: str,
    minutes: int,
    text: str | None = None,
) -> storage.StoredAnswer:
    new = storage.NewAnswer(*key, value, text, member.id, CATALOGUE.id, CATALOGUE.version)
    async with db.transaction():
        return await storage.record_answer(db, check.id, new, NOW + timedelta(minutes=minutes))


async def team(db: storage.Database) -> tuple[storage.Check, list[storage.Member]]:
    invitation = await admin.add_institution(db, "ABH", "Ausländerbehörde")
    await admin.open_round(db, CATALOGUE, "Runde 2027", date(2027, 6, 30), NOW.date())
    async with db.transaction():
        members = [
            await storage.join_institution(db, uid, invitation.institution.id, name, "de", NOW)
            for uid, name in ((1001, "Anna"), (1002, "Ben"), (1003, "Carl"))
        ]
        cycle = await storage.current_cycle(db)
        assert cycle is not None
        check = await storage.check_for(db, invitation.institution.id, cycle.id)
    return check, members


async def test_only_another_persons_different_judgement_asks_for_a_reason(
    db: storage.Database,
) -> None:
    """Protects the reason prompt's trigger: a colleague's rating replaced by another one asks;
    one's own correction, the same value again and the measures do not."""
    check, (anna, ben, _) = await team(db)
    first = await answer(db, check, anna, ("K1", "fulfilment"), "full", 1)
    own = await answer(db, check, anna, ("K1", "fulfilment"), "mostly", 2)
    assert changed({("K1", "fulfilment"): first}, [own], anna.id) is None
    same = await answer(db, check, ben, ("K1", "fulfilment"), "mostly", 3)
    assert changed({("K1", "fulfilment"): own}, [same], ben.id) is None
    other = await answer(db, check, ben, ("K1", "fulfilment"), "partly", 4)
    found = changed({("K1", "fulfilment"): own}, [other], ben.id)
    assert found is not None and found.before.author_name == "Anna" and found.after.id == other.id
    plan = await answer(db, check, anna, ("K1", "measures"), "planned", 5, "Flyer")
    replan = await answer(db, check, ben, ("K1", "measures"), "none", 6)
    assert changed({("K1", "measures"): plan}, [replan], ben.id) is None


async def changed_views(db: storage.Database) -> storage.Check:
    """Anna rates K1 🟢, Carl changes it to 🟠 with a reason; on P1 Anna 🟡, Ben 🔴, Anna 🟡
    again; Ben answers K2 alone, twice (his own correction)."""
    check, (anna, ben, carl) = await team(db)
    await answer(db, check, anna, ("K1", "fulfilment"), "full", 1)
    changed_k1 = await answer(db, check, carl, ("K1", "fulfilment"), "partly", 2)
    async with db.transaction():
        await storage.ask_reason(db, carl.id, changed_k1.id, NOW)
        await storage.give_reason(db, carl.id, REASON)
    await answer(db, check, anna, ("P1", "fulfilment"), "mostly", 3)
    await answer(db, check, ben, ("P1", "fulfilment"), "not", 4)
    await answer(db, check, anna, ("P1", "fulfilment"), "mostly", 5)
    await answer(db, check, ben, ("K2", "fulfilment"), "full", 6)
    await answer(db, check, ben, ("K2", "fulfilment"), "partly", 7)
    return check


@pytest.mark.parametrize(
    ("authors", "named"), [("names", "Carl"), ("members", "Mitglied 3"), ("none", "")]
)
async def test_report_and_export_list_differing_views_as_privacy_allows(
    db: storage.Database, authors: str, named: str
) -> None:
    """Protects the listing of differing views: K1 🟢 → 🟠 with Carl's reason, P1 🟡 ↔ 🔴,
    no K2 (one person); names, member numbers or nobody as `[privacy] authors` says."""
    check = await changed_views(db)
    report = await load_check_report(db, check.institution_id, check.cycle_id, authors)  # type: ignore[arg-type]
    items = disagreements.items(report, CATALOGUE, "de")
    lines = [f"{i['requirement_id']} {disagreements.line(i)}" for i in items]
    quoted = f"{named}: „{REASON}“" if named else f"„{REASON}“"
    assert lines == [f"K1 🟢 → 🟠 ({quoted})", "P1 🟡 ↔ 🔴"]
    html = report_html(report, CATALOGUE, Templates(TZ), "de", NOW).decode()
    assert "Unterschiedliche Einschätzungen" in html and REASON in html
    section = html.split("Unterschiedliche Einschätzungen</h2>")[1].split("</ul>")[0]
    assert (named in section) if named else ("Mitglied" not in section)
    for name in {"Anna", "Ben", "Carl"} - {named}:
        assert name not in section
    rows = list(
        csv.DictReader(
            io.StringIO(export_csv([report], CATALOGUE, "de", TZ).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    column = {
        (r["Anforderung-Nr."], r["Frage kurz"]): r["abweichende Einschätzungen"] for r in rows
    }
    assert column[("K1", "Erfüllung")] == f"🟢 → 🟠 ({quoted})"
    assert column[("P1", "Erfüllung")] == "🟡 ↔ 🔴"
    assert column[("K2", "Erfüllung")] == ""


async def test_the_pdf_report_lists_differing_views(db: storage.Database) -> None:
    """Protects the PDF's section "Unterschiedliche Einschätzungen" with the reason."""
    check = await changed_views(db)
    report = await load_check_report(db, check.institution_id, check.cycle_id, "none")
    pdf = report_file(report, CATALOGUE, Templates(TZ), "de")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Unterschiedliche Einschätzungen" in text and REASON in text
    assert "Carl" not in text
