"""Several voices (issue 19), end to end against the fake Bot API: the real Application over
HTTP, the real SQLite file and templates. Member A hands K2 to B by link; B joins with it and
answers; A is told once; links die with a rotated invite; C changes A's rating of K1 with a
reason; the digest lists K1 with both ratings and the reason, and K2 without a disagreement.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from botharness import make_config, query, running_bot, set_up_institution
from fakebot import BotMessage, FakeBotApi, FakeUser

import storage
from bot.config import Config
from bot.core import institutions

GROUP = -1001234567890
FULL, PARTLY = "🟢 vollständig erfüllt", "🟠 teilweise erfüllt"
YES, NO, NONE_PLANNED = "Ja", "Nein", "Keine Maßnahmen geplant"
START = "▶️ Los geht's"
LINK = re.compile(r"https://t\.me/chancencheck_test_bot\?start=([A-Za-z0-9_-]+)")
REASON = "Die Formulare gibt es nur auf Deutsch"


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    fake_bot_api.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    return make_config(tmp_path, fake_bot_api, f"coordination_chat_id = {GROUP}")


def shown(user: FakeUser) -> BotMessage:
    return [m for m in user.messages() if m.buttons][-1]


def texts(user: FakeUser) -> list[str]:
    return [m.visible_text or "" for m in user.messages()]


def link_code(user: FakeUser) -> str:
    """Return the code of the newest handover link the user was given to forward."""
    found = [LINK.search(t) for t in texts(user)]
    codes = [m.group(1) for m in found if m]
    assert codes, "no link to forward"
    return codes[-1]


async def answer_the_rest(user: FakeUser) -> list[str]:
    """Answer what is shown (🟢, Nein, keine Maßnahmen) until no question is left to answer;
    return the requirements whose questions were shown."""
    seen = []
    for _ in range(2 * 45):
        message = shown(user)
        labels = message.button_labels
        heading = (message.visible_text or "").split("\n")[0]  # "<area> · K1 <title>"
        seen.append(heading.split(" · ")[1].split()[0] if " · " in heading else "")
        if FULL in labels:
            await user.press_button_and_wait(FULL)
        elif NO in labels and YES in labels:
            await user.press_button_and_wait(NO)
        elif NONE_PLANNED in labels:
            await user.press_button_and_wait(NONE_PLANNED)
        else:
            return seen
    raise AssertionError("the questions never ended")


async def rotate_invite(config: Config) -> str:
    async with await storage.open_database(config.storage.path) as db:
        invitation = await institutions.replace_invite(db, "ABH", storage.CLI)
    return invitation.code


@pytest.mark.slow
async def test_handover_by_link_and_disagreement_with_reason_reach_the_digest(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects the whole of issue 19: the handover link (join by it, land on K2, the
    delegator passes over K2 and is told once), revocation by rotating the invite, the refusal
    of another institution's member, and a changed rating's reason in the digest."""
    code = await set_up_institution(config)
    vhs_code = await set_up_institution(config, "VHS", "Volkshochschule")
    anna, ben, carl = (
        fake_bot_api.user(i, n) for i, n in ((1001, "Anna"), (1002, "Ben"), (1003, "Carl"))
    )
    eva, stranger = fake_bot_api.user(1005, "Eva"), fake_bot_api.user(1006, "Mallory")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait(START)
        await anna.send_and_wait("/weitergeben K2")
        k2_code = link_code(anna)
        forward = next(t for t in texts(anna) if LINK.search(t))
        assert forward.startswith("Kannst du im ChancenCheck die Anforderung K2 „")
        # Only the hash is stored; the code is nowhere in the database.
        assert query(config, "SELECT code_hash FROM handovers") == [
            (hashlib.sha256(k2_code.encode()).hexdigest(),)
        ]
        assert k2_code.encode() not in Path(config.storage.path).read_bytes()

        seen = await answer_the_rest(anna)
        assert "K2" not in seen and "K1" in seen  # forward moves pass over K2
        end = shown(anna)
        assert "↩️ K2 zurücknehmen" in end.button_labels
        assert "✅ Absenden" not in end.button_labels  # K2 still counts as open
        await anna.press_button_and_wait("📋 Übersicht")
        assert "K2" in (shown(anna).visible_text or "")
        assert "an eine Kolleg*in übergeben (seit heute)" in (shown(anna).visible_text or "")

        await ben.send_and_wait(f"/start {k2_code}")  # not yet a member: joins, lands on K2
        assert any("Anna bittet Sie, die Anforderung K2" in t for t in texts(ben))
        assert "K2" in (shown(ben).visible_text or "").split("\n")[0]
        await anna.send_and_wait("/uebersicht")
        assert "an Ben übergeben (seit heute)" in (shown(anna).visible_text or "")
        await ben.press_button_and_wait(FULL)
        await ben.press_button_and_wait(NO)
        await ben.press_button_and_wait(NONE_PLANNED)
        await fake_bot_api.wait_for(
            lambda r: any("Ben hat die Anforderung K2" in t for t in texts(anna)), timeout=20
        )
        await ben.send_and_wait("/uebersicht")  # more activity: the notice is not repeated
        told = [t for t in texts(anna) if "Ben hat die Anforderung K2" in t]
        assert len(told) == 1

        # A member of another institution is refused and learns nothing of the link.
        await anna.send_and_wait("/weitergeben K3")
        k3_code = link_code(anna)
        await eva.send_and_wait(f"/start {vhs_code}")
        await eva.send_and_wait(f"/start {k3_code}")
        refusal = texts(eva)[-1]
        assert "nicht für Sie gedacht" in refusal
        assert "K3" not in refusal and "Anna" not in refusal and "ABH" not in refusal

    new_code = await rotate_invite(config)  # the coordinator rotates ABH's invite
    async with running_bot(config, fake_bot_api):
        await stranger.send_and_wait(f"/start {k3_code}")
        assert "Einladungslink" in texts(stranger)[-1] or "ungültig" in texts(stranger)[-1]
        assert query(config, "SELECT count(*) FROM members WHERE telegram_user_id = 1006") == [(0,)]

        await carl.send_and_wait(f"/start {new_code}")
        await carl.send_and_wait("/uebersicht")
        await carl.press_button_and_wait("✅ K1")
        await carl.press_button_and_wait(PARTLY)
        prompt = shown(carl)
        assert "Anna hatte bei K1 🟢 vollständig erfüllt gewählt" in (prompt.visible_text or "")
        assert prompt.button_labels == ["Ohne Begründung weiter ▶️"]
        await carl.send_and_wait(REASON)
        assert query(config, "SELECT reason FROM answers WHERE reason IS NOT NULL") == [(REASON,)]

        await anna.send_and_wait("/absenden")
        await anna.press_button_and_wait("✅ Ja, absenden")
        await fake_bot_api.wait_for(
            lambda r: any(
                "Unterschiedliche" in (m.visible_text or "") for m in fake_bot_api.sent_to(GROUP)
            ),
            timeout=60,
        )
    digest = "\n".join(m.visible_text or "" for m in fake_bot_api.sent_to(GROUP))
    assert "Unterschiedliche Einschätzungen" in digest
    assert "K1 🟢 → 🟠" in digest and REASON in digest
    assert "💬 K2" not in digest  # Ben answered K2 alone: no disagreement
    assert "Carl" not in digest and "Anna" not in digest  # [privacy] authors = none


async def test_the_button_hands_over_and_one_tap_skips_the_reason(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    """Protects the question screen's "👥 Kolleg*in fragen" (link, then the next question),
    friendly replies to a wrong /weitergeben, and skipping the reason with one tap (nothing
    stored, the next question shown)."""
    code = await set_up_institution(config)
    anna, ben = fake_bot_api.user(1001, "Anna"), fake_bot_api.user(1002, "Ben")
    async with running_bot(config, fake_bot_api):
        await anna.send_and_wait(f"/start {code}")
        await anna.press_button_and_wait(START)
        assert "👥 Kolleg*in fragen" in shown(anna).button_labels
        await anna.press_button_and_wait("👥 Kolleg*in fragen")  # on Z1
        forward = next(t for t in texts(anna) if LINK.search(t))
        assert forward.startswith("Kannst du im ChancenCheck die Anforderung Z1 „")
        assert "Z2" in (shown(anna).visible_text or "").split("\n")[0]  # passed over Z1
        await anna.send_and_wait("/weitergeben")
        assert "Welche Anforderung" in texts(anna)[-1]
        await anna.send_and_wait("/handover X9")
        assert "„X9“ kenne ich nicht" in texts(anna)[-1]
        assert query(config, "SELECT count(*) FROM handovers") == [(1,)]

        await anna.press_button_and_wait(FULL)  # Z2 🟢 by Anna
        await ben.send_and_wait(f"/start {code}")
        await ben.press_button_and_wait(START)  # Ben's first open question is Z1
        await ben.send_and_wait("/uebersicht")
        await ben.press_button_and_wait("◐ Z2")
        await ben.press_button_and_wait(PARTLY)
        prompt = shown(ben)
        assert "Anna hatte bei Z2 🟢 vollständig erfüllt gewählt" in (prompt.visible_text or "")
        await ben.press_button_and_wait("Ohne Begründung weiter ▶️")
        assert "Z2" in (shown(ben).visible_text or "").split("\n")[0]  # Z2's next question
        assert query(config, "SELECT count(*) FROM answers WHERE reason IS NOT NULL") == [(0,)]
        assert query(config, "SELECT count(*) FROM reason_requests") == [(0,)]
        await ben.press_button_and_wait(YES)  # a text now is the description, not a reason
        await ben.send_and_wait("Mehr Sprachkurse anbieten")
        assert query(config, "SELECT count(*) FROM answers WHERE reason IS NOT NULL") == [(0,)]
