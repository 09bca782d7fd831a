"""A queued chart carries its content in words: as caption, or as texts right after it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import storage
from bot.core.image_words import enqueue_image
from bot.reports.alt_text import CAPTION_LIMIT

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


async def test_short_words_ride_as_caption_long_ones_follow_in_order(tmp_path: Path) -> None:
    """Protects screen reader users from a chart without words (issue 21): words within
    Telegram's caption limit become the caption; longer words are queued as text messages
    right after the image (none cut inside a line), and queuing again adds nothing."""
    short = "<b>Grafik in Worten</b>\n🟢 A: 2,5"
    long_lines = [f"🟠 E{n:02}: 1,0, orange; unter 2: Z1, Z2, Z3" for n in range(60)]
    long = "\n".join(long_lines)
    assert len(long) > CAPTION_LIMIT
    async with await storage.open_database(tmp_path / "db.sqlite") as db:
        for _ in range(2):  # the keys make a second queuing a no-op
            async with db.transaction():
                await enqueue_image(db, "d:1:chart", -1, "chart", {"cycle_id": 1}, short, NOW)
                await enqueue_image(db, "r:1:map", -1, "round_heatmap", {"rows": 60}, long, NOW)
        due = await storage.due(db, NOW)
    assert [m.kind for m in due][:2] == ["chart", "round_heatmap"]
    assert due[0].payload["caption"] == short
    assert "caption" not in due[1].payload
    follow = due[2:]
    assert follow and all(m.kind == "message" for m in follow)
    assert [m.key for m in follow] == [f"r:1:map:words{n}" for n in range(len(follow))]
    texts = [str(m.payload["text"]) for m in follow]
    assert [line for t in texts for line in t.split("\n")] == long_lines
