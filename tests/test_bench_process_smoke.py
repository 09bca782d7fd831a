"""bench.process still runs: the bot as its own process, and the peer, driven over HTTP.

It measures nothing here (no timings): it protects the benchmark's machinery, i.e. that both
bots complete the check for a member through the fake Bot API in another process, and that the
fan-out under Telegram's limits delivers every reminder once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # two bot processes start and stop: ~10 s

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], tmp_path: Path) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "bench.process", *args, "--json", "--dir", str(tmp_path)]
    out = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def test_peer_and_ours_complete_the_check_as_separate_processes(tmp_path: Path) -> None:
    """Both bots answer every action of one member; CPU and RSS come from the bot's process."""
    peer, ours = run(["--members", "1", "--pace", "0", "--bots", "peer,ours"], tmp_path)
    assert (peer["bot"], ours["bot"]) == ("peer", "ours")
    # /start, "Los geht's", 45 questions with their follow-ups, submitting: 57 actions; ours
    # also asks "Bis wann?" after each typed measure (issue 16), which the member skips: 15 more.
    assert peer["actions"] == 57, peer
    assert ours["actions"] == 57 + 15, ours
    for result in (peer, ours):
        assert result["bot_cpu_ms_per_action"] > 0
        assert result["bot_peak_rss_mb"] > 10
        assert result["next_question_ms_p50"] <= result["next_question_ms_p99"]


def test_the_workshop_fanout_delivers_every_reminder_once_under_the_limits(
    tmp_path: Path,
) -> None:
    """Members answer while reminders fan out; none lost, none doubled, no 429 from the fake."""
    (ours,) = run(
        ["--members", "2", "--pace", "0.5-1", "--fanout", "40", "--limits"]
        + ["--duration", "3", "--bots", "ours"],
        tmp_path,
    )
    assert ours["fanout_delivered"] == 40, ours
    assert (ours["fanout_lost"], ours["fanout_doubled"]) == (0, 0), ours
    assert ours["actions"] > 2
