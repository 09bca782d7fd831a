"""SQLite storage through aiosqlite: one connection, migrations, typed async functions.

Reads take `db` and may run anywhere; writes must run inside `async with db.transaction():`,
which commits once at its end, so the caller decides what is stored atomically.
"""

from storage.answers import StoredAnswer, current_answers, last_activity, record_answer, revisions
from storage.checks import Check, check_by_id, check_for, reopen_check, submit_check
from storage.cycles import (
    Cycle,
    close_cycle,
    current_cycle,
    cycle_by_id,
    cycle_by_name,
    list_cycles,
    open_cycle,
)
from storage.db import Database, open_database
from storage.errors import DuplicateError, NotFoundError, StorageError
from storage.institutions import (
    Institution,
    add_institution,
    institution_by_code,
    institution_by_id,
    institution_by_short,
    list_institutions,
)
from storage.members import (
    Member,
    forget_member,
    join_institution,
    member_by_id,
    member_by_user,
    members_of,
    set_language,
    set_reminders,
    set_role,
    set_unreachable,
    touch_member,
)
from storage.migrations import migrate
from storage.outbox import OutboxMessage, due, enqueue, mark_delivered, mark_failed
from storage.positions import (
    ActiveMessage,
    Position,
    load_active_message,
    load_position,
    save_active_message,
    save_position,
)

__all__ = [
    "ActiveMessage",
    "Check",
    "Cycle",
    "Database",
    "DuplicateError",
    "Institution",
    "Member",
    "NotFoundError",
    "OutboxMessage",
    "Position",
    "StorageError",
    "StoredAnswer",
    "add_institution",
    "check_by_id",
    "check_for",
    "close_cycle",
    "current_answers",
    "current_cycle",
    "cycle_by_id",
    "cycle_by_name",
    "due",
    "enqueue",
    "forget_member",
    "institution_by_code",
    "institution_by_id",
    "institution_by_short",
    "join_institution",
    "last_activity",
    "list_cycles",
    "list_institutions",
    "load_active_message",
    "load_position",
    "mark_delivered",
    "mark_failed",
    "member_by_id",
    "member_by_user",
    "members_of",
    "migrate",
    "open_cycle",
    "open_database",
    "record_answer",
    "reopen_check",
    "revisions",
    "save_active_message",
    "save_position",
    "set_language",
    "set_reminders",
    "set_role",
    "set_unreachable",
    "submit_check",
    "touch_member",
]
