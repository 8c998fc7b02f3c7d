"""Webhook delivery: POST each pending update to the bot until it answers 2xx."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from http import HTTPStatus
from typing import Any

import httpx

from bot.sandbox.state import WebhookConfig, World

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
DELIVERY_TIMEOUT_SECONDS = 10.0
# Telegram retries a failed delivery after a while; the sandbox keeps it short for tests.
FIRST_RETRY_DELAY_SECONDS = 0.05
MAX_RETRY_DELAY_SECONDS = 1.0


class WebhookDelivery:
    """One task per pending update while a webhook is set, at most max_connections at once.

    With `backends`, the webhook's address is a reverse proxy in front of several instances of
    the bot: each delivery goes to the next backend in turn, and one that refuses the
    connection (an instance that died) is passed over for the next, as a proxy would."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.backends: list[str] = []
        self._turn = itertools.count()
        self._client: httpx.AsyncClient | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._slots: asyncio.Semaphore | None = None
        world.enqueue_listeners.append(self._on_enqueue)

    def reconfigure(self) -> None:
        """The webhook was set, changed or deleted: restart delivery of what is pending."""
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        config = self.world.webhook
        if config is None:
            return
        self._slots = asyncio.Semaphore(config.max_connections)
        for update_id in list(self.world.pending):
            self._spawn(update_id, config)

    def _on_enqueue(self, update_id: int) -> None:
        if self.world.webhook is not None:
            self._spawn(update_id, self.world.webhook)

    def _spawn(self, update_id: int, config: WebhookConfig) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(update_id, config))
        self._tasks[update_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._tasks.get(update_id) is done:
                del self._tasks[update_id]

        task.add_done_callback(forget)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS)
        return self._client

    async def _deliver(self, update_id: int, config: WebhookConfig) -> None:
        # One chat's updates go one at a time, in order: the next once the bot took the one
        # before (as Telegram is seen to do; other chats' updates go alongside).
        update = self.world.pending.get(update_id)
        chat = _chat_of(update) if update is not None else None
        earlier = frozenset(
            other
            for other, body in list(self.world.pending.items())
            if other < update_id and chat is not None and _chat_of(body) == chat
        )
        await self.world.until_confirmed(earlier)
        delay = FIRST_RETRY_DELAY_SECONDS
        headers = {SECRET_HEADER: config.secret_token} if config.secret_token else {}
        while self.world.webhook is config and update_id in self.world.pending:
            problem = await self._post_once(update_id, config, headers)
            if problem is None:
                self.world.confirm(update_id)
                return
            config.last_error_date = int(time.time())
            config.last_error_message = problem
            logger.info("webhook delivery of update %s failed: %s", update_id, problem)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_SECONDS)

    async def _post_once(
        self, update_id: int, config: WebhookConfig, headers: dict[str, str]
    ) -> str | None:
        """None when the bot took the update, else Telegram's description of what went wrong."""
        slots = self._slots or asyncio.Semaphore(config.max_connections)
        async with slots:
            update = self.world.pending.get(update_id)
            if update is None:
                return None
            targets = self._targets(config.url)
            for target in targets:
                try:
                    response = await self._http().post(target, json=update, headers=headers)
                    break
                except httpx.ConnectError:
                    continue  # this backend is down: the proxy tries the next
                except httpx.HTTPError as exc:
                    return f"Connection failed: {exc.__class__.__name__}"
            else:
                return "Connection failed: ConnectError"
        if HTTPStatus.OK <= response.status_code < HTTPStatus.MULTIPLE_CHOICES:
            return None
        return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"

    def _targets(self, url: str) -> list[str]:
        """Where to post, in the order to try: the next backend first, or the webhook itself."""
        backends = list(self.backends)
        if not backends:
            return [url]
        first = next(self._turn) % len(backends)
        return backends[first:] + backends[:first]

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (the message's, or a button's message's), if any."""
    for body in update.values():
        if not isinstance(body, dict):
            continue
        for holder in (body, body.get("message")):
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None
