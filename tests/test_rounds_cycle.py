"""Rounds over years (issue 15) end to end: close a round, open the next, confirm last year's
answers in one tap each, and read the closed round as before — real Application, fake Bot API,
real SQLite file, real templates.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from botharness import make_config, query, running_bot, set_up_institution
from fakebot import FakeBotApi, FakeUser
from test_digest import COORDINATOR, GROUP, digest_delivered, group_messages, prefill, submit

import storage
from bot.catalogue import load_catalogue
from bot.cli.entry import main as cli
from bot.config import Config
from bot.core import admin
from bot.telegram.courier import COURIER

CATALOGUE = load_catalogue()
CHANGED = (CATALOGUE.requirements[1].id, CATALOGUE.requirements[4].id)
pytestmark = pytest.mark.slow


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    fake_bot_api.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f"coordination_chat_id = {GROUP}\ncoordinators = [{COORDINATOR}]"
    return make_config(tmp_path, fake_bot_api, extra)


async def open_2026(config: Config) -> None:
    """ABH and VHS in round "2026"; ABH has answered all but the last question."""
    await set_up_institution(config, "ABH", "Ausländerbehörde", open_round=False)
    await set_up_institution(config, "VHS", "Volkshochschule", open_round=False)
    async with await storage.open_database(config.storage.path) as db:
        today = date.today()
        await admin.open_round(db, CATALOGUE, "2026", today + timedelta(days=30), today)
    await prefill(config)


async def read_round_2026(tmp_path: Path, tag: str) -> tuple[bytes, str]:
    """Run `export --round 2026` and `report ABH --round 2026`; return what they wrote."""
    csv, html = tmp_path / f"export-{tag}.csv", tmp_path / f"report-{tag}.html"
    path = str(tmp_path / "config.toml")
    # In a thread, as from a shell beside the running bot (the CLI runs its own event loop).
    export = ["--config", path, "export", "--round", "2026", "--out", str(csv)]
    assert await asyncio.to_thread(cli, export) == 0
    args = ["report", "ABH", "--round", "2026", "--format", "html", "--out", str(html)]
    assert await asyncio.to_thread(cli, ["--config", path, *args]) == 0
    # The report names the moment it was made; everything else must stay as it was.
    return csv.read_bytes(), re.sub(r"<dt>Erstellt</dt><dd>[^<]*</dd>", "", html.read_text())


def texts(user: FakeUser) -> list[str]:
    return [m.visible_text or "" for m in user.messages()]


async def walk_2027(anna: FakeUser) -> int:
    """Confirm every requirement with one tap, but change the rating of the two in CHANGED."""
    taps = 0
    await anna.send_and_wait("/weiter")
    while "Stimmt noch so" in " ".join(anna.last_message().button_labels):
        shown = anna.last_message().visible_text or ""
        if any(f"· {rid} " in shown for rid in CHANGED):
            await anna.press_button_and_wait("✏️ Ändern")
            assert "Antwort der letzten Runde: 🟠 teilweise erfüllt" in (
                anna.last_message().visible_text or ""
            )
            await anna.press_button_and_wait("🟢 vollständig erfüllt")
            await anna.press_button_and_wait("👍 Antwort beibehalten")  # potential as last year
            await anna.press_button_and_wait("👍 Antwort beibehalten")  # measures as last year
            taps += 4
        else:
            await anna.press_button_and_wait("✅ Stimmt noch so")
            taps += 1
    return taps


async def test_a_round_is_closed_the_next_starts_from_it_and_the_old_stays_readable(
    config: Config, fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    """Protects the cycle across years (issue 15's proof): the round summary reaches the group
    exactly once, the next round proposes last year's answers (13 confirmed in one tap each,
    2 changed), the digest names exactly the 2 changes, and the closed round's export and
    report read the same before and after the close."""
    await open_2026(config)
    chief = fake_bot_api.user(COORDINATOR, "Chefin")
    async with running_bot(config, fake_bot_api) as app:
        anna = fake_bot_api.user(1001, "Anna")
        await submit(anna)
        await digest_delivered(fake_bot_api)
        before = await read_round_2026(tmp_path, "before")

        await chief.send_and_wait("/runde_schliessen 2026")
        assert "Noch nicht abgesendet haben: VHS" in texts(chief)[-1]
        confirm = chief.last_message()
        await chief.press_button_and_wait("✅ Ja, Runde schließen")
        assert "ist abgeschlossen" in texts(chief)[-1]
        await digest_delivered(fake_bot_api, count=2)  # the summary's export comes last
        # A second tap on the (now removed) button, as a slow client may send it:
        stale = chief.press(
            confirm.message_id, f"round_close:{_cycle_id(config, '2026')}", check=False
        )
        await chief.wait_answered(stale)
        await app.bot_data[COURIER].flush(app.bot)  # nothing is due twice
        assert "schon abgeschlossen" in texts(chief)[-1]

        deadline = (date.today() + timedelta(days=60)).strftime("%d.%m.%Y")
        await chief.send_and_wait(f"/runde_oeffnen 2027 {deadline}")
        assert "Runde „2027“ ist geöffnet" in texts(chief)[-1]
        assert "Antworten aus „2026“" in texts(chief)[-1]

        taps = await walk_2027(anna)
        assert taps == 13 + 2 * 4
        await anna.press_button_and_wait("✅ Absenden")
        await anna.press_button_and_wait("✅ Ja, absenden")
        await digest_delivered(fake_bot_api, count=3)

    group = [m.visible_text or "" for m in group_messages(fake_bot_api) if m.kind == "text"]
    summaries = [t for t in group if "Runde „2026“ abgeschlossen" in t]
    assert len(summaries) == 1 and "1 von 2 Einrichtungen" in summaries[0]
    assert "VHS Volkshochschule – nicht abgesendet" in summaries[0]
    digest = next(t for t in group if "Veränderung zur Vorrunde „2026“" in t)
    section = digest.split("Veränderung zur Vorrunde „2026“")[1].split("\n\n")[0]
    arrows = [line for line in section.splitlines() if line.startswith(("▲", "▼", "•", "✖"))]
    assert [line.split()[1] for line in arrows] == list(CHANGED)
    assert all("teilweise erfüllt → 🟢 vollständig erfüllt" in line for line in arrows)

    # Issue 21: the digest's profile chart and the summary's heat map carry their words.
    photos = [m.visible_text or "" for m in group_messages(fake_bot_api) if m.kind == "photo"]
    assert sum("Grafik in Worten: Ausländerbehörde" in p for p in photos) == 2, photos
    [heatmap] = [p for p in photos if "Übersicht in Worten" in p]
    assert "Runde 2026" in heatmap and "ABH: " in heatmap and "VHS: " in heatmap, heatmap

    carried = query(
        config,
        "SELECT count(*), count(carried_from) FROM answers a JOIN checks c ON c.id = a.check_id "
        "JOIN cycles y ON y.id = c.cycle_id WHERE y.name = '2027' AND a.carried = 1",
    )
    assert carried == [(13 * 3 + 2 * 2, 13 * 3 + 2 * 2)]
    assert await read_round_2026(tmp_path, "after") == before


def _cycle_id(config: Config, name: str) -> int:
    return int(query(config, "SELECT id FROM cycles WHERE name = ?", (name,))[0][0])


async def test_bad_round_input_gets_a_clear_answer_and_changes_nothing(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects coordinators from dead ends: unknown round names list the rounds there are,
    a second open round, a past or impossible date and closing twice are refused with what to
    do instead; members cannot open or close rounds; the comparison heat map works or says
    why it cannot."""
    await open_2026(config)
    chief = fake_bot_api.user(COORDINATOR, "Chefin")
    member = fake_bot_api.user(1001, "Anna")
    later = (date.today() + timedelta(days=60)).strftime("%d.%m.%Y")
    async with running_bot(config, fake_bot_api):
        for command in ("/export 1999", "/bericht ABH 1999", "/status 1999", "/uebersicht 1999"):
            await chief.send_and_wait(command)
            assert "Eine Runde „1999“ gibt es nicht. Es gibt: 2026." in texts(chief)[-1], command
        await chief.send_and_wait(f"/runde_oeffnen 2027 {later}")
        assert "„2026“ ist noch offen" in texts(chief)[-1]
        assert "/runde_schliessen 2026" in texts(chief)[-1]
        await chief.send_and_wait("/runde_oeffnen 2027 31.02.2027")
        assert "Den Tag 31.02.2027 gibt es nicht" in texts(chief)[-1]
        await chief.send_and_wait("/runde_oeffnen 2027")
        assert "/runde_oeffnen 2027 31.03.2027" in texts(chief)[-1]
        await chief.send_and_wait("/runde_schliessen Quatsch")
        assert "Eine Runde „Quatsch“ gibt es nicht" in texts(chief)[-1]
        await member.send_and_wait("/runde_schliessen 2026")
        assert "Ja, Runde schließen" not in " ".join(member.last_message().button_labels)
        await chief.send_and_wait("/uebersicht 2026 vergleich")
        assert "keine Vorrunde" in texts(chief)[-1]

        await chief.send_and_wait("/runde_schliessen 2026")
        await chief.press_button_and_wait("✅ Ja, Runde schließen")
        await chief.send_and_wait("/runde_schliessen 2026")
        assert "schon abgeschlossen" in texts(chief)[-1]
        await chief.send_and_wait(f"/runde_oeffnen Runde 2027 {later}")
        assert "Runde „Runde 2027“ ist geöffnet" in texts(chief)[-1]
        await chief.send_and_wait("/uebersicht Runde 2027 vergleich")
        assert chief.last_message().kind == "document"
        assert "Vergleich in Worten" in (chief.last_message().visible_text or "")
        await chief.send_and_wait("/uebersicht Runde 2027")
        assert chief.last_message().kind == "photo"
        since = len(fake_bot_api.requests)
        await chief.press_button_and_wait("🔁 Vergleich mit der Vorrunde")  # answered at once
        await fake_bot_api.wait_for(lambda r: r.method == "sendDocument", timeout=30, start=since)
        compared = chief.last_message()
        assert compared.kind == "document" and compared.file is not None
        assert compared.file[0] == "ChancenCheck_Runde_2027_Vergleich.png"
        # The change in words for a screen reader (issue 21): the caption says it per institution.
        words = compared.visible_text or ""
        assert "Vergleich in Worten" in words and "gegenüber 2026" in words, words
        assert "ABH: ▲ besser: keine; ▼ schlechter: keine" in words, words
        await chief.send_and_wait("/status 2026")
        assert "abgeschlossen am" in texts(chief)[-1] and "nicht abgesendet" in texts(chief)[-1]
    names = query(config, "SELECT name, closed_at IS NOT NULL FROM cycles ORDER BY id")
    assert names == [("2026", 1), ("Runde 2027", 0)]
