"""PTB's own polling loop against the sandbox: /start, a button, an answered tap, an edit."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox import BotApiSandbox, CallbackAnswer


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    payload = " ".join(context.args or [])
    await update.message.reply_text(
        f"Welcome{', ' + payload if payload else ''}!",
        reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("Volunteer", callback_data="volunteer")
        ),
    )


async def volunteer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Thank you!")
    await query.edit_message_text("You are signed up.")


async def test_a_user_starts_taps_and_sees_the_edit(sandbox: BotApiSandbox, wait_until) -> None:
    application = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(volunteer, pattern="^volunteer$"))
    ann = sandbox.user(42, "Ann")
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await application.start()

        await ann.send("/start school-7")
        await wait_until(lambda: bool(ann.bot_messages))
        assert ann.last.text == "Welcome, school-7!"
        assert ann.last.labels() == ["Volunteer"]

        await ann.tap("Volunteer")
        await wait_until(lambda: ann.last.edited)
        assert ann.last.text == "You are signed up."
        assert ann.last.buttons == []
        assert ann.callback_answers == [CallbackAnswer(text="Thank you!", show_alert=False)]
        assert [m.text for m in ann.messages] == ["/start school-7", "You are signed up."]
        await sandbox.wait_confirmed(timeout=5)

        await application.updater.stop()
        await application.stop()
    methods = [call.method for call in sandbox.calls if call.method != "getUpdates"]
    assert methods == [
        "getMe",
        "deleteWebhook",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    ]
    # At most PTB's last long poll goes unanswered: the updater hangs up on it when it stops.
    abandoned = [(c.method, c.error_code) for c in sandbox.calls if not c.ok]
    assert abandoned in ([], [("getUpdates", None)])
