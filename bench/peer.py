"""The peer: the check as a bot written from python-telegram-bot's own examples would do it.

    python -m bench.peer --base-url http://127.0.0.1:PORT --catalogue PATH --data FILE

In the style of PTB's conversationbot.py and persistentconversationbot.py: a
ConversationHandler with one callback per step, answers kept in `user_data`, PicklePersistence
(written every `update_interval`, so no durable commit per answer), PTB's default sequential
processing and no rate limiter. The same catalogue, questions and buttons (callback data) as
the ChancenCheck bot, so that bench.process drives both with the same members. Only a
benchmark's yardstick: no reminders, no shared checks, no progress, no transcript rules.
"""

from __future__ import annotations

import argparse
import logging
from html import escape
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PersistenceInput,
    PicklePersistence,
    filters,
)

from bot.catalogue import load_catalogue
from dialogues.catalogue import Catalogue, Question

ASKING, CONFIRMING = range(2)
QUESTIONS = ("rating", "improve", "measures")  # the three questions of every requirement
DESCRIBE = "Bitte beschreiben Sie kurz, was sich verbessern ließe."


class Peer:
    """The check's questions as a flat list; the member's place and answers in user_data."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.steps = [(r, n) for r in catalogue.requirements for n in range(3)]

    def question(self, index: int) -> tuple[str, InlineKeyboardMarkup]:
        requirement, number = self.steps[index]
        question = self.catalogue.questions[number]
        at = f"{requirement.id}.{number}"
        text = f"<b>{escape(requirement.title.de)}</b>\n{escape(requirement.text.de)}\n\n"
        text += escape(question.text.de)
        return text, InlineKeyboardMarkup(_rows(self._options(question, at)))

    def _options(self, question: Question, at: str) -> list[InlineKeyboardButton]:
        if number_of(at) == 0:
            return [
                InlineKeyboardButton(step.label.de, callback_data=f"c:{at}:{step.key}")
                for step in self.catalogue.scale
            ]
        if number_of(at) == 1:
            return [
                InlineKeyboardButton(_de(question.yes, "Ja"), callback_data=f"c:{at}:yes"),
                InlineKeyboardButton(_de(question.no, "Nein"), callback_data=f"c:{at}:no"),
            ]
        return [InlineKeyboardButton(_de(question.none, "Keine"), callback_data=f"c:{at}:none")]


def number_of(at: str) -> int:
    return int(at.rpartition(".")[2])


def _de(text: object, default: str) -> str:
    return getattr(text, "de", None) or default


def _rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None and context.user_data is not None
    context.user_data.clear()
    context.user_data.update(index=0, answers={})
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Los geht's", callback_data="r")]])
    await update.message.reply_text("Willkommen zum Selbstcheck!", reply_markup=markup)
    return ASKING


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None and context.user_data is not None
    await query.answer()
    peer: Peer = context.bot_data["peer"]
    data = context.user_data
    if query.data == "r":
        await query.edit_message_reply_markup(None)
        return await ask(update, context, peer)
    _, at, value = query.data.split(":")
    data["answers"][at] = value
    await query.edit_message_text(f"{escape(at)}: <b>{escape(value)}</b>", parse_mode="HTML")
    if value == "yes":  # the description comes next, typed; "no" still changes the answer
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Nein", callback_data=f"c:{at}:no")]])
        await context.bot.send_message(query.message.chat.id, DESCRIBE, reply_markup=markup)  # type: ignore[union-attr]
        data["describing"] = at
        return ASKING
    data["index"] += 1
    return await ask(update, context, peer)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None and context.user_data is not None
    peer: Peer = context.bot_data["peer"]
    data = context.user_data
    at = data.pop("describing", None) or "{}.{}".format(*_where(peer, data["index"]))
    data["answers"][at] = update.message.text
    data["index"] += 1
    return await ask(update, context, peer)


def _where(peer: Peer, index: int) -> tuple[str, int]:
    requirement, number = peer.steps[min(index, len(peer.steps) - 1)]
    return requirement.id, number


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, peer: Peer) -> int:
    assert update.effective_chat is not None and context.user_data is not None
    index = context.user_data["index"]
    if index >= len(peer.steps):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Absenden", callback_data="s")]])
        await context.bot.send_message(update.effective_chat.id, "Fertig!", reply_markup=markup)
        return CONFIRMING
    text, markup = peer.question(index)
    await context.bot.send_message(
        update.effective_chat.id, text, reply_markup=markup, parse_mode="HTML"
    )
    return ASKING


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    if query.data == "s":
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja, absenden", callback_data="y")]])
        await query.edit_message_reply_markup(None)
        await query.message.reply_text("Wirklich absenden?", reply_markup=markup)
        return CONFIRMING
    await query.edit_message_text("Abgesendet. Danke!")
    return ConversationHandler.END


def build(base_url: str, token: str, catalogue: Catalogue, data: Path) -> Application:  # type: ignore[type-arg]
    app = (
        Application.builder()
        .token(token)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .persistence(PicklePersistence(filepath=data, store_data=PersistenceInput(bot_data=False)))
        .build()
    )
    app.bot_data["peer"] = Peer(catalogue)
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                ASKING: [
                    CallbackQueryHandler(on_button),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
                ],
                CONFIRMING: [CallbackQueryHandler(confirm)],
            },
            fallbacks=[CommandHandler("start", start)],
            name="check",
            persistent=True,
        )
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--catalogue", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app = build(args.base_url, args.token, load_catalogue(args.catalogue), args.data)
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
