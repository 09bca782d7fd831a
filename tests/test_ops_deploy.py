"""The example systemd units in deploy/ are valid and fit the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parent.parent / "deploy"
INSTALLED = "/opt/chancencheck/bin/chancencheck"


def settings(unit: Path) -> dict[str, str]:
    lines = unit.read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_service_runs_the_bot_and_stops_it_as_the_bot_expects() -> None:
    unit = settings(DEPLOY / "chancencheck.service")
    assert unit["ExecStart"] == f"{INSTALLED} run"
    assert unit["KillSignal"] == "SIGTERM" and int(unit["TimeoutStopSec"]) >= 10
    assert unit["RestartPreventExitStatus"] == "2"  # the CLI's exit code for a bad config
    assert unit["Environment"] == "CHANCENCHECK_CONFIG=/etc/chancencheck/config.toml"
    backup = settings(DEPLOY / "chancencheck-backup.service")
    assert f"{INSTALLED} backup /var/backups/chancencheck/" in backup["ExecStart"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("chancencheck")
    for name in (
        "chancencheck.service",
        "chancencheck-backup.service",
        "chancencheck-backup.timer",
    ):
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(INSTALLED, str(script))
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [
        line for line in (result.stdout + result.stderr).splitlines() if "chancencheck" in line
    ]
    assert problems == [], problems
