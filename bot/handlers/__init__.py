"""Handler registration, in one place; order matters where noted."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.commands import DIALOGUE_COMMANDS, all_names
from bot.handlers import coordination, dialogue, errors, general, joining, rounds

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add every handler to the application."""
    # order matters: coordinator commands first, since they also work in the coordination group.
    coordinator_commands = {
        "status": coordination.on_status,
        "bericht": coordination.on_report,
        "report": coordination.on_report,
        "export": coordination.on_export,
        "uebersicht": coordination.on_overview,
        "overview": coordination.on_overview,
        "heatmap": coordination.on_heatmap,
        "wiedereroeffnen": coordination.on_reopen,
        "reopen": coordination.on_reopen,
    }
    for name, callback in coordinator_commands.items():
        app.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))
    # /runde and /frist also work in the coordination group, so they come before the groups.
    for names, callback in ((["runde", "round"], rounds.on_round),
                            (["frist", "deadline"], rounds.on_deadline)):
        app.add_handler(CommandHandler(names, callback, filters=filters.UpdateType.MESSAGE))
    # order matters: groups are answered next, so nothing below ever runs for a group chat.
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, general.on_group))
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, general.on_added))
    app.add_handler(CommandHandler("start", joining.on_start, filters=PRIVATE))
    dialogue_names = [name for command in DIALOGUE_COMMANDS for name in all_names(command)]
    app.add_handler(CommandHandler(dialogue_names, dialogue.on_command, filters=PRIVATE))
    app.add_handler(CommandHandler(["hilfe", "help"], general.on_help, filters=PRIVATE))
    app.add_handler(CommandHandler(["sprache", "language"], general.on_language, filters=PRIVATE))
    app.add_handler(CommandHandler(["erinnerungen", "reminders"], rounds.on_reminders,
                                   filters=PRIVATE))
    # order matters: after every known command, so that only unknown ones land here.
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, general.on_unknown_command))
    app.add_handler(CallbackQueryHandler(dialogue.on_button))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT, dialogue.on_text))
    app.add_handler(MessageHandler(PRIVATE, general.on_not_text))
    app.add_handler(MessageHandler(
        filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, general.on_edited
    ))
    app.add_error_handler(errors.on_error)
