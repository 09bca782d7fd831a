"""Coordinator commands: what coordinators get, and that nobody else learns anything."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from botharness import make_config, running_bot, set_up_institution
from fakebot import FakeBotApi
from pypdf import PdfReader
from test_digest import COORDINATOR, GROUP, prefill

from bot.cli.entry import main
from bot.config import Config

COMMANDS = ["/status", "/bericht ABH", "/export", "/heatmap", "/wiedereroeffnen ABH"]


@pytest.fixture
def config(tmp_path: Path, fake_bot_api: FakeBotApi) -> Config:
    fake_bot_api.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f"coordination_chat_id = {GROUP}\ncoordinators = [{COORDINATOR}]"
    return make_config(tmp_path, fake_bot_api, extra)


def files(server: FakeBotApi, chat_id: int) -> dict[str, bytes]:
    return {m.file[0]: m.file[1] for m in server.sent_to(chat_id) if m.file}


@pytest.mark.parametrize("command", COMMANDS)
async def test_non_coordinators_are_refused_and_learn_nothing(
    config: Config, fake_bot_api: FakeBotApi, command: str
) -> None:
    await set_up_institution(config)
    await prefill(config)
    async with running_bot(config, fake_bot_api):
        member = fake_bot_api.user(1001, "Anna")
        stranger = fake_bot_api.user(1003, "Sam")
        for user in (member, stranger):
            await user.send_and_wait(command)
            reply = user.last_message().visible_text or ""
            assert "Koordinierungsgruppe vorbehalten" in reply
            assert "ABH" not in reply and "Ausländerbehörde" not in reply
    assert not files(fake_bot_api, 1001) and not files(fake_bot_api, 1003)
    assert fake_bot_api.calls("sendPhoto") == [] and fake_bot_api.calls("sendDocument") == []


async def test_coordinator_commands_in_a_foreign_group_are_refused(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    async with running_bot(config, fake_bot_api):
        coordinator = fake_bot_api.user(COORDINATOR, "Kora").in_group(-100777, "Kaffeeklatsch")
        await coordinator.send_and_wait("/status")
        reply = fake_bot_api.sent_to(-100777)[-1].visible_text or ""
    assert "nur für Koordinator*innen" in reply and "ABH" not in reply


async def test_status_in_the_coordination_group(config: Config, fake_bot_api: FakeBotApi) -> None:
    await set_up_institution(config)
    await set_up_institution(config, "VHS", "Volkshochschule")
    await prefill(config)
    async with running_bot(config, fake_bot_api):
        coordinator = fake_bot_api.user(COORDINATOR, "Kora").in_group(
            GROUP, "Koordinierungsgruppe", "supergroup"
        )
        await coordinator.send_and_wait("/status")
    status = fake_bot_api.sent_to(GROUP)[-1].visible_text or ""
    assert "ABH" in status and "44/45 beantwortet" in status
    assert "VHS" in status and "0/45 beantwortet" in status


async def test_report_export_and_heatmap_for_coordinators(
    config: Config, fake_bot_api: FakeBotApi
) -> None:
    await set_up_institution(config)
    await prefill(config)
    async with running_bot(config, fake_bot_api):
        coordinator = fake_bot_api.user(COORDINATOR, "Kora")
        await coordinator.send_and_wait("/bericht ABH")
        await coordinator.send_and_wait("/export")
        await coordinator.send_and_wait("/uebersicht")
        await coordinator.send_and_wait("/bericht XYZ")
        unknown = coordinator.last_message().visible_text or ""

    sent = files(fake_bot_api, COORDINATOR)
    report = next(data for name, data in sent.items() if name.endswith(".pdf"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report)).pages)
    assert "Ausländerbehörde (ABH)" in text and "K1" in text
    book = openpyxl.load_workbook(
        io.BytesIO(next(d for n, d in sent.items() if n.endswith(".xlsx")))
    )
    assert book.worksheets[0].max_row == 1 + 44
    table = next(d for n, d in sent.items() if n.endswith(".csv")).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(table), delimiter=";"))) == 1 + 44
    assert sum(1 for name in sent if name.endswith(".png")) == 2  # the profile and the heat map
    assert "XYZ" in unknown and "ABH" in unknown


def test_cli_report_and_export(config: Config, tmp_path: Path, capsys) -> None:
    import asyncio

    asyncio.run(set_up_institution(config))
    asyncio.run(prefill(config))
    config_file = str(tmp_path / "config.toml")
    assert main(["--config", config_file, "report", "ABH", "--out", str(tmp_path / "r.html")]) == 0
    assert "Ausländerbehörde" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert main(["--config", config_file, "report", "ABH", "--out", str(tmp_path / "r.pdf")]) == 0
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"all.{fmt}"
        assert main(["--config", config_file, "export", "--format", fmt, "--out", str(out)]) == 0
        assert out.stat().st_size > 0
    # The format follows the extension; an existing file is replaced only with --force.
    out = tmp_path / "all.csv"
    out.write_bytes(b"keep me")
    assert main(["--config", config_file, "export", "--out", str(out)]) == 2
    assert out.read_bytes() == b"keep me" and "--force" in capsys.readouterr().err
    assert main(["--config", config_file, "export", "--out", str(out), "--force"]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # CSV for German Excel, not XLSX
    assert main(["--config", config_file, "report", "NOPE"]) == 2
    assert "no institution 'NOPE'" in capsys.readouterr().err
