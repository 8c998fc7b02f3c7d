"""The sandbox's HTTP face (a Bot API server on loopback) and its Python face for tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.sandbox import wire
from bot.sandbox.methods import BotApiMethods, Params, Upload
from bot.sandbox.models import ApiCall, ApiError, JsonDict, RateLimits, SimMessage
from bot.sandbox.people import SimGroup, SimUser
from bot.sandbox.state import ChatState, FailureRule, World
from bot.sandbox.webhook import WebhookDelivery

logger = logging.getLogger(__name__)

# Made up, for a fake server, but shaped like a real one so `lunchbot run` accepts it too.
DEFAULT_TOKEN = "123456:SANDBOX-TOKEN-not-a-real-secret-0000"  # noqa: S105
TOKEN_PATTERN = re.compile(r"\d+:[A-Za-z0-9_-]+")
GROUP_KINDS = frozenset({"group", "supergroup", "channel"})
STOP_TIMEOUT_SECONDS = 5.0
HTTP_OK = 200


class _ApiHandler(tornado.web.RequestHandler):
    """``/bot<token>/<method>``: one Bot API call."""

    def initialize(self, sandbox: BotApiSandbox) -> None:
        self._sandbox = sandbox
        self._task: asyncio.Task[tuple[int, JsonDict]] | None = None
        self._gone = False

    def on_connection_close(self) -> None:
        # The client gave up (PTB cancels its long poll on shutdown): stop waiting for it.
        self._gone = True
        if self._task is not None:
            self._task.cancel()

    async def get(self, token: str, method: str) -> None:
        await self._serve(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._serve(token, method)

    def _params(self) -> Params:
        values: JsonDict = {
            key: self.decode_argument(value[-1])
            for key, value in self.request.query_arguments.items()
        }
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            if self.request.body:
                try:
                    body = json.loads(self.request.body)
                except ValueError as exc:
                    raise ApiError.bad_request("can't parse JSON encoded request") from exc
                if not isinstance(body, dict):
                    raise ApiError.bad_request("JSON object expected in the request body")
                values.update(body)
        else:
            for key, value in self.request.body_arguments.items():
                values[key] = self.decode_argument(value[-1])
        uploads = {
            key: Upload(files[-1].filename or None, files[-1].body, files[-1].content_type)
            for key, files in self.request.files.items()
        }
        return Params(values, uploads)

    async def _serve(self, token: str, method: str) -> None:
        try:
            params = self._params()
        except ApiError as exc:
            self._reply(exc.error_code, wire.error(exc))
            return
        self._task = self._sandbox.track(self._sandbox.dispatch(token, method, params))
        try:
            status, body = await self._task
        except asyncio.CancelledError:
            if self._gone:
                return
            raise
        if not self._gone:
            self._reply(status, body)

    def _reply(self, status: int, body: JsonDict) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))


class _FileHandler(tornado.web.RequestHandler):
    """``/file/bot<token>/<file_path>``: downloads for getFile."""

    def initialize(self, sandbox: BotApiSandbox) -> None:
        self._sandbox = sandbox

    async def get(self, token: str, file_path: str) -> None:
        refusal = self._sandbox.token_problem(token)
        stored = None if refusal else self._sandbox.world.files.by_path(file_path)
        if refusal or stored is None:
            problem = refusal or ApiError(404, "Not Found")
            self.set_status(problem.error_code)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(wire.error(problem)))
            return
        self.set_header("Content-Type", stored.mime_type or "application/octet-stream")
        self.finish(stored.data)


class BotApiSandbox:
    """A faithful local stand-in for Telegram's Bot API, plus simulated people to talk to the bot.

    Start it in the test's event loop, point PTB at ``base_url`` / ``base_file_url``, then act as
    users (``sandbox.user(...).send("/start")``) and read what they see.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "HolidayLunchBot",
        bot_name: str = "Holiday Lunch Bot",
        limits: RateLimits | None = None,
    ) -> None:
        if not TOKEN_PATTERN.fullmatch(token):
            raise ValueError("a bot token looks like '123456:ABC-def_ghi'")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.world = World(
            bot=wire.bot_user(self.bot_id, bot_name, bot_username),
            limits=limits if limits is not None else RateLimits(),
        )
        self.after_update: Callable[[], Awaitable[None]] | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self._webhooks = WebhookDelivery(self.world)
        self._methods = BotApiMethods(self.world, webhook_changed=self._webhooks.reconfigure)
        self._server: tornado.httpserver.HTTPServer | None = None
        self._inflight: set[asyncio.Task[tuple[int, JsonDict]]] = set()
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one and sets ``self.port``)."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        application = tornado.web.Application(
            [
                (r"/bot([^/]*)/([^/]+)", _ApiHandler, {"sandbox": self}),
                (r"/file/bot([^/]*)/(.+)", _FileHandler, {"sandbox": self}),
            ],
            log_function=_log_request,
        )
        sockets = tornado.netutil.bind_sockets(port, host)
        server = tornado.httpserver.HTTPServer(application)
        server.add_sockets(sockets)
        self._server = server
        self.host = host
        self.port = sockets[0].getsockname()[1]
        self._methods.stopping = False
        logger.info("Bot API sandbox listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening, end a pending long poll and webhook deliveries, close connections."""
        server = self._server
        if server is None:
            return
        self._server = None
        self._methods.stopping = True
        self.world.end_poll()
        server.stop()
        await self._webhooks.close()
        if self._inflight:
            # Let requests in progress (the ended long poll above) answer before hanging up.
            await asyncio.wait(set(self._inflight), timeout=STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.close_all_connections(), STOP_TIMEOUT_SECONDS)
        logger.info("Bot API sandbox on port %s stopped", self.port)

    async def __aenter__(self) -> BotApiSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    # --- HTTP --------------------------------------------------------------------------------

    def track(
        self, request: Coroutine[Any, Any, tuple[int, JsonDict]]
    ) -> asyncio.Task[tuple[int, JsonDict]]:
        """Run a request as a task that stop() can wait for."""
        task = asyncio.get_running_loop().create_task(request)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return task

    def token_problem(self, token: str) -> ApiError | None:
        if token == self.token:
            return None
        if TOKEN_PATTERN.fullmatch(token):
            return ApiError(401, "Unauthorized")
        return ApiError(404, "Not Found")

    async def dispatch(self, token: str, method: str, params: Params) -> tuple[int, JsonDict]:
        """Answer one Bot API request, record it, and return (HTTP status, JSON body)."""
        started = time.monotonic()
        name = self._methods.canonical(method) or method
        chat_id = params.chat_id()
        error: ApiError | None = None
        result: Any = None
        try:
            error = self.token_problem(token)
            if error is None and self._methods.canonical(method) is None:
                # PTB reports a 404 as InvalidToken, which would hide what really happened.
                logger.warning("the sandbox does not implement the Bot API method %s", method)
                error = ApiError(404, "Not Found")
            if error is None:
                error = self.world.take_failure(name, chat_id)
            if error is None:
                result = await self._methods.call(method, params)
        except ApiError as exc:
            error = exc
        except asyncio.CancelledError:
            self.world.calls.append(ApiCall(name, params.record(), started, False, None, chat_id))
            raise
        except Exception:
            logger.exception("the sandbox failed on %s", name)
            error = ApiError(500, "Internal Server Error")
        self.world.calls.append(
            ApiCall(
                method=name,
                params=params.record(),
                at=started,
                ok=error is None,
                error_code=None if error is None else error.error_code,
                chat_id=chat_id,
            )
        )
        if error is not None:
            return error.error_code, wire.error(error)
        return HTTP_OK, wire.ok(result)

    # --- the world, for tests ----------------------------------------------------------------

    @property
    def limits(self) -> RateLimits:
        return self.world.limits

    @limits.setter
    def limits(self, limits: RateLimits) -> None:
        self.world.limits = limits

    @property
    def calls(self) -> list[ApiCall]:
        """Every request the bot made, in order (a live list)."""
        return self.world.calls

    @property
    def webhook_url(self) -> str | None:
        return None if self.world.webhook is None else self.world.webhook.url

    def route_webhook(self, backends: list[str]) -> None:
        """Put a reverse proxy in front of several instances of the bot: updates for the webhook
        go to these addresses in turn (round-robin), passing over any that refuses to connect."""
        self._webhooks.backends = list(backends)

    @property
    def webhook_secret(self) -> str | None:
        return None if self.world.webhook is None else self.world.webhook.secret_token

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        return self.world.polling

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates the bot has not confirmed yet, oldest first."""
        return list(self.world.pending.values())

    async def handled(self) -> None:
        """Called after each simulated update: lets a harness wait for the bot to handle it."""
        if self.after_update is not None:
            await self.after_update()

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "en",
        started: bool = True,
    ) -> SimUser:
        """The person with this id (created on first use) and their private chat with the bot.

        ``started=False`` models someone who never opened the bot: sends to them get 403 until
        they write to it.
        """
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id in self.world.chats:
            raise ValueError(f"chat id {user_id} is already taken")
        chat = ChatState(
            id=user_id,
            type="private",
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            started=started,
        )
        self.world.chats[user_id] = chat
        user = SimUser(self, chat)
        self._users[user_id] = user
        return user

    def group(self, chat_id: int, title: str, *, kind: str = "group") -> SimGroup:
        """A group (or supergroup, or channel) with the bot in it; ids of groups are negative."""
        existing = self._groups.get(chat_id)
        if existing is not None:
            return existing
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        if kind not in GROUP_KINDS:
            raise ValueError(f"kind must be one of {sorted(GROUP_KINDS)}")
        if chat_id in self.world.chats or chat_id in self.world.migrated:
            raise ValueError(f"chat id {chat_id} is already taken")
        chat = ChatState(id=chat_id, type=kind, title=title)
        self.world.chats[chat_id] = chat
        group = SimGroup(self, chat)
        self._groups[chat_id] = group
        return group

    def _chat(self, chat_id: int) -> ChatState:
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"the sandbox has no chat {chat_id}")
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them get 403 until they unblock or write again."""
        self._chat(user_id).blocked = True

    def unblock(self, user_id: int) -> None:
        self._chat(user_id).blocked = False

    def forget_chat(self, chat_id: int) -> None:
        """From now on the chat does not exist for the bot (400 chat not found)."""
        self._chat(chat_id).forgotten = True

    def inject_failure(
        self,
        method: str | None = None,
        chat_id: int | None = None,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (any, if None) for ``chat_id`` fail."""
        self.world.failures.append(
            FailureRule(method, chat_id, error_code, description, retry_after, times)
        )

    def migrate_group(self, old_id: int, new_id: int) -> None:
        """The group becomes a supergroup with ``new_id``; sends to ``old_id`` get ChatMigrated."""
        chat = self._chat(old_id)
        if chat.type != "group":
            raise ValueError("only a basic group can be upgraded to a supergroup")
        if new_id in self.world.chats:
            raise ValueError(f"chat id {new_id} is already taken")
        self.world.migrate(old_id, new_id)
        group = self._groups.pop(old_id, None)
        if group is not None:
            self._groups[new_id] = group

    def chat_messages(self, chat_id: int) -> list[SimMessage]:
        return list(self._chat(self.world.migrated.get(chat_id, chat_id)).messages)

    async def wait_confirmed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - public API
        """Wait until the bot has confirmed every update enqueued so far."""
        await self.world.wait_confirmed(timeout)

    def commands_for(
        self, chat_id: int, language_code: str = "", *, user_id: int | None = None
    ) -> list[tuple[str, str]]:
        """The command menu shown in a chat, by Telegram's scope precedence."""
        chat = self._chat(chat_id)
        if chat.type == "private":
            scopes: list[tuple[str, int | None, int | None]] = [
                ("chat", chat_id, None),
                ("all_private_chats", None, None),
                ("default", None, None),
            ]
        else:
            scopes = [
                ("chat", chat_id, None),
                ("all_group_chats", None, None),
                ("default", None, None),
            ]
            if user_id is not None:
                scopes.insert(0, ("chat_member", chat_id, user_id))
        languages = [language_code, ""] if language_code else [""]
        for kind, scope_chat, scope_user in scopes:
            for language in languages:
                commands = self.world.commands.get((kind, scope_chat, scope_user, language))
                if commands is not None:
                    return list(commands)
        return []


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # The path holds the bot token: log only the method name.
    method = handler.request.path.rsplit("/", 1)[-1]
    logger.debug("%s %s -> %s", handler.request.method, method, handler.get_status())
