"""Helpers for the access and data-protection tests: fill checks, dump and scan the database."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from botharness import make_config
from fakebot import FakeBotApi, parse_html

import storage
from bot.catalogue import load_catalogue
from bot.config import Config
from bot.render.templates import Templates

CATALOGUE = load_catalogue()
GROUP = -1001234567890  # the coordination chat
COORDINATOR = 9001
TEMPLATES = Templates(ZoneInfo("Europe/Berlin"))


def coordination_config(tmp_path: Path, server: FakeBotApi, group: bool = True) -> Config:
    """Return a config with one coordinator and, unless group is False, the coordination chat."""
    server.add_chat({"id": GROUP, "type": "supergroup", "title": "Koordinierungsgruppe"})
    extra = f"coordinators = [{COORDINATOR}]"
    if group:
        extra += f"\ncoordination_chat_id = {GROUP}"
    return make_config(tmp_path, server, extra)


async def fill(
    config: Config, short: str, user_id: int, name: str, text: str, leave_out: int = 0
) -> None:
    """Answer an institution's check as a member would have, all but the last `leave_out`."""
    async with await storage.open_database(config.storage.path) as db:
        institution = await storage.institution_by_short(db, short)
        cycle = await storage.current_cycle(db)
        assert institution and cycle
        positions = [(r.id, q.key) for r in CATALOGUE.requirements for q in CATALOGUE.questions]
        async with db.transaction():
            member = await storage.join_institution(db, user_id, institution.id, name, "de")
            check = await storage.check_for(db, institution.id, cycle.id)
            for requirement_id, key in positions[: len(positions) - leave_out]:
                value, answer = {
                    "fulfilment": ("partly", None),
                    "potential": ("yes", text),
                    "measures": ("planned", text),
                }[key]
                await storage.record_answer(
                    db,
                    check.id,
                    storage.NewAnswer(
                        requirement_id,
                        key,
                        value,
                        answer,
                        member.id,
                        CATALOGUE.id,
                        CATALOGUE.version,
                    ),
                )


def rows(config: Config, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(config.storage.path)) as conn:
        return list(conn.execute(sql, params))


def tables(config: Config) -> list[str]:
    return [
        name
        for (name,) in rows(
            config, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]


def dump(config: Config) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table: what a refused command must leave as it was."""
    return {
        table: rows(config, f'SELECT * FROM "{table}" ORDER BY rowid') for table in tables(config)
    }


def scan(config: Config, needle: str | int) -> list[tuple[str, str, Any]]:
    """Return (table, column, value) for every cell of the database that holds the needle."""
    found = []
    for table in tables(config):
        for (column,) in rows(config, "SELECT name FROM pragma_table_info(?)", (table,)):
            sql = (
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" = ? '
                f'OR instr(CAST("{column}" AS TEXT), ?) > 0'
            )
            found += [
                (table, column, value) for (value,) in rows(config, sql, (needle, str(needle)))
            ]
    return found


def said(name: str, language: str = "de", /, **context: object) -> str:
    """Return a template's text as the user reads it."""
    return parse_html(TEMPLATES.render(language, name, **context)).text
