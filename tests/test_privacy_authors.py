"""[privacy] authors: who coordinators see behind an answer, in every output they get."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from botharness import make_config, running_bot, set_up_institution
from fakebot import FakeBotApi
from openpyxl import load_workbook
from pypdf import PdfReader
from test_digest import COORDINATOR, prefill
from test_reports import (
    CATALOGUE,
    NOW,
    TEMPLATES,
    TZ,
    Round,
    round_,  # noqa: F401  (the fixture)
)

import storage
from bot.config import Config, load_config
from bot.core.digest import Digests
from bot.render.presenter import Presenter
from bot.reports import (
    export_csv,
    export_xlsx,
    load_check_report,
    load_round_reports,
    report_file,
    report_html,
)
from dialogues.engine import Dialogue
from dialogues.model import Answer

NAMES = ("Jörg", "Ayşe")


def config_with(tmp_path: Path, authors: str) -> Config:
    path = tmp_path / "privacy.toml"
    path.write_text(f'[privacy]\nauthors = "{authors}"\n', encoding="utf-8")
    return load_config(path, env={})


async def outputs(r: Round, authors: str) -> str:
    """Return the text of every coordinator output for ABH's check under a privacy mode."""
    report = await load_check_report(r.db, r.full_id, r.cycle_id, authors)  # type: ignore[arg-type]
    round_reports = await load_round_reports(r.db, r.cycle_id, authors)  # type: ignore[arg-type]
    html = report_html(report, CATALOGUE, TEMPLATES, "de", NOW).decode()
    pdf = report_file(report, CATALOGUE, TEMPLATES, "de")
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    csv = export_csv(round_reports, CATALOGUE, "de", TZ).decode("utf-8-sig")
    book = load_workbook(io.BytesIO(export_xlsx(round_reports, CATALOGUE, "de", TZ)))
    cells = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
    return f"{html}\n{pdf_text}\n{csv}\n{cells}"


def test_the_default_names_nobody() -> None:
    """A data protection officer's default: coordinators see institutions, not people."""
    assert load_config(None, env={}).privacy.authors == "none"


async def test_names_mode_shows_first_names(
    round_: Round,  # noqa: F811  (the fixture imported above)
) -> None:
    """With "names" the report, PDF and spreadsheets say who answered, as before."""
    text = await outputs(round_, "names")
    assert all(name in text for name in NAMES)
    assert "von Jörg" in text


async def test_members_mode_numbers_people_per_check(
    round_: Round,  # noqa: F811  (the fixture imported above)
) -> None:
    """With "members" every output says "Mitglied 1/2", never a first name."""
    text = await outputs(round_, "members")
    assert not any(name in text for name in NAMES)
    assert "Mitglied 1" in text and "Mitglied 2" in text and "Mitglied 3" not in text
    # Jörg joined first and submitted: he is member 1 in the report's status line.
    assert "abgesendet</span> am 01.03.2026, 12:00 von Mitglied 1" in text


async def test_none_mode_names_nobody_anywhere(
    round_: Round,  # noqa: F811  (the fixture imported above)
) -> None:
    """With "none" no output names or numbers a person; answers and times stay."""
    text = await outputs(round_, "none")
    assert not any(name in text for name in NAMES)
    assert "Mitglied 1" not in text and "ehemaliges Mitglied" not in text
    assert "abgesendet</span> am 01.03.2026, 12:00" in text and "12:00 von" not in text
    assert "überwiegend erfüllt" in text


@pytest.mark.parametrize(
    ("authors", "shown", "hidden"),
    [
        ("names", "von Jörg", "Mitglied 1"),
        ("members", "von Mitglied 1", "Jörg"),
        ("none", "Runde 2026 · am", "Jörg"),
    ],
)
async def test_digest_names_the_submitter_as_the_mode_allows(
    round_: Round,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    authors: str,
    shown: str,
    hidden: str,
) -> None:
    """The digest's "von …" follows [privacy] authors."""
    config = config_with(tmp_path, authors)
    digests = Digests(config, Presenter(Dialogue(CATALOGUE), TEMPLATES))
    report = await load_check_report(round_.db, round_.full_id, round_.cycle_id, authors)  # type: ignore[arg-type]
    jorg = await storage.member_by_user(round_.db, 101)
    assert jorg is not None
    answers = {key: Answer(a.value, a.text) for key, a in report.answers.items()}
    text = "\n".join(digests.texts(report, jorg, answers, NOW + timedelta(hours=2), None, (1, 2)))
    assert shown in text and hidden not in text
    assert "1 von 2 Einrichtungen haben abgesendet" in text


@pytest.mark.parametrize(("authors", "last_active"), [("names", True), ("none", False)])
async def test_members_list_shows_last_activity_only_with_names(
    tmp_path: Path, fake_bot_api: FakeBotApi, authors: str, last_active: bool
) -> None:
    """/mitglieder keeps number and first name; "zuletzt aktiv" only under "names"."""
    extra = f'coordinators = [{COORDINATOR}]\n[privacy]\nauthors = "{authors}"'
    config = make_config(tmp_path, fake_bot_api, extra)
    await set_up_institution(config)
    await prefill(config)
    async with running_bot(config, fake_bot_api):
        coordinator = fake_bot_api.user(COORDINATOR, "Kora")
        await coordinator.send_and_wait("/mitglieder ABH")
        reply = coordinator.last_message().visible_text or ""
    assert "#1 Anna" in reply
    assert ("zuletzt aktiv" in reply) is last_active
