"""The `chancencheck` command line: main(argv) with captured output, and the real console script."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli.entry import main
from dialogues.catalogue import DEFAULT_CATALOGUE

CONSOLE_SCRIPT = Path(sys.executable).with_name("chancencheck")
SUBCOMMANDS = ("run", "demo", "db", "catalogue", "institution", "cycle")
NESTED = (
    ["db", "migrate"],
    ["catalogue", "check"],
    ["institution", "add"],
    ["institution", "list"],
    ["cycle", "open"],
    ["cycle", "list"],
)
URL_SAFE = re.compile(r"[A-Za-z0-9_-]{16,}")


def cli(*argv: str) -> int:
    """Run main() like the console script does: argparse's exits become the exit code too."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def script(
    *argv: str, cwd: Path, stdin: str | None = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script, without any CHANCENCHECK_* variables of the caller.

    stdin=None gives it a closed stdin (/dev/null).
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHANCENCHECK_")}
    feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *argv],
        cwd=cwd,
        env={**clean, **(env or {})},
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        **feed,
    )


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the caller's config and token out, and any default data/ folder in tmp_path."""
    monkeypatch.delenv("CHANCENCHECK_CONFIG", raising=False)
    monkeypatch.delenv("CHANCENCHECK_TELEGRAM_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, extra: str = "", name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'[storage]\npath = "cli.sqlite3"\n{extra}', encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(write_config(tmp_path, '[telegram]\nbot_username = "cc_test_bot"\n'))


def query(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def future(days: int) -> date:
    return date.today() + timedelta(days=days)


# -- help ---------------------------------------------------------------------------------------


def test_top_level_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--help") == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert re.search(rf"^\s+{name}\s", out, re.MULTILINE), name
    assert "--config" in out and "--log-level" in out


@pytest.mark.parametrize("command", [[name] for name in SUBCOMMANDS] + list(NESTED))
def test_every_subcommand_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(*command, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: chancencheck {' '.join(command)}")
    inner = {
        "db": ["migrate"],
        "catalogue": ["check"],
        "institution": ["add", "list"],
        "cycle": ["open", "list"],
    }.get(command[0] if len(command) == 1 else "", [])
    for name in inner:
        assert name in out


def test_help_of_the_console_script(tmp_path: Path) -> None:
    result = script("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert all(name in result.stdout for name in SUBCOMMANDS)
    result = script("cycle", "open", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "--deadline" in result.stdout


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli() == 2
    assert "usage: chancencheck" in capsys.readouterr().err


# -- catalogue check ----------------------------------------------------------------------------


def test_catalogue_check_summarises_the_default_catalogue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("catalogue", "check", str(DEFAULT_CATALOGUE)) == 0
    out = capsys.readouterr().out
    assert "5 areas, 15 requirements, 45 questions" in out
    assert "valid" in out and "K1" in out


def test_catalogue_check_names_the_place_of_an_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = tmp_path / "broken.toml"
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    broken.write_text(text.replace('colour = "yellow"', 'colour = "purple"', 1), encoding="utf-8")
    assert cli("catalogue", "check", str(broken)) == 2
    captured = capsys.readouterr()
    assert str(broken) in captured.err
    assert "scale[mostly].colour" in captured.err  # by key, not by list index
    assert "Traceback" not in captured.err and captured.out == ""


def test_catalogue_check_of_bad_toml_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    lines = DEFAULT_CATALOGUE.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith('id = "K2"'))
    lines[number - 1] = 'id = "K2'  # the closing quote is missing
    broken.write_text("\n".join(lines), encoding="utf-8")
    result = script("catalogue", "check", str(broken), cwd=tmp_path)
    assert result.returncode != 0
    assert str(broken) in result.stderr and f"line {number}" in result.stderr
    assert "Traceback" not in result.stderr


def test_catalogue_check_of_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("catalogue", "check", str(tmp_path / "nope.toml")) == 2
    assert "nope.toml" in capsys.readouterr().err


# -- database, institutions ---------------------------------------------------------------------


def test_db_migrate_twice(tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--config", config, "db", "migrate") == 0
    assert cli("--config", config, "db", "migrate") == 0
    assert str(tmp_path / "cli.sqlite3") in capsys.readouterr().out
    tables = {
        name
        for (name,) in query(
            tmp_path / "cli.sqlite3", "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"institutions", "cycles", "checks", "answers"} <= tables


def test_institution_add_prints_the_invite_link(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--config", config, "institution", "add", "ABH", "Ausländerbehörde") == 0
    out = capsys.readouterr().out
    match = re.search(r"https://t\.me/cc_test_bot\?start=(\S+)", out)
    assert match, out
    code = match[1]
    assert URL_SAFE.fullmatch(code)
    # Only the code's SHA-256 is stored, so a copy of the database lets nobody join.
    assert query(tmp_path / "cli.sqlite3", "SELECT short, name, invite_hash FROM institutions") == [
        ("ABH", "Ausländerbehörde", hashlib.sha256(code.encode()).hexdigest())
    ]

    assert cli("--config", config, "institution", "list") == 0
    listed = capsys.readouterr().out
    assert "ABH" in listed and "Ausländerbehörde" in listed
    assert code not in listed and "institution invite SHORT --rotate" in listed


def test_institution_add_twice_is_refused(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--config", config, "institution", "add", "ABH", "Ausländerbehörde") == 0
    capsys.readouterr()
    assert cli("--config", config, "institution", "add", "abh", "Andere Behörde") == 2
    captured = capsys.readouterr()
    assert "ABH" in captured.err and "exists" in captured.err
    assert captured.out == ""
    assert query(tmp_path / "cli.sqlite3", "SELECT count(*) FROM institutions") == [(1,)]


def test_institution_add_with_a_bad_short_name(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--config", config, "institution", "add", "A B", "Name") == 2
    assert "'A B'" in capsys.readouterr().err


def test_institution_add_without_username_prints_the_code_and_the_fix(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(write_config(tmp_path))
    assert cli("--config", config, "institution", "add", "VHS", "Volkshochschule") == 0
    out = capsys.readouterr().out
    [(stored,)] = query(tmp_path / "cli.sqlite3", "SELECT invite_hash FROM institutions")
    code = re.search(r"invite code: (\S+)", out)[1]
    assert URL_SAFE.fullmatch(code) and hashlib.sha256(code.encode()).hexdigest() == stored
    assert "https://t.me/" not in out
    assert "bot_username" in out  # how to get the link

    assert cli("--config", config, "institution", "list") == 0
    assert "VHS" in capsys.readouterr().out


def test_institution_list_when_empty(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--config", config, "institution", "list") == 0
    assert "institution add" in capsys.readouterr().out


# -- rounds -------------------------------------------------------------------------------------


def test_cycle_open_and_list(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deadline = future(120)
    name = str(deadline.year)
    assert cli("--config", config, "cycle", "open", name, "--deadline", deadline.isoformat()) == 0
    assert deadline.isoformat() in capsys.readouterr().out
    assert cli("--config", config, "cycle", "list") == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.strip()]
    assert line.startswith(name) and deadline.isoformat() in line and "open" in line
    assert query(tmp_path / "cli.sqlite3", "SELECT name, deadline, closed_at FROM cycles") == [
        (name, deadline.isoformat(), None)
    ]


def test_cycle_open_takes_a_german_date_and_names_a_day_that_does_not_exist(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """CLI dates read TT.MM.JJJJ like /frist; 30.02. is "gibt es nicht", not "not a date"."""
    assert cli("--config", config, "cycle", "open", "2027", "--deadline", "30.02.2099") == 2
    err = capsys.readouterr().err
    assert "30.02.2099 gibt es nicht" in err
    assert cli("--config", config, "cycle", "open", "2027", "--deadline", "Ende März") == 2
    assert "DD.MM.YYYY or YYYY-MM-DD" in capsys.readouterr().err
    assert not (tmp_path / "cli.sqlite3").exists() or query(
        tmp_path / "cli.sqlite3", "SELECT count(*) FROM cycles"
    ) == [(0,)]
    deadline = future(120)
    german = deadline.strftime("%d.%m.%Y")
    assert cli("--config", config, "cycle", "open", "2027", "--deadline", german) == 0
    assert query(tmp_path / "cli.sqlite3", "SELECT deadline FROM cycles") == [
        (deadline.isoformat(),)
    ]


def test_cycle_open_with_a_past_deadline_is_refused(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert cli("--config", config, "cycle", "open", "alt", "--deadline", yesterday) == 2
    assert yesterday in capsys.readouterr().err


def test_a_second_open_round_is_refused(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = future(120), future(485)
    assert cli("--config", config, "cycle", "open", "Runde 1", "--deadline", str(first)) == 0
    capsys.readouterr()
    assert cli("--config", config, "cycle", "open", "Runde 2", "--deadline", str(second)) == 2
    err = capsys.readouterr().err
    assert "Runde 1" in err and "open" in err
    assert query(tmp_path / "cli.sqlite3", "SELECT name FROM cycles") == [("Runde 1",)]


def test_cycle_list_when_empty(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--config", config, "cycle", "list") == 0
    assert "cycle open" in capsys.readouterr().out


# -- configuration ------------------------------------------------------------------------------


def test_broken_config_names_key_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path, '[reminders]\nsend_at = "9 Uhr"\n'))
    assert cli("--config", config, "db", "migrate") == 2
    captured = capsys.readouterr()
    assert "reminders.send_at" in captured.err and '"9 Uhr"' in captured.err
    assert "HH:MM" in captured.err
    assert not (tmp_path / "cli.sqlite3").exists()


def test_broken_config_through_the_console_script_has_no_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[reminders]\nsend_at = "9 Uhr"\n')
    result = script("--config", str(config), "cycle", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "reminders.send_at" in result.stderr and "9 Uhr" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--config", str(tmp_path / "nope.toml"), "db", "migrate") == 2
    assert "nope.toml" in capsys.readouterr().err


def test_config_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    config = write_config(folder, '[telegram]\nbot_username = "env_named_bot"\n')
    monkeypatch.setenv("CHANCENCHECK_CONFIG", str(config))
    assert cli("institution", "add", "IFT", "Internationaler Frauentreff") == 0
    assert "https://t.me/env_named_bot?start=" in capsys.readouterr().out
    assert (folder / "cli.sqlite3").exists()  # relative to the config file, not the cwd
    assert not (tmp_path / "data").exists()


def test_broken_config_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, '[checks]\nlanguage = "fr"\n')
    monkeypatch.setenv("CHANCENCHECK_CONFIG", str(config))
    assert cli("cycle", "list") == 2
    err = capsys.readouterr().err
    assert "checks.language" in err and '"fr"' in err


# -- run ----------------------------------------------------------------------------------------


def test_run_without_token_starts_the_demo(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = script("--config", str(config), "run", cwd=tmp_path, stdin=None)  # stdin closed
    assert result.returncode == 0, result.stderr
    assert "Offline-Demo" in result.stdout
    assert "token" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert (tmp_path / "cli-demo.sqlite3").exists()  # the demo keeps its own database
