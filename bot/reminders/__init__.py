"""Reminders before a round's deadline: schedule (pure), sweep, delivery, deadline, progress."""
