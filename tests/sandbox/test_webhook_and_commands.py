"""Webhook delivery (with the secret header, retried until 2xx) and the command menu's scopes."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.sandbox import BotApiSandbox


def exactly(message: str) -> str:
    """A pytest.raises pattern for the whole message, taken literally."""
    return f"^{re.escape(message)}$"


SECRET = "s3cret-Token_1"


@dataclass
class Receiver:
    """A bot's webhook endpoint, reduced to what it received."""

    failures_left: int = 0
    updates: list[dict[str, object]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    url: str = ""


class _Hook(tornado.web.RequestHandler):
    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def post(self) -> None:
        self.receiver.secrets.append(self.request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if self.receiver.failures_left > 0:
            self.receiver.failures_left -= 1
            self.set_status(500)
            return
        self.receiver.updates.append(json.loads(self.request.body))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application([(r"/hook", _Hook, {"receiver": hook})])
    )
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    hook.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
    yield hook
    server.stop()
    await server.close_all_connections()


async def test_webhook_delivers_with_the_secret_and_retries(
    bot: Bot, sandbox: BotApiSandbox, receiver: Receiver
) -> None:
    ann = sandbox.user(1, "Ann")
    early = await ann.send("before the webhook")
    receiver.failures_left = 1
    assert await bot.set_webhook(receiver.url, secret_token=SECRET)
    assert (sandbox.webhook_url, sandbox.webhook_secret) == (receiver.url, SECRET)
    later = await ann.send("after")
    await sandbox.wait_confirmed(timeout=5)
    assert sorted(u["update_id"] for u in receiver.updates) == [early, later]
    assert set(receiver.secrets) == {SECRET}
    assert len(receiver.secrets) == 3  # one failed delivery, retried
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (receiver.url, 0)
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    await bot.delete_webhook()
    third = await ann.send("polling again")
    assert [u.update_id for u in await bot.get_updates()] == [third]


async def test_drop_pending_updates(bot: Bot, sandbox: BotApiSandbox, receiver: Receiver) -> None:
    ann = sandbox.user(1, "Ann")
    await ann.send("stale")
    await bot.set_webhook(receiver.url, drop_pending_updates=True)
    await sandbox.wait_confirmed(timeout=1)
    assert receiver.updates == []
    await bot.delete_webhook()
    await ann.send("fresh")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_ptb_webhook_mode_works_against_the_sandbox(
    sandbox: BotApiSandbox, wait_until
) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    application = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    port = _free_port()
    ann = sandbox.user(1, "Ann")
    async with application:
        assert application.updater is not None
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="tg",
            webhook_url=f"http://127.0.0.1:{port}/tg",
            secret_token=SECRET,
        )
        await application.start()
        await ann.send("hello")
        await wait_until(lambda: bool(ann.bot_messages))
        assert ann.last.text == "echo: hello"
        await sandbox.wait_confirmed(timeout=2)
        await application.updater.stop()
        await application.stop()


async def test_command_menus_follow_scope_precedence(bot: Bot, sandbox: BotApiSandbox) -> None:
    ann = sandbox.user(1, "Ann")
    coordinator = sandbox.user(2, "Cora")
    anke = sandbox.user(3, "Anke", language_code="de")
    group = sandbox.group(-10, "Crew")
    assert ann.commands == []
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    assert ann.commands == [("start", "Start"), ("help", "Help")]
    assert sandbox.commands_for(group.id) == [("start", "Start"), ("help", "Help")]
    await bot.set_my_commands([("rota", "My rota")], scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(
        [("rota", "Mein Dienstplan")], scope=BotCommandScopeAllPrivateChats(), language_code="de"
    )
    await bot.set_my_commands([("triage", "Triage")], scope=BotCommandScopeChat(coordinator.id))
    await bot.set_my_commands([("wins", "Wins")], scope=BotCommandScopeAllGroupChats())
    assert ann.commands == [("rota", "My rota")]
    assert anke.commands == [("rota", "Mein Dienstplan")]
    assert coordinator.commands == [("triage", "Triage")]
    assert sandbox.commands_for(group.id) == [("wins", "Wins")]
    stored = await bot.get_my_commands(scope=BotCommandScopeChat(coordinator.id))
    assert [(c.command, c.description) for c in stored] == [("triage", "Triage")]
    assert await bot.get_my_commands(language_code="fr") == ()
    await bot.delete_my_commands(scope=BotCommandScopeChat(coordinator.id))
    assert coordinator.commands == [("rota", "My rota")]
    # An empty list clears a scope too, so the next one down shows.
    await bot.set_my_commands([], scope=BotCommandScopeAllPrivateChats())
    assert ann.commands == [("start", "Start"), ("help", "Help")]


async def test_bad_commands_are_refused(bot: Bot, sandbox: BotApiSandbox) -> None:
    with pytest.raises(BadRequest, match=exactly("Bot_command_invalid")):
        await bot.set_my_commands([("Start", "Capital letters are not allowed")])
    with pytest.raises(BadRequest, match=exactly("Bot_command_invalid")):
        await bot.set_my_commands([("sign-up", "Hyphens neither")])
    with pytest.raises(BadRequest, match=exactly("Command description must be non-empty")):
        await bot.set_my_commands([("start", "")])
    with pytest.raises(BadRequest, match=exactly("Chat not found")):
        await bot.set_my_commands([("start", "Start")], scope=BotCommandScopeChat(777))
