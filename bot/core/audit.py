"""The audit log from the bot's side: record a coordinator's action, and show entries."""

from __future__ import annotations

import json

import storage
from bot.services import Services


async def coordinator_action(
    s: Services,
    actor: storage.Actor,
    action: str,
    *,
    institution_id: int | None = None,
    cycle_id: int | None = None,
) -> None:
    """Record that the coordinator did something (such as view a report) in its own commit."""
    async with s.db.transaction():
        await storage.record_audit(
            s.db, actor, action, s.clock(), institution_id=institution_id, cycle_id=cycle_id
        )


def describe(entry: storage.AuditEntry) -> str:
    """Return one line of `chancencheck audit`: when, who, what, about which."""
    who = {
        "member": f"member #{entry.actor_id}"
        + (f" ({entry.actor_name})" if entry.actor_name else ""),
        "coordinator": f"coordinator {entry.actor_id}",
    }.get(entry.actor_kind, entry.actor_kind)
    if entry.actor_kind in ("member", "coordinator") and entry.actor_id is None:
        who = f"{entry.actor_kind} (erased)"
    about = [entry.institution, entry.cycle and f"round {entry.cycle!r}"]
    if entry.answer_id is not None:
        about.append(f"{entry.question or 'deleted answer'} (answer #{entry.answer_id})")
    if entry.member_id is not None and entry.actor_id != entry.member_id:
        about.append(f"member #{entry.member_id}")
    if entry.subject_user_id is not None:
        about.append(f"user {entry.subject_user_id}")
    if entry.detail:
        about.append(json.dumps(entry.detail, ensure_ascii=False, sort_keys=True))
    stamp = entry.at.strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp}  {who:<28} {entry.action:<20} {' '.join(a for a in about if a)}".rstrip()
