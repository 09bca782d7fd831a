"""Losing the machine: the bot runs under Litestream with a file replica while members answer;
bot and Litestream die together (SIGKILL to both); the database is restored from the replica into
a fresh folder ("the new machine"), where the bot starts again. Every answer the bot acknowledged
more than Litestream's sync interval before the kill is there, nothing is there that nobody sent,
the members finish their checks on the new machine, and `chancencheck doctor` there is green.

Needs the [replication] extra (the litestream binary); skipped with a reason without it.
CHANCENCHECK_RESTORE_SEED sets the random seed of the members and the moment of the kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time as clock
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakebot import assert_requests_valid, parse_html, require_api_spec
from reliability.fakes import OpsBotApi
from reliability.figures import report
from reliability.members import Life, Member, transcript
from reliability.world import CATALOGUE, GROUP, configure, set_up

from bot.cli.doctor import OK, Finding, check_replication
from bot.config import Config, load_config
from bot.replication import find_litestream

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_litestream() is None,
        reason="litestream is not installed: pip install -e '.[test,replication]'",
    ),
]

RUNNER = Path(__file__).parent / "reliability" / "botprocess.py"
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
SEED = int(os.environ.get("CHANCENCHECK_RESTORE_SEED", "2027"))
SYNC_INTERVAL = 1.0  # seconds, as in deploy/litestream.yml
THINK = (0.02, 0.2)


class Replicated:
    """The bot under `litestream replicate -exec`, as deploy/chancencheck.service.d runs it."""

    def __init__(self, server: OpsBotApi, config_path: Path, log: Path) -> None:
        self.server, self.config_path, self.log = server, config_path, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        litestream = find_litestream()
        assert litestream is not None
        polls = len(self.server.calls("getUpdates"))
        run = f"{sys.executable} {RUNNER} {self.config_path}"
        env = {**os.environ, "CHANCENCHECK_TELEGRAM_TOKEN": TOKEN}
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                str(litestream),
                "replicate",
                "-config",
                str(self.config_path.with_name("litestream.yml")),
                "-exec",
                run,
                env=env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        deadline = clock.monotonic() + 30
        while len(self.server.calls("getUpdates")) <= polls:
            assert clock.monotonic() < deadline, "the bot did not start polling"
            assert self.proc.returncode is None, self.log.read_text()[-3000:]
            await asyncio.sleep(0.02)

    async def kill_both(self) -> float:
        """SIGKILL Litestream and the bot in one go; return the moment (monotonic)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)  # the whole session: Litestream and its child
        moment = clock.monotonic()
        await self.proc.wait()
        return moment

    def end(self) -> None:
        """Kill what is left (after a failed test: no Litestream or bot may stay behind)."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM Litestream: it stops the bot, syncs, and exits."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.proc.wait(), timeout=60)


def machine(folder: Path, server: OpsBotApi, replica: Path) -> tuple[Config, Path]:
    """Write a bot config with [replication] and a Litestream config with a file replica."""
    folder.mkdir()
    _, config_path = configure(folder, server, level="WARNING")
    with config_path.open("a", encoding="utf-8") as out:
        out.write('\n[replication]\nlitestream_config = "litestream.yml"\n')
    config = load_config(config_path, env={"CHANCENCHECK_TELEGRAM_TOKEN": TOKEN})
    (folder / "litestream.yml").write_text(
        f"dbs:\n  - path: {config.storage.path}\n    replica:\n      type: file\n"
        f"      path: {replica}\n      sync-interval: {SYNC_INTERVAL:g}s\n",
        encoding="utf-8",
    )
    return config, config_path


@pytest.fixture
async def server() -> AsyncIterator[OpsBotApi]:
    require_api_spec()
    async with OpsBotApi(TOKEN) as fake:
        fake.bot_member[GROUP] = {
            "status": "administrator",
            "user": fake.bot_user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": False,
            "can_restrict_members": False,
            "can_promote_members": False,
            "can_change_info": False,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
        }
        yield fake
    assert not fake.internal_errors, fake.internal_errors
    assert_requests_valid(fake.requests)


@pytest.fixture
def launched() -> Iterator[list[Replicated]]:
    """Collect the test's Litestream processes and kill any that outlive it."""
    processes: list[Replicated] = []
    yield processes
    for process in processes:
        process.end()


async def test_a_lost_machine_is_restored_from_the_replica_with_every_older_answer(
    tmp_path: Path, server: OpsBotApi, launched: list[Replicated]
) -> None:
    """Protects the RPO in RELIABILITY.md: what Litestream had a sync interval to copy survives
    the loss of the machine, and the restored database runs the bot (doctor green)."""
    rng = random.Random(SEED)
    replica = tmp_path / "replica"  # "another mount"
    config, config_path = machine(tmp_path / "old", server, replica)
    staff = {f"I{n}": 6000 + n for n in range(3)}
    now = datetime.now(UTC)
    await set_up(config, staff, now.date() + timedelta(days=30), now)
    old = Replicated(server, config_path, tmp_path / "old.log")
    launched.append(old)
    await old.start()
    life = Life()
    members = [
        Member(
            server,
            server.user(uid, f"P{uid}"),
            CATALOGUE,
            config.storage.path,
            life,
            seed=SEED + uid,
        )
        for uid in staff.values()
    ]
    for member in members:
        member.think = THINK
    answering = [asyncio.create_task(m.answer_everything()) for m in members]
    await asyncio.sleep(rng.uniform(4, 7))
    life.died()
    killed = await old.kill_both()
    for task in answering:
        task.cancel()
    await asyncio.gather(*answering, return_exceptions=True)

    new_config, new_config_path = machine(tmp_path / "new", server, tmp_path / "new-replica")
    started = clock.monotonic()
    await asyncio.to_thread(
        subprocess.run,
        [
            str(find_litestream()),
            "restore",
            "-o",
            str(new_config.storage.path),
            f"file://{replica}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    restore_seconds = clock.monotonic() - started
    before = {m.user.id: m.revisions() for m in _moved(members, new_config.storage.path)}

    acknowledged, old_enough, missing, phantom = 0, 0, [], []
    for member in members:
        stored = before[member.user.id]
        for item in member.inputs:
            if item.key is None or item.value is None:
                continue
            seen = _acknowledged_at(server, member, item.since, item.key, item.value, item.text)
            if seen is None or seen > killed:
                continue
            acknowledged += 1
            if seen < killed - SYNC_INTERVAL:
                old_enough += 1
                if (item.key, item.value, item.text) not in stored:
                    missing.append(
                        f"{member.user.id} {item} acknowledged {killed - seen:.2f} s "
                        "before the kill"
                    )
        sent = {(i.key, i.value, i.text) for i in member.inputs if i.key is not None}
        phantom += [f"{member.user.id} {r}" for r in stored if r not in sent]
    restored = sum(len(r) for r in before.values())

    new = Replicated(server, new_config_path, tmp_path / "new.log")
    launched.append(new)
    started = clock.monotonic()
    await new.start()
    start_seconds = clock.monotonic() - started
    life.started()
    done = await asyncio.wait_for(
        asyncio.gather(*(m.answer_everything() for m in members)), timeout=240
    )
    replication = await _replica_in_step(new_config)
    code = await asyncio.to_thread(_doctor, new_config_path)
    await new.stop()

    report(
        "replication-restore",
        {
            "seed": SEED,
            "sync_interval_s": SYNC_INTERVAL,
            "answers_acknowledged": acknowledged,
            "acknowledged_before_kill_minus_sync": old_enough,
            "revisions_restored": restored,
            "answers_missing": len(missing),
            "answers_phantom": len(phantom),
            "restore_seconds": round(restore_seconds, 2),
            "bot_start_seconds": round(start_seconds, 1),
            "submitted_on_new_machine": sum(done),
        },
    )
    assert old_enough > 10, "the kill came too early to prove anything"
    assert missing == [], "\n".join(missing)
    assert phantom == [], phantom
    assert all(done), "not every member could finish on the new machine"
    assert replication.level == OK, replication
    assert code == 0, "the doctor found problems on the new machine (its report is above)"


def _moved(members: list[Member], db_path: Path) -> list[Member]:
    """Point the members' books at the restored database (the old machine is gone)."""
    for member in members:
        member.db_path = db_path
    return members


def _acknowledged_at(
    server: OpsBotApi,
    member: Member,
    since: int,
    key: tuple[str, str],
    value: str,
    text: str | None,
) -> float | None:
    """Return when the member saw the answer's transcript (monotonic), or None if never."""
    expected = transcript(member.catalogue, key, value, text)
    for request in server.requests[since:]:
        if (
            request.method == "editMessageText"
            and request.status == 200
            and member._in_chat(request)
            and request.finished is not None
            and parse_html(request.params.get("text", "")).text == expected
        ):
            return request.finished
    return None


async def _replica_in_step(config: Config) -> Finding:
    """Wait until the new machine's replica has caught up; return the doctor's finding."""
    deadline = clock.monotonic() + 30
    while True:
        [finding] = await asyncio.to_thread(check_replication, config, datetime.now(UTC))
        if finding.level == OK or clock.monotonic() > deadline:
            return finding
        await asyncio.sleep(0.5)


def _doctor(config_path: Path) -> int:
    """Run `chancencheck doctor` on the new machine as the operator would; print its report."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config_path), "doctor"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CHANCENCHECK_TELEGRAM_TOKEN": TOKEN},
    )
    print(done.stdout, done.stderr)
    return done.returncode
