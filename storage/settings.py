"""Settings that change at run time and must survive a restart."""

from storage.db import Database
from storage.sql import fetch_value

COORDINATION_CHAT = "coordination_chat_id"


async def get_setting(db: Database, key: str) -> str | None:
    """Return a setting's value, or None when it was never set."""
    value = await fetch_value(db.conn, "SELECT value FROM settings WHERE key = ?", (key,))
    return None if value is None else str(value)


async def set_setting(db: Database, key: str, value: str) -> None:
    """Store a setting, replacing an earlier value."""
    sql = """
        INSERT INTO settings (key, value) VALUES (?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
    """
    await db.writer.execute(sql, (key, value))
