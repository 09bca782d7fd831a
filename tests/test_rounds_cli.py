"""The command line across rounds (issue 15): list, close with confirmation, read old rounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import cli, future, query, write_config

COORDINATION_CHAT = -100555


@pytest.fixture
def config(tmp_path: Path) -> str:
    extra = (
        f'[telegram]\nbot_username = "cc_test_bot"\ncoordination_chat_id = {COORDINATION_CHAT}\n'
    )
    return str(write_config(tmp_path, extra))


def opened(config: str, name: str) -> None:
    assert cli("--config", config, "cycle", "open", name, "--deadline", future(30).isoformat()) == 0


def test_cycle_close_names_who_has_not_submitted_and_queues_one_summary(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Protects closing from scripts: without --yes and without a terminal nothing closes;
    with --yes the round closes, the group's summary is queued once, and closing twice is
    refused with a clear message."""
    assert cli("--config", config, "institution", "add", "ABH", "Ausländerbehörde") == 0
    opened(config, "2026")
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli("--config", config, "cycle", "close", "2026") == 1
    out = capsys.readouterr()
    assert "1 institution have not submitted in round 2026: ABH" in out.out
    assert "--yes" in out.err
    assert query(tmp_path / "cli.sqlite3", "SELECT closed_at FROM cycles") == [(None,)]

    assert cli("--config", config, "cycle", "close", "2026", "--yes") == 0
    outbox = query(tmp_path / "cli.sqlite3", "SELECT key, chat_id, kind, payload FROM outbox")
    assert [(k, c, kind) for k, c, kind, _ in outbox] == [
        ("round:1:summary", COORDINATION_CHAT, "message"),
        ("round:1:round_heatmap", COORDINATION_CHAT, "round_heatmap"),
        ("round:1:round_export", COORDINATION_CHAT, "round_export"),
    ]
    summary = json.loads(outbox[0][3])["text"]
    assert "0 von 1 Einrichtungen" in summary and "ABH" in summary
    capsys.readouterr()
    assert cli("--config", config, "cycle", "close", "2026", "--yes") == 2
    assert "closed already" in capsys.readouterr().err
    assert len(query(tmp_path / "cli.sqlite3", "SELECT key FROM outbox")) == 3


def test_cycle_list_report_and_export_read_every_round(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Protects "every round stays readable": cycle list shows dates, state and submissions;
    export and report default to the open round, take --round for a closed one, and an unknown
    round lists the rounds there are."""
    assert cli("--config", config, "institution", "add", "ABH", "Ausländerbehörde") == 0
    opened(config, "2026")
    assert cli("--config", config, "cycle", "close", "2026", "--yes") == 0
    csv = tmp_path / "old.csv"
    assert cli("--config", config, "export", "--out", str(csv)) == 0  # latest closed
    assert "round 2026" in capsys.readouterr().out
    opened(config, "2027")
    assert cli("--config", config, "cycle", "list") == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("20")]
    assert len(lines) == 3 - 1 and "closed" in lines[0] and "submitted 0/1" in lines[0]
    assert "open" in lines[1]
    out = tmp_path / "abh-2026.html"
    args = ("report", "ABH", "--round", "2026", "--format", "html", "--out", str(out))
    assert cli("--config", config, *args) == 0
    html = out.read_text(encoding="utf-8")
    assert "nicht abgesendet" in html and "noch nicht abgesendet" not in html
    assert cli("--config", config, "export", "--round", "1999", "--out", str(csv), "--force") == 2
    assert "rounds: 2026, 2027" in capsys.readouterr().err
