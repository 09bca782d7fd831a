"""Moments as stored: ISO-8601 UTC text of one fixed width, so that text order is time order."""

from datetime import UTC, date, datetime


def utc_now() -> datetime:
    """Return the current moment, aware, in UTC."""
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """Return the stored form of an aware moment, e.g. 2026-03-01T09:30:00.000000+00:00."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive datetime would silently be read as UTC and shift every stored time.
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime, e.g. in UTC")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    """Return the aware UTC moment of a stored text."""
    return datetime.fromisoformat(text).astimezone(UTC)


def maybe_from_text(text: str | None) -> datetime | None:
    """Return the moment of a stored text, or None for NULL."""
    return None if text is None else from_text(text)


def date_to_text(day: date) -> str:
    """Return the stored form of a date, e.g. 2026-03-31."""
    if isinstance(day, datetime):
        # A datetime's calendar day depends on its time zone; make the caller choose.
        raise TypeError(f"expected a date, got the datetime {day!r}: pass day.date()")
    return day.isoformat()


def date_from_text(text: str) -> date:
    """Return the date of a stored text."""
    return date.fromisoformat(text)
