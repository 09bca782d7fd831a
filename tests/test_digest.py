"""The digest in the coordination chat: exactly once, with chart, report and spreadsheet."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from botharness import Clock, make_config, query, running_bot, set_up_institution
from fakebot import FakeBotApi, FakeUser
from pypdf import PdfReader

import storage
from bot.catalogue import load_catalogue
from bot.config import Config
from bot.services import open_services
from bot.telegram.courier import COURIER
from dialogues import events as ev

CATALOGUE = load_catalogue()
GROUP = -1001234567890
COORDINATOR = 9001
LAST = (CATALOGUE.requirements[-1].id, "measures")
SPECIAL = 'Formulare <b>nicht</b> verständlich & "Amtsdeutsch" 📄 ' + "sehr lang " * 60


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    fake_bot_api.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f"coordination_chat_id = {GROUP}\ncoordinators = [{COORDINATOR}]"
    return make_config(tmp_path, fake_bot_api, extra)


async def prefill(config: Config, user_id: int = 1001, name: str = "Anna") -> None:
    """Answer every question but the last one, as a member would have."""
    async with await storage.open_database(config.storage.path) as db:
        institution = await storage.institution_by_short(db, "ABH")
        cycle = await storage.current_cycle(db)
        assert institution and cycle
        async with db.transaction():
            member = await storage.join_institution(db, user_id, institution.id, name, "de")
            check = await storage.check_for(db, institution.id, cycle.id)
            for requirement in CATALOGUE.requirements:
                for question in CATALOGUE.questions:
                    if (requirement.id, question.key) == LAST:
                        continue
                    value, text = {
                        "fulfilment": ("partly", None),
                        "potential": ("yes", SPECIAL),
                        "measures": ("planned", SPECIAL),
                    }[question.key]
                    await storage.record_answer(
                        db,
                        check.id,
                        storage.NewAnswer(
                            requirement.id,
                            question.key,
                            value,
                            text,
                            member.id,
                            CATALOGUE.id,
                            CATALOGUE.version,
                        ),
                    )


async def submit(user: FakeUser) -> None:
    await user.send_and_wait("/weiter")
    await user.press_button_and_wait("Keine Maßnahmen geplant")
    await user.press_button_and_wait("✅ Absenden")
    await user.press_button_and_wait("✅ Ja, absenden")


async def digest_delivered(server: FakeBotApi, count: int = 1) -> None:
    """Wait until `count` digests have reached the group (the spreadsheet comes last)."""

    def spreadsheets() -> int:
        return sum(
            1
            for r in server.calls("sendDocument")
            if r.params.get("chat_id") == GROUP and _xlsx(r) and r.status == 200
        )

    # Generous: the first chart loads matplotlib, which takes seconds on a busy machine.
    await server.wait_for(lambda r: spreadsheets() >= count, timeout=60)


def _xlsx(request) -> bool:
    return any(name.endswith(".xlsx") for name, _ in request.files.values())


def group_messages(server: FakeBotApi):
    return server.sent_to(GROUP)


async def test_a_submission_sends_one_digest_with_chart_report_and_spreadsheet(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    await prefill(config)
    async with running_bot(config, fake_bot_api) as app:
        anna = fake_bot_api.user(1001, "Anna")
        await submit(anna)
        await digest_delivered(fake_bot_api)
        await app.bot_data[COURIER].flush(app.bot)  # a second sweep must send nothing again

    sent = group_messages(fake_bot_api)
    kinds = [m.kind for m in sent]
    assert kinds.count("photo") == 1 and kinds.count("document") == 2
    texts = [m.visible_text or "" for m in sent if m.kind == "text"]
    assert "Ausländerbehörde (ABH)" in texts[0] and "Runde 2027" in texts[0]
    assert "1 von 1 Einrichtung hat abgesendet" in texts[0] and "Runde Runde" not in texts[0]
    assert "⚪ = nicht beurteilbar" in texts[0]
    assert "Verbesserungspotenzial bei 15 von 15" in texts[0]
    assert all(len(t) <= 4096 for t in texts)
    assert "Formulare <b>nicht</b> verständlich" in "\n".join(texts), "answer text shown as typed"
    files = {m.file[0]: m.file[1] for m in sent if m.file}
    assert any(
        name.endswith(".png") and data.startswith(b"\x89PNG") for name, data in files.items()
    )
    report = next(data for name, data in files.items() if name.endswith(".pdf"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report)).pages)
    assert "Formulare <b>nicht</b> verständlich" in text, "the PDF shows the text as typed"
    book = openpyxl.load_workbook(
        io.BytesIO(next(data for name, data in files.items() if name.endswith(".xlsx")))
    )
    assert book.worksheets[0].max_row == 1 + 45
    # [privacy] authors is "none" by default: no output for coordinators names the member.
    assert not any("Anna" in t for t in texts)
    assert "Anna" not in text
    assert not any("Anna" in str(c.value) for row in book.worksheets[0].iter_rows() for c in row)
    undelivered = query(config, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
    assert undelivered == [(0,)]


@pytest.mark.slow  # ~10 s
async def test_a_crash_after_submission_delivers_the_digest_once_after_restart(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    await prefill(config)
    # The bot's own code commits the submission, and the process dies before any delivery.
    services = await open_services(config)
    member = await storage.member_by_user(services.db, 1001)
    assert member is not None
    for event in (ev.Resume(), ev.Choose("none"), ev.Submit(), ev.Confirm()):
        assert (await services.checks.handle(member, event)).step.rejected is None
    await services.db.close()
    assert query(config, "SELECT status FROM checks") == [("submitted",)]
    assert fake_bot_api.sent_to(GROUP) == []

    async with running_bot(config, fake_bot_api):
        await digest_delivered(fake_bot_api)
    async with running_bot(config, fake_bot_api):  # and another restart sends nothing again
        pass
    heads = [
        m for m in group_messages(fake_bot_api) if "hat den ChancenCheck" in (m.visible_text or "")
    ]
    assert len(heads) == 1
    assert [m.kind for m in group_messages(fake_bot_api)].count("document") == 2


@pytest.mark.slow  # waits out real back-offs: ~30 s
async def test_server_errors_and_rate_limits_are_retried_and_deliver_once(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    await prefill(config)
    clock = Clock()
    fake_bot_api.fail_next("sendMessage", 500, count=2, chat_id=GROUP)
    fake_bot_api.fail_next("sendPhoto", 429, retry_after=30, chat_id=GROUP)
    async with running_bot(config, fake_bot_api, clock) as app:
        anna = fake_bot_api.user(1001, "Anna")
        await submit(anna)
        courier = app.bot_data[COURIER]
        for _ in range(10):  # time passes: each sweep finds the retries due
            clock.advance(60)
            await courier.flush(app.bot)
        await digest_delivered(fake_bot_api)

    sent = group_messages(fake_bot_api)
    heads = [m for m in sent if "hat den ChancenCheck" in (m.visible_text or "")]
    assert len(heads) == 1
    assert [m.kind for m in sent].count("photo") == 1
    errors = query(config, "SELECT sum(attempts) FROM outbox")
    assert errors[0][0] > len(sent), "the failed attempts were counted"


async def test_reopen_and_resubmit_sends_an_update_saying_what_changed(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    await prefill(config)
    async with running_bot(config, fake_bot_api):
        anna = fake_bot_api.user(1001, "Anna")
        coordinator = fake_bot_api.user(COORDINATOR, "Kora")
        await submit(anna)
        await digest_delivered(fake_bot_api)
        await coordinator.send_and_wait("/wiedereroeffnen ABH")
        assert "wieder geöffnet" in (coordinator.last_message().visible_text or "")
        await fake_bot_api.wait_for(
            lambda r: (
                r.method == "sendMessage"
                and r.params.get("chat_id") == 1001
                and "wieder geöffnet" in r.params.get("text", "")
            )
        )
        await anna.send_and_wait("/uebersicht")
        await anna.press_button_and_wait("✅ Z1")
        await anna.press_button_and_wait("🟢 vollständig erfüllt")
        await anna.send_and_wait("/absenden")
        await anna.press_button_and_wait("✅ Ja, absenden")
        await digest_delivered(fake_bot_api, count=2)

    heads = [
        m.visible_text or ""
        for m in group_messages(fake_bot_api)
        if "den ChancenCheck" in (m.visible_text or "")
    ]
    assert len(heads) == 2
    assert heads[1].startswith("🔄 Aktualisiert")
    update = "\n".join(m.visible_text or "" for m in group_messages(fake_bot_api))
    assert "Z1 Frage 1: 🟠 teilweise erfüllt → 🟢 vollständig erfüllt" in update
    assert "Geändert seit der letzten Abgabe (1)" in update


async def test_a_migrated_group_gets_the_digest_under_its_new_id(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    new_id = -1009999999999
    fake_bot_api.add_chat({"id": new_id, "type": "supergroup", "title": "Koordinierungsgruppe"})
    await set_up_institution(config)
    await prefill(config)
    fake_bot_api.fail_next("sendMessage", migrate_to=new_id, chat_id=GROUP)
    async with running_bot(config, fake_bot_api):
        await submit(fake_bot_api.user(1001, "Anna"))
        await fake_bot_api.wait_for(
            lambda r: r.method == "sendDocument" and r.params.get("chat_id") == new_id and _xlsx(r),
            timeout=60,
        )
    assert query(config, "SELECT value FROM settings WHERE key = 'coordination_chat_id'") == [
        (str(new_id),)
    ]
    assert [m.kind for m in fake_bot_api.sent_to(new_id)].count("photo") == 1
