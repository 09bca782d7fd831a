"""/runde, /frist and /erinnerungen end to end, through the fake Bot API server."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from botharness import make_config, query, running_bot
from fakebot import FakeBotApi
from test_reminders_telegram import Clock, set_up_round, wait_until

import bot.reminders.sweep as reminders
import storage
from bot.config import Config

COORDINATOR = 900
COORDINATION_CHAT = -100777
NOW = datetime(2027, 3, 22, 10, tzinfo=UTC)  # a Monday, 11:00 in Ludwigshafen
OPENED = datetime(2027, 3, 20, 10, tzinfo=UTC)  # after the 14-day reminder: none is due
DEADLINE = date(2027, 3, 30)
STAFF = {"ABH": [101, 102], "VHS": [201], "IFT": [301]}


@pytest.fixture
async def config(tmp_path, fake_bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setattr(reminders, "FIRST_SWEEP", 3600)  # only the sweeps the commands start
    config = make_config(
        tmp_path,
        fake_bot_api,
        f"coordinators = [{COORDINATOR}]\ncoordination_chat_id = {COORDINATION_CHAT}\n",
    )
    checks = await set_up_round(config, STAFF, OPENED, DEADLINE)
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        await storage.submit_check(db, checks["IFT"], None, OPENED)
    return config


def text_of(user) -> str:  # type: ignore[no-untyped-def]
    return user.last_message().visible_text or ""


def deadline_in_db(config: Config) -> str:
    return query(config, "SELECT deadline FROM cycles")[0][0]


async def test_a_coordinator_moves_the_deadline_and_open_institutions_are_told(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    members = {u: fake_bot_api.user(u, f"P{u}") for users in STAFF.values() for u in users}
    chief = fake_bot_api.user(COORDINATOR, "Chefin")
    async with running_bot(config, fake_bot_api, Clock(NOW)):
        await chief.send_and_wait("/frist 2027-04-13")
        assert "13.04.2027" in text_of(chief) and "3 Mitglieder aus 2 Einrichtungen" in text_of(
            chief
        )
        await wait_until(lambda: all(members[u].messages() for u in (101, 102, 201)))
        group = chief.in_group(COORDINATION_CHAT, "Koordinierungsgruppe", "supergroup")
        await group.send_and_wait("/frist@chancencheck_test_bot 20.04.2027")
        assert "20.04.2027" in text_of(group) and "vorher 13.04.2027" in text_of(group)
        await wait_until(lambda: all(len(members[u].messages()) == 2 for u in (101, 102, 201)))
    assert deadline_in_db(config) == "2027-04-20"
    assert members[301].messages() == []  # IFT has submitted
    notice = members[201].messages()[0]
    assert "vom 30.03.2027 auf den 13.04.2027" in (notice.visible_text or "")
    assert notice.callback_data == ["r"]
    changes = query(config, "SELECT old_deadline, new_deadline, changed_by FROM deadline_changes")
    assert changes == [
        ("2027-03-30", "2027-04-13", COORDINATOR),
        ("2027-04-13", "2027-04-20", COORDINATOR),
    ]


async def test_others_cannot_move_the_deadline_and_learn_nothing(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    member = fake_bot_api.user(101, "P101")
    stranger = fake_bot_api.user(555, "Fremd")
    chief = fake_bot_api.user(COORDINATOR, "Chefin")
    async with running_bot(config, fake_bot_api, Clock(NOW)):
        for user in (member, stranger, member.in_group(COORDINATION_CHAT, "Koordinierung")):
            await user.send_and_wait("/frist 2027-04-13")
            refusal = text_of(user)
            assert "nur die Koordinierungsgruppe" in refusal
            assert not any(secret in refusal for secret in ("2027", "30.03", "ABH", "Amt"))
        elsewhere = chief.in_group(-100999, "Kaffeeküche")
        await elsewhere.send_and_wait("/frist 2027-04-13")
        assert "privaten Chat" in text_of(elsewhere)
        await chief.send_and_wait("/frist morgen")
        assert "/frist TT.MM.JJJJ" in text_of(chief) and "30.03.2027" in text_of(chief)
        await chief.send_and_wait("/frist 30.02.2027")
        assert "Den 30.02.2027 gibt es nicht" in text_of(chief)
        await chief.send_and_wait("/frist 2027-03-01")
        assert "schon vorbei" in text_of(chief)
        await chief.send_and_wait("/deadline 2027-03-30")
        assert "bereits" in text_of(chief)
    assert deadline_in_db(config) == "2027-03-30"
    assert query(config, "SELECT count(*) FROM reminders") == [(0,)]


async def test_round_shows_members_their_own_institution_and_coordinators_all(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    member = fake_bot_api.user(201, "P201")
    stranger = fake_bot_api.user(555, "Fremd")
    chief = fake_bot_api.user(COORDINATOR, "Chefin")
    async with running_bot(config, fake_bot_api, Clock(NOW)):
        await member.send_and_wait("/runde")
        own = text_of(member)
        assert "Runde 2027" in own and "30.03.2027" in own and "noch 8 Tage" in own
        assert "Amt VHS" in own and "0 von 45" in own and "Erinnerungen vor der Frist: an" in own
        assert "ABH" not in own and "IFT" not in own
        await stranger.send_and_wait("/runde")
        assert "noch keiner Einrichtung" in text_of(stranger) and "2027" not in text_of(stranger)
        await chief.send_and_wait("/runde")
        overview = text_of(chief)
        assert "Abgesendet: 1 von 3 Einrichtungen" in overview
        assert "Nächste Erinnerung: 23.03.2027, 09:00" in overview
        group = chief.in_group(COORDINATION_CHAT, "Koordinierung")
        await group.send_and_wait("/round")
        assert "Abgesendet: 1 von 3" in text_of(group)


async def test_members_switch_their_reminders_off_and_on(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    anna = fake_bot_api.user(101, "Anna")
    ben = fake_bot_api.user(102, "Ben", language_code="en")
    async with await storage.open_database(config.storage.path) as db, db.transaction():
        member = await storage.member_by_user(db, 102)
        assert member is not None
        await storage.set_language(db, member.id, "en")
    async with running_bot(config, fake_bot_api, Clock(NOW)):
        await anna.send_and_wait("/erinnerungen aus")
        assert "Erinnerungen sind aus" in text_of(anna)
        await ben.send_and_wait("/reminders off")
        assert "Reminders are off" in text_of(ben)
        enabled = query(
            config,
            "SELECT telegram_user_id, reminders_enabled FROM members "
            "WHERE telegram_user_id IN (101, 102) ORDER BY 1",
        )
        assert enabled == [(101, 0), (102, 0)]
        await anna.send_and_wait("/erinnerungen")
        assert "sind aus. Einschalten: /erinnerungen an" in text_of(anna)
        await anna.send_and_wait("/erinnerungen an")
        assert "wieder an" in text_of(anna)
        group = anna.in_group(-100999, "Kaffeeküche")
        await group.send_and_wait("/erinnerungen aus")
        assert "privaten Chat" in text_of(group)
    assert query(config, "SELECT reminders_enabled FROM members WHERE telegram_user_id = 101") == [
        (1,)
    ]
