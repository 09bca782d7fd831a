"""Handover links are as strong as invite links (issue 19): 128 random bits, only a hash in the
database, valid 14 days, under the same guessing limit, revoked when the delegator leaves or the
institution's invite is rotated, and ended when taken back. Real SQLite file, real use cases.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import storage
from bot.catalogue import load_catalogue
from bot.core import admin, handovers, institutions, invites
from bot.render.presenter import Context, Presenter
from bot.render.templates import Templates
from dialogues import events as ev
from dialogues.engine import Dialogue

NOW = datetime(2027, 3, 12, 9, 0, tzinfo=UTC)
STRANGER = 7777


@dataclass
class World:
    db: storage.Database
    path: Path
    anna: storage.Member
    check: storage.Check


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    path = tmp_path / "bot.sqlite3"
    async with await storage.open_database(path) as db:
        invitation = await admin.add_institution(db, "ABH", "Ausländerbehörde")
        await admin.open_round(db, load_catalogue(), "Runde 2027", date(2027, 6, 30), NOW.date())
        async with db.transaction():
            anna = await storage.join_institution(
                db, 1001, invitation.institution.id, "Anna", "de", NOW
            )
            cycle = await storage.current_cycle(db)
            assert cycle is not None
            check = await storage.check_for(db, anna.institution_id, cycle.id)
        yield World(db, path, anna, check)


async def hand_over(world: World, requirement_id: str = "K2", now: datetime = NOW) -> str:
    async with world.db.transaction():
        return await handovers.hand_over(world.db, world.check, requirement_id, world.anna, now)


async def test_a_link_has_128_random_bits_and_only_its_hash_is_stored(world: World) -> None:
    """Protects against a copy of the database letting anyone in: the code is not stored."""
    code = await hand_over(world)
    assert len(base64.urlsafe_b64decode(code + "==")) == 16
    stored = [
        row[0] for row in await world.db.conn.execute_fetchall("SELECT code_hash FROM handovers")
    ]
    assert stored == [hashlib.sha256(code.encode()).hexdigest()]
    await storage.checkpoint(world.db)
    files = [world.path, *world.path.parent.glob("bot.sqlite3-*")]
    assert all(code.encode() not in f.read_bytes() for f in files if f.exists())


async def test_a_link_works_for_14_days_and_then_counts_as_a_wrong_code(world: World) -> None:
    """Protects the 14 days of validity: the day before they end the link opens K2; after
    them it is refused like a wrong invite code, and counted as one."""
    code = await hand_over(world)
    opened = await invites.redeem(world.db, STRANGER, code, NOW + timedelta(days=13, hours=23))
    assert isinstance(opened, storage.Handover) and opened.requirement_id == "K2"
    late = await invites.redeem(world.db, STRANGER, code, NOW + timedelta(days=14, seconds=1))
    assert isinstance(late, invites.Refused) and late.template == "invite_invalid"
    since = NOW + timedelta(days=13)
    assert len(await storage.invite_failures_since(world.db, STRANGER, since)) == 1


async def test_wrong_codes_lock_out_even_a_right_handover_link(world: World) -> None:
    """Protects against guessing links: the invite's limit counts wrong codes, and once it
    is reached even a valid handover code is refused for the hour."""
    code = await hand_over(world)
    for n in range(invites.GUESSES):
        refused = await invites.redeem(world.db, STRANGER, f"guess{n}", NOW)
        assert isinstance(refused, invites.Refused) and refused.template == "invite_invalid"
    locked = await invites.redeem(world.db, STRANGER, code, NOW + timedelta(minutes=1))
    assert isinstance(locked, invites.Refused) and locked.template == "invite_locked"
    later = await invites.redeem(world.db, STRANGER, code, NOW + timedelta(hours=2))
    assert isinstance(later, storage.Handover)


async def test_leaving_rotating_and_taking_back_end_a_link(world: World) -> None:
    """Protects the revocation rules: the delegator's links die when they leave; every link of
    the institution dies when a coordinator rotates the invite; a taken-back one ends too."""
    taken = await hand_over(world, "K1")
    async with world.db.transaction():
        await handovers.take_back(world.db, world.check, "K1", world.anna, NOW)
    assert isinstance(await invites.redeem(world.db, STRANGER, taken, NOW), invites.Refused)

    rotated = await hand_over(world, "K2")
    await institutions.replace_invite(world.db, "ABH", storage.CLI)
    assert isinstance(await invites.redeem(world.db, STRANGER + 1, rotated, NOW), invites.Refused)

    left = await hand_over(world, "K3")
    async with world.db.transaction():
        await storage.end_membership(world.db, world.anna)
    assert isinstance(await invites.redeem(world.db, STRANGER + 2, left, NOW), invites.Refused)
    reasons = await world.db.conn.execute_fetchall(
        "SELECT requirement_id, end_reason FROM handovers ORDER BY id"
    )
    assert [tuple(r) for r in reasons] == [
        ("K1", "taken_back"),
        ("K2", "revoked"),
        ("K3", "revoked"),
    ]


async def test_a_new_link_for_the_same_requirement_replaces_the_old_one(world: World) -> None:
    """Protects against old links piling up: handing K2 over again ends the earlier link."""
    first = await hand_over(world)
    second = await hand_over(world)
    assert isinstance(await invites.redeem(world.db, STRANGER, first, NOW), invites.Refused)
    assert isinstance(await invites.redeem(world.db, STRANGER, second, NOW), storage.Handover)


async def test_my_data_lists_the_handovers_a_member_made(world: World) -> None:
    """Protects the right of access (/meinedaten): handovers are part of a member's data."""
    await hand_over(world, "K2")
    exported = await storage.export_person(world.db, 1001)
    assert [(h["requirement_id"], h["role"]) for h in exported["handovers"]] == [
        ("K2", "handed_over")
    ]
    assert "code" not in str(exported["handovers"])


async def test_the_overview_says_to_whom_and_since_when(world: World) -> None:
    """Protects the overview's "an Ben übergeben (seit 3 Tagen)" for the delegator only."""
    await hand_over(world, "K2")
    async with world.db.transaction():
        ben = await storage.join_institution(
            world.db, 1002, world.anna.institution_id, "Ben", "de", NOW
        )
        (handover,) = await storage.open_handovers(world.db, world.check.id, NOW)
        await storage.accept_handover(world.db, handover.id, ben.id)
    later = NOW + timedelta(days=3, hours=1)
    found = await storage.open_handovers(world.db, world.check.id, later)
    dialogue = Dialogue(load_catalogue())
    presenter = Presenter(dialogue, Templates(ZoneInfo("Europe/Berlin")))
    for member, expected in ((world.anna, True), (ben, False)):
        state = dialogue.initial()
        state = dialogue.restore(
            state.position, state.phase, {}, False, passed=handovers.passed(found, member.id)
        )
        step = dialogue.advance(state, ev.Overview())
        ctx = Context("de", {}, handovers.notes(found, member.id, later))
        text = presenter.present(step, ctx)[0].text
        assert ("K2" in text and "an Ben übergeben (seit 3 Tagen)" in text) is expected


async def test_only_answers_to_the_requirement_end_its_handover(world: World) -> None:
    """Protects "told once when answered": an answer elsewhere in the check neither ends a
    handover nor tells the delegator; the colleague's answers completing K2 do, once."""
    from bot.core.checks import Checks  # the core use case, without Telegram

    dialogue = Dialogue(load_catalogue())
    settlement = handovers.Settlement(dialogue, Templates(ZoneInfo("Europe/Berlin")))
    checks = Checks(world.db, dialogue, lambda: NOW, on_answered=settlement.settle)
    async with world.db.transaction():
        ben = await storage.join_institution(
            world.db, 1002, world.anna.institution_id, "Ben", "de", NOW
        )
    await checks.handle(ben, ev.Jump("K2"))
    for value in ("full", "no", "none"):  # K2 is complete before Anna hands it over
        await checks.handle(ben, ev.Choose(value))
    turn = await checks.handle(world.anna, ev.HandOver("K2"))
    assert turn.handover_code is not None and "K2" in turn.step.state.passed
    await checks.handle(ben, ev.Jump("K1"))
    assert not (await checks.handle(ben, ev.Choose("full"))).queued  # elsewhere: still open
    assert len(await storage.open_handovers(world.db, world.check.id, NOW)) == 1
    await checks.handle(ben, ev.Jump("K2"))
    assert (await checks.handle(ben, ev.Choose("partly"))).queued  # Ben's view of K2
    await checks.handle(ben, ev.Jump("K2"))
    assert not (await checks.handle(ben, ev.Choose("mostly"))).queued  # told once only
    rows = await world.db.conn.execute_fetchall("SELECT key FROM outbox")
    assert [row[0] for row in rows] == ["handover-answered:1"]
    assert await storage.open_handovers(world.db, world.check.id, NOW) == []
