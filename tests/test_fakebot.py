"""The fake Bot API server and the Bot API validator, exercised with a real PTB Bot/Application."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from fakebot import (
    FakeBotApi,
    apispec,
    assert_requests_valid,
    parse_html,
    polling,
    require_api_spec,
    validate_request,
)
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

USER_ID = 1001
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Ja", callback_data="answer:yes")],
        [InlineKeyboardButton("Nein", callback_data="answer:no")],
    ]
)


def echo_application(server: FakeBotApi, seen: list[Update]) -> Application:
    """Build an Application that records updates and answers each kind of input."""

    async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        await update.effective_message.reply_text(f"start {context.args}", reply_markup=KEYBOARD)

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        message = update.effective_message
        kind = next(k for k in ("sticker", "photo", "voice", "document") if getattr(message, k))
        await message.reply_text(f"got {kind}")

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        query = update.callback_query
        await query.answer("ok")
        await query.edit_message_text(f"<b>chosen</b> {query.data}", parse_mode="HTML")

    application = server.application_builder().build()
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    media = filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.Document.ALL
    application.add_handler(MessageHandler(media, on_media))
    application.add_handler(CallbackQueryHandler(on_press))
    return application


# ------------------------------------------------------------------------------ plain Bot


async def test_get_me_through_a_real_bot(fake_bot_api: FakeBotApi) -> None:
    bot = Bot("123456:TEST-token-abcdefghijklmnopqrstuvwxyz", base_url=fake_bot_api.base_url)
    async with bot:
        me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (42, "chancencheck_test_bot", True)
    assert [r.method for r in fake_bot_api.requests] == ["getMe", "getMe"]


async def test_wrong_token_is_unauthorized(fake_bot_api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=fake_bot_api.base_url):
            pass
    assert fake_bot_api.requests == []  # rejected calls are not recorded


async def test_send_message_with_keyboard_is_recorded_decoded_and_valid(
    fake_bot_api: FakeBotApi,
) -> None:
    fake_bot_api.user(USER_ID)
    async with fake_bot_api.bot() as bot:
        sent = await bot.send_message(
            USER_ID, "<b>Frage</b> 1 &amp; 2", parse_mode="HTML", reply_markup=KEYBOARD
        )
        plain = await bot.send_message(USER_ID, "123")

    assert sent.text == "Frage 1 & 2" and sent.entities[0].type == "bold"
    assert sent.reply_markup == KEYBOARD
    (request, second) = fake_bot_api.calls("sendMessage")
    assert request.params["chat_id"] == USER_ID
    assert request.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "answer:yes"
    # PTB form-encodes "123" raw; decoding by the spec keeps a String field a string.
    assert second.params["text"] == "123" and plain.message_id == sent.message_id + 1
    assert validate_request(request.method, request.params) == []
    shown = fake_bot_api.chat_messages(USER_ID)[0]
    assert shown.visible_text == "Frage 1 & 2" and shown.button_labels == ["Ja", "Nein"]


async def test_set_and_get_my_commands(fake_bot_api: FakeBotApi) -> None:
    async with fake_bot_api.bot() as bot:
        await bot.set_my_commands([BotCommand("start", "Check beginnen")], language_code="de")
        assert await bot.get_my_commands(language_code="de") == (
            BotCommand("start", "Check beginnen"),
        )
        await bot.delete_my_commands(language_code="de")
        assert await bot.get_my_commands(language_code="de") == ()


async def test_other_methods_answer_what_ptb_can_read(fake_bot_api: FakeBotApi) -> None:
    group = fake_bot_api.user(USER_ID).in_group(-5, "Team")
    async with fake_bot_api.bot() as bot:
        chat = await bot.get_chat(-5)
        assert (chat.id, chat.type, chat.title) == (-5, "group", "Team")
        assert await bot.send_chat_action(USER_ID, "typing") is True
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.delete_webhook(drop_pending_updates=True) is True
        assert await bot.leave_chat(-5) is True
        with pytest.raises(Forbidden, match="not a member"):
            await bot.send_message(group.chat_id, "still here?")
        assert await bot.log_out() is True
        assert await bot.close() is True


async def test_raw_get_json_and_injected_updates() -> None:
    async with FakeBotApi() as server, aiohttp.ClientSession() as http:
        url = f"{server.base_url}{server.token}"
        async with http.get(f"{url}/getMe") as response:
            assert (await response.json())["result"]["username"] == "chancencheck_test_bot"
        server.user(USER_ID)
        payload = {"chat_id": USER_ID, "text": "123", "disable_notification": True}
        async with http.post(f"{url}/sendMessage", json=payload) as response:
            assert (await response.json())["result"]["text"] == "123"
        assert server.calls("sendMessage")[0].params == payload  # JSON bodies stay typed
        async with http.post(f"{url}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.post(f"{server.base_url}wrong/getMe") as response:
            assert response.status == 401 and (await response.json())["error_code"] == 401
        server.inject({"update_id": 500, "edited_message": {"raw": True}})
        server.inject({"message_reaction": {}})  # opt-in type, not delivered by default
        async with http.get(f"{url}/getUpdates", params={"offset": "0"}) as response:
            updates = (await response.json())["result"]
        assert updates == [{"update_id": 500, "edited_message": {"raw": True}}]


async def test_document_upload_is_stored_and_downloadable(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.user(USER_ID)
    content = "Bericht äöü\n".encode()
    async with fake_bot_api.bot() as bot:
        message = await bot.send_document(
            USER_ID,
            InputFile(content, filename="bericht.txt"),
            caption="<i>Ihr Bericht</i>",
            parse_mode="HTML",
        )
        photo = await bot.send_photo(USER_ID, b"\x89PNG fake", caption="Bild")
        downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()

    assert message.document.file_name == "bericht.txt" and message.caption == "Ihr Bericht"
    assert photo.photo[0].file_size == len(b"\x89PNG fake")
    document, picture = fake_bot_api.sent_to(USER_ID)
    assert document.file == ("bericht.txt", content) and document.kind == "document"
    assert picture.kind == "photo" and picture.file[1] == b"\x89PNG fake"
    assert fake_bot_api.calls("sendDocument")[0].files["document"] == ("bericht.txt", content)
    assert bytes(downloaded) == content


async def test_edits_behave_like_telegram(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.user(USER_ID)
    async with fake_bot_api.bot() as bot:
        sent = await bot.send_message(USER_ID, "eins", reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("eins", USER_ID, sent.message_id, reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match="to edit not found"):
            await bot.edit_message_text("zwei", USER_ID, 999)
        await bot.edit_message_text("zwei", USER_ID, sent.message_id)  # drops the keyboard
        await bot.edit_message_reply_markup(USER_ID, sent.message_id, reply_markup=KEYBOARD)
        await bot.delete_message(USER_ID, sent.message_id)
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(USER_ID + 1, "wer?")

    (original,) = fake_bot_api.sent_to(USER_ID)
    assert original.visible_text == "eins" and original.button_labels == ["Ja", "Nein"]
    states = [
        r.result.get("reply_markup")
        for r in fake_bot_api.requests
        if r.method.startswith("edit") and r.status == 200
    ]
    assert states == [None, KEYBOARD.to_dict()]
    assert fake_bot_api.chat_messages(USER_ID) == []  # deleted


async def test_get_updates_honours_offset_limit_timeout_and_allowed_updates(
    fake_bot_api: FakeBotApi,
) -> None:
    user = fake_bot_api.user(USER_ID)
    ids = [user.send(f"m{n}")["update_id"] for n in range(3)]
    async with fake_bot_api.bot() as bot:
        assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
        assert [u.update_id for u in await bot.get_updates(offset=ids[2])] == ids[2:]
        assert await bot.get_updates(offset=ids[2] + 1) == ()

        started = time.monotonic()
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, user.send, "late")
        (late,) = await bot.get_updates(offset=ids[2] + 1, timeout=3)
        assert late.message.text == "late" and time.monotonic() - started < 1.5

        user.send("filtered away")
        assert (
            await bot.get_updates(offset=late.update_id + 1, allowed_updates=["callback_query"])
            == ()
        )
    assert fake_bot_api.updates == []


async def test_second_long_poll_ends_the_first_with_conflict(fake_bot_api: FakeBotApi) -> None:
    async with fake_bot_api.bot() as bot:
        first = asyncio.create_task(bot.get_updates(timeout=3))
        await fake_bot_api.wait_for(lambda r: r.method == "getUpdates")
        # A second bot instance: PTB's getUpdates connection pool holds a single connection.
        async with fake_bot_api.bot() as other:
            await other.get_updates(timeout=0)
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first


# ------------------------------------------------------------------------------ Application


async def test_application_answers_commands_texts_media_and_groups(
    fake_bot_api: FakeBotApi,
) -> None:
    seen: list[Update] = []
    user = fake_bot_api.user(USER_ID, first_name="Anna")
    async with polling(echo_application(fake_bot_api, seen)):
        answer = await user.send_and_wait("/start abc")
        assert [r.method for r in answer] == ["sendMessage"]
        assert user.last_message().visible_text == "start ['abc']"
        assert seen[0].effective_message.entities[0].type == "bot_command"

        await user.send_and_wait("Hallo")
        for inject in (user.send_sticker, user.send_photo, user.send_voice, user.send_document):
            await user.wait_answered(inject())
        group = user.in_group(-100777, "Team", type="supergroup")
        await group.send_and_wait("/start@chancencheck_test_bot")

    texts = [m.visible_text for m in fake_bot_api.sent_to(USER_ID)]
    assert texts == [
        "start ['abc']",
        "echo: Hallo",
        "got sticker",
        "got photo",
        "got voice",
        "got document",
    ]
    assert (
        seen[-1].effective_chat.type == "supergroup"
        and seen[-1].effective_user.first_name == "Anna"
    )
    assert fake_bot_api.chat_messages(-100777)[0].visible_text == "start []"


async def test_button_press_arrives_as_callback_query(fake_bot_api: FakeBotApi) -> None:
    seen: list[Update] = []
    user = fake_bot_api.user(USER_ID)
    async with polling(echo_application(fake_bot_api, seen)):
        await user.send_and_wait("/start")
        question = user.last_message()
        answer = await user.press_and_wait(question.message_id, "answer:no")

    query = seen[-1].callback_query
    assert query.data == "answer:no" and query.message.text == "start []"
    assert query.message.reply_markup == KEYBOARD
    assert [r.method for r in answer] == ["answerCallbackQuery", "editMessageText"]
    assert fake_bot_api.callback_queries[query.id]["text"] == "ok"
    shown = user.last_message()
    assert (shown.message_id, shown.visible_text, shown.buttons) == (
        question.message_id,
        "chosen answer:no",
        [],
    )
    with pytest.raises(ValueError, match="no button"):
        user.press(question.message_id, "answer:yes")  # the edit removed the keyboard


async def test_press_button_by_label(fake_bot_api: FakeBotApi) -> None:
    user = fake_bot_api.user(USER_ID)
    async with polling(echo_application(fake_bot_api, [])):
        await user.send_and_wait("/start")
        await user.press_button_and_wait("Ja")
    assert user.last_message().visible_text == "chosen answer:yes"


async def test_wait_for_times_out_with_recent_requests(fake_bot_api: FakeBotApi) -> None:
    with pytest.raises(TimeoutError, match="matching request"):
        await fake_bot_api.wait_for(lambda r: r.method == "sendMessage", timeout=0.05)


# ------------------------------------------------------------------------------ faults


# PTB itself warns about RetryAfter's int retry_after when it builds the exception.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_429_raises_retry_after_once(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.user(USER_ID)
    fake_bot_api.fail_next("sendMessage", 429, retry_after=7)
    async with fake_bot_api.bot() as bot:
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(USER_ID, "a")
        # int in PTB 22; timedelta once PTB_TIMEDELTA is set (the bot package sets it)
        assert raised.value.retry_after in (7, timedelta(seconds=7))
        await bot.send_message(USER_ID, "b")
    assert [r.status for r in fake_bot_api.calls("sendMessage")] == [429, 200]
    assert [m.visible_text for m in fake_bot_api.sent_to(USER_ID)] == ["b"]


async def test_fail_next_500_and_drop_next(fake_bot_api: FakeBotApi) -> None:
    user = fake_bot_api.user(USER_ID)
    fake_bot_api.fail_next("sendMessage", 500, count=2)
    async with fake_bot_api.bot() as bot:
        for _ in range(2):
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(USER_ID, "a")
        fake_bot_api.drop_next("sendMessage")
        with pytest.raises(NetworkError, match="disconnected"):
            await bot.send_message(USER_ID, "lost")
        fake_bot_api.drop_next("sendMessage", after_processing=True)
        with pytest.raises(NetworkError, match="disconnected"):
            await bot.send_message(USER_ID, "sent, answer lost")
        user.block()
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(USER_ID, "blocked")
    assert [r.status for r in fake_bot_api.calls("sendMessage")] == [500, 500, 0, 0, 403]
    assert [m.visible_text for m in fake_bot_api.sent_to(USER_ID)] == ["sent, answer lost"]


# ------------------------------------------------------------------------------ validator


def test_validator_reports_unknown_method_and_fields() -> None:
    require_api_spec()
    assert validate_request("sendMesage", {}) == ["sendMesage: unknown Bot API method"]
    assert any(
        "spelled 'sendMessage'" in p
        for p in validate_request("sendmessage", {"chat_id": 1, "text": "x"})
    )
    missing = validate_request("sendMessage", {"chat_id": 1})
    assert missing == ["sendMessage: required field 'text' is missing"]
    unknown = validate_request("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"})
    assert unknown == ["sendMessage: unknown field 'colour'"]
    edit = validate_request("editMessageText", {"text": "x"})
    assert {p.split("'")[1] for p in edit} == {"chat_id", "message_id", "inline_message_id"}


def test_validator_checks_types() -> None:
    require_api_spec()
    problems = validate_request(
        "sendMessage", {"chat_id": [1], "text": "x", "disable_notification": "yes"}
    )
    assert problems == [
        "sendMessage.chat_id: expected Integer or String, got array",
        "sendMessage.disable_notification: expected Boolean, got string 'yes'",
    ]
    assert (
        validate_request("sendDocument", {"chat_id": 1}, files={"document": ("a.pdf", b"x")}) == []
    )
    assert validate_request("sendDocument", {"chat_id": 1}) == [
        "sendDocument: required field 'document' is missing"
    ]


def test_validator_checks_text_limits_in_utf16_after_parsing() -> None:
    require_api_spec()
    assert validate_request("sendMessage", {"chat_id": 1, "text": "x" * 4096}) == []
    (too_long,) = validate_request("sendMessage", {"chat_id": 1, "text": "x" * 4097})
    assert "4097 characters" in too_long and "1-4096" in too_long
    # An emoji outside the BMP is two UTF-16 code units, as Telegram counts.
    assert validate_request("sendMessage", {"chat_id": 1, "text": "😀" * 2049}) != []
    markup = "<b>" + "x" * 4096 + "</b>"
    assert (
        validate_request("sendMessage", {"chat_id": 1, "text": markup, "parse_mode": "HTML"}) == []
    )
    assert (
        validate_request("sendMessage", {"chat_id": 1, "text": "<b> </b>", "parse_mode": "HTML"})
        != []
    )
    caption = {"chat_id": 1, "document": "file-id", "caption": "c" * 1025}
    assert "0-1024" in validate_request("sendDocument", caption)[0]
    assert (
        validate_request("answerCallbackQuery", {"callback_query_id": "1", "text": "t" * 200}) == []
    )
    assert (
        validate_request("answerCallbackQuery", {"callback_query_id": "1", "text": "t" * 201}) != []
    )


def test_validator_checks_nested_keyboards_and_commands() -> None:
    require_api_spec()

    def keyboard(*buttons: dict) -> dict:
        return {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [list(buttons)]}}

    assert validate_request("sendMessage", keyboard({"text": "a", "callback_data": "d" * 64})) == []
    (too_long,) = validate_request(
        "sendMessage", keyboard({"text": "a", "callback_data": "d" * 65})
    )
    assert "callback_data: 65 bytes, allowed 1-64" in too_long
    assert "64 bytes" not in str(
        validate_request("sendMessage", keyboard({"text": "a", "callback_data": "ä" * 32}))
    )
    (no_action,) = validate_request("sendMessage", keyboard({"text": "a"}))
    assert "exactly one of" in no_action and "callback_data" in no_action
    (two,) = validate_request(
        "sendMessage", keyboard({"text": "a", "callback_data": "d", "url": "https://x.y"})
    )
    assert "got ['callback_data', 'url']" in two
    (unknown,) = validate_request(
        "sendMessage", keyboard({"text": "a", "callback_data": "d", "colour": "red"})
    )
    assert "unknown field 'colour'" in unknown
    reply = {"chat_id": 1, "text": "x", "reply_markup": {"keyboard": [["Ja", {"text": "Nein"}]]}}
    assert validate_request("sendMessage", reply) == []

    def commands(command: str, description: str = "Beschreibung") -> list[str]:
        return validate_request(
            "setMyCommands", {"commands": [{"command": command, "description": description}]}
        )

    assert commands("start_check") == []
    assert "a-z, 0-9 and _" in commands("Start")[0]
    assert "1-32" in commands("c" * 33)[0]
    assert "1-256" in commands("start", "d" * 257)[0]
    scope = {"commands": [], "scope": {"type": "chat", "chat_id": 5}}
    assert validate_request("setMyCommands", scope) == []
    scope["scope"] = {"type": "chat"}
    assert "chat_id" in str(validate_request("setMyCommands", scope))


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ("<b>x", 'end tag corresponding to start tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("Tom & Jerry", "unescaped '&'"),
        ("a < b", "Unsupported start tag"),
        ("a > b", "unescaped '>'"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("x&nbsp;y", "unsupported HTML entity &nbsp;"),
        ('<span class="bold">x</span>', 'must have class "tg-spoiler"'),
        ('<a href="https://x.y" target="_blank">x</a>', 'attribute "target"'),
        ('<code class="language-py">x</code>', "needs <pre><code"),
        ("<br/>", 'Unsupported start tag "br"'),
    ],
)
def test_validator_rejects_bad_html(markup: str, problem: str) -> None:
    require_api_spec()
    problems = validate_request("sendMessage", {"chat_id": 1, "text": markup, "parse_mode": "HTML"})
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "markup",
    [
        "<b>a &amp; b</b>",
        "&lt;tag&gt; &quot;q&quot; &#228; &#x1F600;",
        '<a href="https://example.org/?a=1&amp;b=2">Link</a>',
        '<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler>',
        '<pre><code class="language-python">print(1)</code></pre>',
        "<blockquote expandable>lang</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        '<tg-time unix="1647531900" format="wDT">morgen</tg-time>',
        "<b>fett <i>kursiv <u>unter</u> <s>durch</s></i></b>",
    ],
)
def test_validator_accepts_valid_html(markup: str) -> None:
    require_api_spec()
    assert (
        validate_request("sendMessage", {"chat_id": 1, "text": markup, "parse_mode": "HTML"}) == []
    )


def test_html_parsing_yields_telegram_entities() -> None:
    parsed = parse_html(' <b>a &amp; <i>😀b</i></b> <a href="https://x.y">c</a> ')
    assert parsed.text == "a & 😀b c" and parsed.errors == parsed.warnings == []
    assert parsed.entities == [
        {"type": "bold", "offset": 0, "length": 7},
        {"type": "italic", "offset": 4, "length": 3},
        {"type": "text_link", "offset": 8, "length": 1, "url": "https://x.y"},
    ]


async def test_invalid_requests_are_answered_like_telegram_and_fail_the_check() -> None:
    require_api_spec()
    async with FakeBotApi() as server:
        server.user(USER_ID)
        async with server.bot() as bot:
            with pytest.raises(BadRequest, match='(?i)can\'t parse entities.*start tag "b"'):
                await bot.send_message(USER_ID, "<b>x", parse_mode="HTML")
            await bot.send_message(USER_ID, "ok", api_kwargs={"colour": "red"})
    with pytest.raises(
        pytest.fail.Exception, match=r"request #1: sendMessage.text: HTML"
    ) as failed:
        assert_requests_valid(server.requests)
    assert "request #2: sendMessage: unknown field 'colour'" in str(failed.value)


def test_missing_spec_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(apispec, "SPEC_PATH", tmp_path / "api.json")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="it lives in ../shared beside the repository"):
        require_api_spec()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Bot API spec not found at .*api.json"):
        require_api_spec()


async def test_reply_to_unknown_message_is_rejected(fake_bot_api: FakeBotApi) -> None:
    user = fake_bot_api.user(USER_ID)
    asked = user.send("Frage")["message"]["message_id"]
    async with fake_bot_api.bot() as bot:
        await bot.send_message(USER_ID, "Antwort", reply_to_message_id=asked)
        with pytest.raises(BadRequest, match="(?i)replied not found"):
            await bot.send_message(USER_ID, "Antwort", reply_to_message_id=asked + 100)
