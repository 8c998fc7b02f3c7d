"""One HTTP server (tornado): Telegram's webhook, /healthz, /readyz and /metrics.

The webhook answers 200 only once the update is committed to the inbox: a crash before that
makes Telegram send it again, and a repeat is stored once. The secret token Telegram sends in
`X-Telegram-Bot-Api-Secret-Token` is compared in constant time; a wrong one stores nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import tornado.httpserver
import tornado.netutil
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST

from storage import inbox, migrate, outbox
from storage.db import Database
from web import metrics

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header's name)
MAX_UPDATE_BYTES = 1_000_000
DEFAULT_OUTBOX_LAG = timedelta(minutes=10)


@dataclass(frozen=True, kw_only=True)
class Site:
    """What the handlers need: the database, the clock, and the webhook's path and secret
    (None: no webhook, as in polling mode with health and metrics only)."""

    db: Database
    clock: Callable[[], datetime]
    webhook_path: str | None = None
    secret: str | None = None
    on_stored: Callable[[], None] = lambda: None
    outbox_lag: timedelta = DEFAULT_OUTBOX_LAG


class _Base(tornado.web.RequestHandler):
    def initialize(self, site: Site) -> None:
        self.site = site

    def _text(self, status: int, text: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(text + "\n")


class _Webhook(_Base):
    async def post(self) -> None:
        secret = self.site.secret or ""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            metrics.WEBHOOK_REFUSED.labels(reason="secret").inc()
            self._text(401, "unauthorized")
            return
        try:
            body = json.loads(self.request.body)
        except ValueError:
            body = None
        received = inbox.describe(body) if isinstance(body, dict) else None
        if received is None:
            metrics.WEBHOOK_REFUSED.labels(reason="not an update").inc()
            self._text(400, "not an update")
            return
        try:
            added = await inbox.store(self.site.db, [received], now=self.site.clock())
        except Exception:
            # Not stored: a non-2xx answer makes Telegram send it again later.
            logger.exception("cannot store update %s", received.update_id)
            self._text(503, "not stored, send it again")
            return
        metrics.UPDATES_RECEIVED.labels(source="webhook").inc(added)
        self.site.on_stored()
        self._text(200, "ok")


class _Health(_Base):
    def get(self) -> None:
        self._text(200, "alive")


class _Ready(_Base):
    async def get(self) -> None:
        problem = await readiness_problem(self.site)
        if problem is None:
            self._text(200, "ready")
        else:
            self._text(503, problem)


class _Metrics(_Base):
    async def get(self) -> None:
        try:
            body = await metrics.render(self.site.db, now_seconds=self.site.clock().timestamp())
        except Exception:
            logger.exception("cannot read the figures for /metrics")
            self._text(503, "database unreachable")
            return
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)


async def readiness_problem(site: Site) -> str | None:
    """None when the instance can do its work; else one line saying what is wrong."""
    try:
        current = await migrate.revision_of(site.db)
        due = await outbox.oldest_due(site.db, now=site.clock())
    except Exception as exc:  # the database is down or refuses us
        return f"database unreachable: {type(exc).__name__}"
    head = migrate.head_revision()
    if current != head:
        return f"database at migration {current}, the code needs {head}: run lunchbot db upgrade"
    if due is not None and site.clock() - due > site.outbox_lag:
        late = int((site.clock() - due).total_seconds())
        return f"the outbox is behind: a message due {late} s ago is not sent yet"
    return None


def application(site: Site) -> tornado.web.Application:
    routes: list[tuple[str, type[_Base], dict[str, Site]]] = [
        (r"/healthz", _Health, {"site": site}),
        (r"/readyz", _Ready, {"site": site}),
        (r"/metrics", _Metrics, {"site": site}),
    ]
    if site.webhook_path is not None:
        routes.append((site.webhook_path, _Webhook, {"site": site}))
    return tornado.web.Application(routes, log_function=_log_request)


class WebServer:
    """The server in this event loop: `await start(host, port)`, `await stop()`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.port = 0
        self._server: tornado.httpserver.HTTPServer | None = None

    async def start(self, host: str, port: int) -> int:
        sockets = tornado.netutil.bind_sockets(port, host)
        server = tornado.httpserver.HTTPServer(
            application(self.site), max_body_size=MAX_UPDATE_BYTES
        )
        server.add_sockets(sockets)
        self._server = server
        self.port = sockets[0].getsockname()[1]
        logger.info("HTTP server listening on %s:%s", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # Only the path and the status: never a body (it holds what people typed).
    if handler.get_status() >= 400:
        logger.info(
            "%s %s -> %s", handler.request.method, handler.request.path, handler.get_status()
        )
