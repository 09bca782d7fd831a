"""Handler registration, in one place; order matters where noted."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.render.commands import DIALOGUE_COMMANDS, all_names
from bot.telegram.context import BotApp
from bot.telegram.handlers import (
    coordination,
    cycles,
    dialogue,
    errors,
    general,
    handover,
    institutions,
    joining,
    measures,
    onboarding,
    privacy,
    rounds,
)

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
# Coordinators' commands for institutions and members (German name, English alias).
INSTITUTION_COMMANDS = (
    (["institution_neu", "institution_new"], institutions.on_add),
    (["institution_umbenennen", "institution_rename"], institutions.on_rename),
    (["institution_entfernen", "institution_remove"], institutions.on_remove),
    (["einladung", "invite"], institutions.on_invite),
    (["mitglieder", "members"], institutions.on_members),
    (["mitglied_entfernen", "member_remove"], institutions.on_remove_member),
)
# Everyone's own data, in the private chat only.
PRIVACY_COMMANDS = (
    (["meinedaten", "mydata"], privacy.on_my_data),
    (["loeschen", "delete"], privacy.on_erase),
    (["austreten", "leave"], privacy.on_leave),
)


def register(app: BotApp) -> None:
    """Add every handler to the application."""
    # order matters: group -1 runs before every other handler, so each update sees the
    # coordinators the CLI stored up to now.
    app.add_handler(TypeHandler(Update, institutions.on_any_update), group=-1)
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
        "koordinationsgruppe": onboarding.on_register_group,
        # The group is called Koordinierungsgruppe everywhere else, so that name works too.
        "koordinierungsgruppe": onboarding.on_register_group,
        "coordination_group": onboarding.on_register_group,
        "runde_oeffnen": cycles.on_open_round,
        "open_round": cycles.on_open_round,
        "runde_schliessen": cycles.on_close_round,
        "close_round": cycles.on_close_round,
    }
    for name, callback in coordinator_commands.items():
        app.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))
    for names, callback in INSTITUTION_COMMANDS:
        app.add_handler(CommandHandler(names, callback, filters=filters.UpdateType.MESSAGE))
    # /runde and /frist also work in the coordination group, so they come before the groups.
    for names, callback in (
        (["runde", "round"], rounds.on_round),
        (["frist", "deadline"], rounds.on_deadline),
    ):
        app.add_handler(CommandHandler(names, callback, filters=filters.UpdateType.MESSAGE))
    # /massnahmen: coordinators also in the coordination group; members in private.
    app.add_handler(
        CommandHandler(
            ["massnahmen", "measures"], measures.on_measures, filters=filters.UpdateType.MESSAGE
        )
    )
    # order matters: groups are answered next, so nothing below ever runs for a group chat.
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, general.on_group))
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, general.on_added))
    app.add_handler(CommandHandler("start", joining.on_start, filters=PRIVATE))
    app.add_handler(CommandHandler("id", onboarding.on_id, filters=PRIVATE))
    dialogue_names = [name for command in DIALOGUE_COMMANDS for name in all_names(command)]
    app.add_handler(CommandHandler(dialogue_names, dialogue.on_command, filters=PRIVATE))
    app.add_handler(
        CommandHandler(["weitergeben", "handover"], handover.on_command, filters=PRIVATE)
    )
    app.add_handler(CommandHandler(["hilfe", "help"], general.on_help, filters=PRIVATE))
    app.add_handler(CommandHandler(["sprache", "language"], general.on_language, filters=PRIVATE))
    app.add_handler(
        CommandHandler(["barrierefrei", "accessible"], general.on_accessible, filters=PRIVATE)
    )
    app.add_handler(
        CommandHandler(["erinnerungen", "reminders"], rounds.on_reminders, filters=PRIVATE)
    )
    for names, callback in PRIVACY_COMMANDS:
        app.add_handler(CommandHandler(names, callback, filters=PRIVATE))
    # order matters: after every known command, so that only unknown ones land here.
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, general.on_unknown_command))
    # order matters: before the dialogue's buttons, which take any other callback data.
    app.add_handler(CallbackQueryHandler(privacy.on_button, pattern=privacy.CALLBACK_PATTERN))
    app.add_handler(CallbackQueryHandler(cycles.on_close_button, pattern=cycles.CALLBACK_PATTERN))
    app.add_handler(
        CallbackQueryHandler(coordination.on_compare_button, pattern=coordination.COMPARE_PATTERN)
    )
    app.add_handler(CallbackQueryHandler(measures.on_button, pattern=measures.CALLBACK_PATTERN))
    app.add_handler(CallbackQueryHandler(dialogue.on_button))
    # measures.on_text takes an owner's name when one was asked for, else hands to the dialogue.
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT, measures.on_text))
    app.add_handler(MessageHandler(PRIVATE, general.on_not_text))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, general.on_edited
        )
    )
    app.add_error_handler(errors.on_error)
