"""The schema as an append-only list of migrations, each applied once and recorded.

Never edit or reorder a migration that has shipped: add a new `mNNN_...` function instead.
"""

import hashlib
import sqlite3
from collections.abc import Awaitable, Callable
from textwrap import dedent

import aiosqlite

from storage.errors import StorageError
from storage.sql import fetch_all, fetch_value
from storage.times import to_text, utc_now

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]


async def run_script(conn: aiosqlite.Connection, script: str) -> None:
    """Execute the statements of script one by one, inside the caller's transaction."""
    # executescript() would COMMIT first and so break the migration's own transaction.
    statement = ""
    for part in script.split(";"):
        statement += part + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                await conn.execute(statement)
            statement = ""


async def m001_initial(conn: aiosqlite.Connection) -> None:
    """Create the tables of the whole product."""
    # STRICT tables refuse values of the wrong type; CHECKs and foreign keys refuse rows the
    # domain does not allow, so a bug fails loudly instead of storing nonsense.
    await run_script(conn, dedent(M001_SQL))


M001_SQL = """
    CREATE TABLE institutions (
        id INTEGER PRIMARY KEY,
        short TEXT NOT NULL UNIQUE COLLATE NOCASE
            CHECK (length(short) BETWEEN 1 AND 12 AND short NOT GLOB '*[^A-Za-z0-9]*'),
        name TEXT NOT NULL CHECK (name <> ''),
        invite_code TEXT NOT NULL UNIQUE CHECK (invite_code <> ''),
        created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE members (
        id INTEGER PRIMARY KEY,
        -- NULL for a former member: the row stays so that their answers keep an author.
        telegram_user_id INTEGER UNIQUE,
        institution_id INTEGER NOT NULL REFERENCES institutions(id),
        role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'coordinator')),
        first_name TEXT,
        language TEXT NOT NULL DEFAULT 'de' CHECK (language IN ('de', 'en')),
        reminders_enabled INTEGER NOT NULL DEFAULT 1 CHECK (reminders_enabled IN (0, 1)),
        unreachable INTEGER NOT NULL DEFAULT 0 CHECK (unreachable IN (0, 1)),
        joined_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        -- A former member keeps no name either.
        CHECK (telegram_user_id IS NOT NULL OR first_name IS NULL)
    ) STRICT;
    CREATE INDEX members_by_institution ON members(institution_id);

    CREATE TABLE cycles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (name <> ''),
        catalogue_id TEXT NOT NULL,
        catalogue_version TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        -- date(x, '+0 days') moves 02-30 to 03-02 and nulls non-dates, so only real dates pass.
        deadline TEXT NOT NULL CHECK (date(deadline, '+0 days') IS deadline),
        closed_at TEXT
    ) STRICT;

    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        institution_id INTEGER NOT NULL REFERENCES institutions(id),
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'submitted')),
        submitted_at TEXT,
        submitted_by INTEGER REFERENCES members(id),
        reopened_at TEXT,
        UNIQUE (institution_id, cycle_id),
        CHECK (status = 'open' OR submitted_at IS NOT NULL)
    ) STRICT;
    CREATE INDEX checks_by_cycle ON checks(cycle_id);

    -- Every revision is a row; the current answer is the latest (highest id) per question.
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY,
        check_id INTEGER NOT NULL REFERENCES checks(id),
        requirement_id TEXT NOT NULL CHECK (requirement_id <> ''),
        question_key TEXT NOT NULL
            CHECK (question_key IN ('fulfilment', 'potential', 'measures')),
        value TEXT NOT NULL CHECK (value <> ''),
        text TEXT,
        author_id INTEGER REFERENCES members(id),
        catalogue_id TEXT NOT NULL,
        catalogue_version TEXT NOT NULL,
        answered_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX answers_by_question ON answers(check_id, requirement_id, question_key, id);

    CREATE TABLE positions (
        member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
        requirement_id TEXT NOT NULL CHECK (requirement_id <> ''),
        question_key TEXT NOT NULL
            CHECK (question_key IN ('fulfilment', 'potential', 'measures')),
        phase TEXT NOT NULL CHECK (phase <> ''),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (member_id, check_id)
    ) STRICT;
    CREATE INDEX positions_by_check ON positions(check_id);

    -- The one bot message per member that still has buttons; the next message with buttons
    -- replaces them, so that an old button cannot be pressed by mistake.
    CREATE TABLE active_messages (
        member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL,
        asks TEXT  -- the question it shows ("K1.fulfilment"), NULL for other messages
    ) STRICT;

    -- Messages that must go out once even if the bot restarts between deciding and sending.
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE CHECK (key <> ''),
        chat_id INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind <> ''),
        payload TEXT NOT NULL CHECK (json_valid(payload)),
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        -- NULL once delivered or given up: such a message is never due again.
        next_attempt_at TEXT,
        delivered_at TEXT,
        message_id INTEGER,
        last_error TEXT,
        CHECK (delivered_at IS NULL OR message_id IS NOT NULL)
    ) STRICT;
    CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
"""


async def m002_reminders(conn: aiosqlite.Connection) -> None:
    """Record deadline changes and every message a member gets about a deadline."""
    # Reminders are computed from the database by a periodic sweep; this table is their memory.
    # A row is written before the message is sent, so a reminder is never sent twice, even
    # across a crash (see bot/reminders/sweep.py for the crash window).
    await run_script(conn, dedent(M002_SQL))


M002_SQL = """
    -- Every move of a round's deadline: members are told once per change, and the reminder
    -- schedule starts again from the moment of the change.
    CREATE TABLE deadline_changes (
        id INTEGER PRIMARY KEY,
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        old_deadline TEXT NOT NULL CHECK (date(old_deadline, '+0 days') IS old_deadline),
        new_deadline TEXT NOT NULL CHECK (date(new_deadline, '+0 days') IS new_deadline),
        changed_by INTEGER,  -- Telegram user id of the coordinator, NULL from the command line
        changed_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX deadline_changes_by_cycle ON deadline_changes(cycle_id, id);

    -- One row per message to a member about a deadline: a planned reminder or the notice of a
    -- moved deadline. The key names it, so deciding to send it twice stores it once.
    CREATE TABLE reminders (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE CHECK (key <> ''),
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        member_id INTEGER NOT NULL REFERENCES members(id),
        kind TEXT NOT NULL CHECK (kind IN ('reminder', 'deadline_moved')),
        deadline TEXT NOT NULL CHECK (date(deadline, '+0 days') IS deadline),
        days_before INTEGER CHECK (days_before >= 0),
        -- pending: decided, not tried yet or surely not delivered (tried again)
        -- sending: handed to Telegram; left so only by a crash, whose outcome is unknown
        -- sent / failed (refused for good) / uncertain (outcome unknown) / dropped (obsolete)
        status TEXT NOT NULL
            CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'dropped')),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        message_id INTEGER,
        error TEXT,
        CHECK (status <> 'sent' OR message_id IS NOT NULL),
        CHECK ((kind = 'reminder') = (days_before IS NOT NULL))
    ) STRICT;
    CREATE INDEX reminders_by_member ON reminders(cycle_id, member_id);
    CREATE INDEX reminders_open ON reminders(status) WHERE status IN ('pending', 'sending');
"""


async def m003_submissions_and_settings(conn: aiosqlite.Connection) -> None:
    """Keep each submission's answers, and settings that can change while the bot runs."""
    # A resubmitted check's digest says what changed, so every submission keeps a snapshot.
    # Settings hold what Telegram or coordinators change at run time, such as the coordination
    # chat's new id after Telegram migrated the group to a supergroup.
    await run_script(conn, dedent(M003_SQL))


M003_SQL = """
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
        member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
        submitted_at TEXT NOT NULL,
        answers TEXT NOT NULL CHECK (json_valid(answers))
    ) STRICT;
    CREATE INDEX submissions_by_check ON submissions(check_id, id);

    CREATE TABLE settings (
        key TEXT PRIMARY KEY CHECK (key <> ''),
        value TEXT NOT NULL
    ) STRICT;
"""


async def m004_hashed_invite_codes(conn: aiosqlite.Connection) -> None:
    """Keep only a fingerprint (SHA-256) of each invite code, never the code itself."""
    # Whoever reads a copy of the database must not be able to join an institution. The links
    # sent before keep working: the code in them hashes to the value stored here. The hash is
    # written out rather than imported, so this step stays what it was if the code changes.
    await conn.execute("ALTER TABLE institutions RENAME COLUMN invite_code TO invite_hash")
    for row in await fetch_all(conn, "SELECT id, invite_hash FROM institutions"):
        digest = hashlib.sha256(str(row[1]).encode("utf-8")).hexdigest()
        await conn.execute("UPDATE institutions SET invite_hash = ? WHERE id = ?", (digest, row[0]))


async def m005_access_and_audit(conn: aiosqlite.Connection) -> None:
    """Store coordinators added at run time, wrong invite codes, and the audit log."""
    # The audit log records every answer, submission, membership and deadline change by
    # triggers, so no code path can change them unrecorded; coordinator actions are written
    # by the code that performs them, which knows who acted.
    await run_script(conn, dedent(M005_SQL))


M005_SQL = """
    -- Coordinators added with `chancencheck coordinator add`; those in config are not stored.
    CREATE TABLE coordinators (
        telegram_user_id INTEGER PRIMARY KEY CHECK (telegram_user_id > 0),
        added_at TEXT NOT NULL
    ) STRICT;

    -- Wrong invite codes per user, for the guessing limit: the moments only, never the codes,
    -- and deleted once older than the limit's window.
    CREATE TABLE invite_failures (
        id INTEGER PRIMARY KEY,
        telegram_user_id INTEGER NOT NULL,
        failed_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX invite_failures_by_user ON invite_failures(telegram_user_id, failed_at);

    -- Who did what when. It refers to rows by id instead of copying them (an answer's text
    -- stays in answers only) and holds no names. No foreign keys: an entry outlives what it
    -- names (a removed institution), until the retention deletes it.
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_kind TEXT NOT NULL CHECK (actor_kind IN ('member', 'coordinator', 'cli', 'system')),
        -- members.id of a member, the Telegram user id of a coordinator; NULL from the command
        -- line, and once the coordinator had their data deleted (/loeschen)
        actor_id INTEGER,
        action TEXT NOT NULL CHECK (action <> ''),
        institution_id INTEGER,
        cycle_id INTEGER,
        check_id INTEGER,
        answer_id INTEGER,
        member_id INTEGER,  -- the member an action concerned (joined, left, removed)
        subject_user_id INTEGER,  -- the Telegram user an action concerned (coordinator added)
        detail TEXT CHECK (detail IS NULL OR json_valid(detail)),
        CHECK (actor_kind IN ('member', 'coordinator') OR actor_id IS NULL)
    ) STRICT;
    CREATE INDEX audit_by_time ON audit(at);

    CREATE TRIGGER audit_answer AFTER INSERT ON answers BEGIN
        INSERT INTO audit (at, actor_kind, actor_id, action, institution_id, cycle_id, check_id,
                           answer_id)
        SELECT NEW.answered_at, iif(NEW.author_id IS NULL, 'system', 'member'), NEW.author_id,
               'answer', c.institution_id, c.cycle_id, c.id, NEW.id
        FROM checks AS c WHERE c.id = NEW.check_id;
    END;

    CREATE TRIGGER audit_submission AFTER INSERT ON submissions BEGIN
        INSERT INTO audit (at, actor_kind, actor_id, action, institution_id, cycle_id, check_id)
        SELECT NEW.submitted_at, iif(NEW.member_id IS NULL, 'system', 'member'), NEW.member_id,
               'submit', c.institution_id, c.cycle_id, c.id
        FROM checks AS c WHERE c.id = NEW.check_id;
    END;

    CREATE TRIGGER audit_join AFTER INSERT ON members BEGIN
        INSERT INTO audit (at, actor_kind, actor_id, action, institution_id, member_id)
        VALUES (NEW.joined_at, 'member', NEW.id, 'member_join', NEW.institution_id, NEW.id);
    END;

    CREATE TRIGGER audit_move AFTER UPDATE OF institution_id ON members
    WHEN OLD.institution_id IS NOT NEW.institution_id BEGIN
        INSERT INTO audit (at, actor_kind, actor_id, action, institution_id, member_id, detail)
        VALUES (NEW.joined_at, 'member', NEW.id, 'member_join', NEW.institution_id, NEW.id,
                json_object('from_institution_id', OLD.institution_id));
    END;

    CREATE TRIGGER audit_deadline AFTER INSERT ON deadline_changes BEGIN
        INSERT INTO audit (at, actor_kind, actor_id, action, cycle_id, detail)
        VALUES (NEW.changed_at, iif(NEW.changed_by IS NULL, 'cli', 'coordinator'), NEW.changed_by,
                'deadline_move', NEW.cycle_id,
                json_object('from', NEW.old_deadline, 'to', NEW.new_deadline));
    END;
"""


async def m006_coordinator_invites(conn: aiosqlite.Connection) -> None:
    """Add one-time links that make whoever opens them a coordinator."""
    # Telegram shows nobody their user id, so coordinators join by link instead; only the
    # code's hash is kept, as for institution invites.
    await run_script(conn, dedent(M006_SQL))


M006_SQL = """
    CREATE TABLE coordinator_invites (
        id INTEGER PRIMARY KEY,
        code_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_by INTEGER,
        CHECK ((used_at IS NULL) = (used_by IS NULL))
    ) STRICT;
"""


async def m007_rounds_carry_forward(conn: aiosqlite.Connection) -> None:
    """Keep each round's catalogue and its predecessor, and which answers were carried over."""
    # A closed round must stay readable in its own wording after a new catalogue is loaded, so
    # the round stores the catalogue's content. The next round proposes the last one's answers;
    # a confirmed proposal is stored as an answer that links to the one it was carried from.
    # Links into an older round are SET NULL, so deleting that round (retention) never
    # cascades into a newer one: its answers stay, marked carried from a deleted round.
    await run_script(conn, dedent(M007_SQL))


M007_SQL = """
    ALTER TABLE cycles ADD COLUMN catalogue TEXT CHECK (catalogue IS NULL OR json_valid(catalogue));
    ALTER TABLE cycles ADD COLUMN previous_id INTEGER REFERENCES cycles(id) ON DELETE SET NULL;
    -- The previous round's name outlives its deletion, so comparisons can say "Vorrunde gelöscht".
    ALTER TABLE cycles ADD COLUMN previous_name TEXT;
    ALTER TABLE answers ADD COLUMN carried INTEGER NOT NULL DEFAULT 0 CHECK (carried IN (0, 1));
    ALTER TABLE answers ADD COLUMN carried_from INTEGER REFERENCES answers(id) ON DELETE SET NULL;
    CREATE INDEX answers_carried_from ON answers(carried_from) WHERE carried_from IS NOT NULL;
    CREATE INDEX cycles_previous ON cycles(previous_id) WHERE previous_id IS NOT NULL;
    -- Rounds opened before this step follow each other in the order they were opened.
    UPDATE cycles SET previous_id = (
        SELECT p.id FROM cycles AS p
        WHERE (p.opened_at, p.id) < (cycles.opened_at, cycles.id)
        ORDER BY p.opened_at DESC, p.id DESC LIMIT 1
    );
    UPDATE cycles SET previous_name = (
        SELECT p.name FROM cycles AS p WHERE p.id = cycles.previous_id
    );
"""


async def m008_handovers_and_reasons(conn: aiosqlite.Connection) -> None:
    """Add requirements handed to a colleague by link, and reasons for changed answers."""
    # A handover link is as strong as an invite, so only its code's hash is kept. A reason
    # belongs to the revision that changed a colleague's answer; a member's pending question
    # for one is kept until answered or skipped, so that the next message can be taken as it.
    await run_script(conn, dedent(M008_SQL))


M008_SQL = """
    CREATE TABLE handovers (
        id INTEGER PRIMARY KEY,
        code_hash TEXT NOT NULL UNIQUE,
        check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
        requirement_id TEXT NOT NULL CHECK (requirement_id <> ''),
        delegator_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        delegate_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at TEXT,
        end_reason TEXT CHECK (end_reason IN ('answered', 'taken_back', 'revoked')),
        CHECK ((ended_at IS NULL) = (end_reason IS NULL))
    ) STRICT;
    CREATE INDEX handovers_by_check ON handovers(check_id, delegator_id);

    ALTER TABLE answers ADD COLUMN reason TEXT CHECK (reason IS NULL OR reason <> '');

    CREATE TABLE reason_requests (
        member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
        answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
        asked_at TEXT NOT NULL
    ) STRICT;
"""


async def m009_plain_mode(conn: aiosqlite.Connection) -> None:
    """Remember per member whether they asked for the plain (screen-reader) mode."""
    # BITV 2.0: a member who uses a screen reader switches off glyph bars and emoji with
    # /barrierefrei; the choice must outlive a restart, so it is stored with the member.
    await conn.execute(
        "ALTER TABLE members ADD COLUMN plain_mode INTEGER NOT NULL DEFAULT 0 "
        "CHECK (plain_mode IN (0, 1))"
    )


async def m011_measures(conn: aiosqlite.Connection) -> None:
    """Add the improvement plan: measures with owner, due month, status and history."""
    # A measure outlives its answer's revisions: it is the institution's commitment, followed
    # up month by month (measure_asks keeps each follow-up at most once, like reminders).
    await run_script(conn, dedent(M011_SQL))


M011_SQL = """
    CREATE TABLE measures (
        id INTEGER PRIMARY KEY,
        institution_id INTEGER NOT NULL REFERENCES institutions(id),
        cycle_id INTEGER NOT NULL REFERENCES cycles(id),
        check_id INTEGER NOT NULL REFERENCES checks(id),
        requirement_id TEXT NOT NULL,
        text TEXT NOT NULL,
        batch INTEGER NOT NULL,
        entered_by INTEGER REFERENCES members(id),
        owner_member_id INTEGER REFERENCES members(id),
        owner_name TEXT,
        due_month TEXT,
        status TEXT NOT NULL DEFAULT 'geplant'
            CHECK (status IN ('geplant', 'in_arbeit', 'umgesetzt', 'verworfen')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX measures_by_check ON measures (check_id, requirement_id);
    CREATE INDEX measures_by_institution ON measures (institution_id, cycle_id);

    CREATE TABLE measure_changes (
        id INTEGER PRIMARY KEY,
        measure_id INTEGER NOT NULL REFERENCES measures(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        member_id INTEGER REFERENCES members(id),
        coordinator INTEGER,
        field TEXT NOT NULL,
        old TEXT,
        new TEXT
    ) STRICT;
    CREATE INDEX measure_changes_by_measure ON measure_changes (measure_id);

    CREATE TABLE measure_asks (
        id INTEGER PRIMARY KEY,
        measure_id INTEGER NOT NULL REFERENCES measures(id) ON DELETE CASCADE,
        month TEXT NOT NULL,
        member_id INTEGER REFERENCES members(id),
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        message_id INTEGER,
        error TEXT,
        UNIQUE (measure_id, month, member_id)
    ) STRICT;

    CREATE TABLE measure_prompts (
        member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
        batch INTEGER NOT NULL,
        created_at TEXT NOT NULL
    ) STRICT;
"""


MIGRATIONS: tuple[Migration, ...] = (
    m001_initial,
    m002_reminders,
    m003_submissions_and_settings,
    m004_hashed_invite_codes,
    m005_access_and_audit,
    m006_coordinator_invites,
    m007_rounds_carry_forward,
    m008_handovers_and_reasons,
    m009_plain_mode,
    m011_measures,
)

CREATE_MIGRATIONS = """
    CREATE TABLE IF NOT EXISTS _migrations (
        name TEXT PRIMARY KEY,
        applied_at TEXT NOT NULL
    )
"""


async def migrate(conn: aiosqlite.Connection) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; return their names."""
    await conn.execute(dedent(CREATE_MIGRATIONS))
    await _refuse_newer(conn)
    applied: list[str] = []
    for migration in MIGRATIONS:
        if await _apply(conn, migration):
            applied.append(migration.__name__)
    return applied


async def _apply(conn: aiosqlite.Connection, migration: Migration) -> bool:
    """Apply one migration unless recorded; return whether it ran."""
    name = migration.__name__
    await conn.execute("BEGIN IMMEDIATE")
    try:
        # Asked under the write lock, so two processes starting at once never both apply it.
        if await fetch_value(conn, "SELECT 1 FROM _migrations WHERE name = ?", (name,)):
            await conn.execute("ROLLBACK")
            return False
        await migration(conn)
        await conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, to_text(utc_now()))
        )
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return True


async def _refuse_newer(conn: aiosqlite.Connection) -> None:
    """Fail if the database was migrated by a newer version of this program."""
    known = {migration.__name__ for migration in MIGRATIONS}
    rows = await fetch_all(conn, "SELECT name FROM _migrations ORDER BY name")
    unknown = [row[0] for row in rows if row[0] not in known]
    if unknown:
        raise StorageError(
            f"the database has migrations this version does not know ({', '.join(unknown)}): "
            "it was used by a newer version of the bot; run that version or restore a backup"
        )
