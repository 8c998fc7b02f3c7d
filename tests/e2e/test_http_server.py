"""The one HTTP server over real HTTP: Telegram's webhook takes an update only with the secret
token and answers 200 once it is stored; /healthz, /readyz and /metrics say what they should."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from storage import inbox, migrate, outbox
from storage.db import Database
from tests.support import Clock
from web.server import SECRET_HEADER, Site, WebServer

SECRET = "s3cret_token-for-the-webhook"
UPDATE = {"update_id": 77, "message": {"message_id": 1, "chat": {"id": 5001}, "text": "hi"}}


@pytest.fixture
async def server(db: Database, clock: Clock) -> AsyncIterator[str]:
    web = WebServer(Site(db=db, clock=clock, webhook_path="/telegram", secret=SECRET))
    port = await web.start("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await web.stop()


async def test_the_webhook_stores_an_update_only_with_the_secret(server: str, db: Database) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        wrong = await client.post("/telegram", json=UPDATE, headers={SECRET_HEADER: "guess"})
        missing = await client.post("/telegram", json=UPDATE)
        assert (wrong.status_code, missing.status_code) == (401, 401)
        assert await inbox.statuses(db) == {}

        right = {SECRET_HEADER: SECRET}
        not_update = await client.post("/telegram", json={"hello": 1}, headers=right)
        assert not_update.status_code == 400
        assert (await client.post("/telegram", json=UPDATE, headers=right)).status_code == 200
        # Telegram sends it again (it missed our answer): stored once.
        assert (await client.post("/telegram", json=UPDATE, headers=right)).status_code == 200
        assert list(await inbox.statuses(db)) == [77]

        figures = (await client.get("/metrics")).text
        assert "lunchbot_inbox_backlog 1.0" in figures
        assert 'lunchbot_webhook_refused_total{reason="secret"}' in figures


async def test_health_and_readiness(
    server: str, db: Database, clock: Clock, database_url: str
) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        health = await client.get("/healthz")
        assert (health.status_code, health.text) == (200, "alive\n")
        assert (await client.get("/readyz")).status_code == 200

        # A message due twenty minutes ago and still not sent: the sender is stuck.
        async with db.transaction() as session:
            await outbox.queue(
                session,
                chat_id=-100_1,
                kind="milestone",
                payload={},
                dedupe_key="late",
                due_at=clock() - timedelta(minutes=20),
                now=clock(),
            )
        behind = await client.get("/readyz")
        assert behind.status_code == 503
        assert "the outbox is behind: a message due 1200 s ago is not sent yet" in behind.text
        figures = (await client.get("/metrics")).text
        assert 'lunchbot_outbox_notices{status="pending"} 1.0' in figures

        # The code is newer than the database: not ready until it is upgraded.
        await migrate.downgrade(database_url, "-1")
        old = await client.get("/readyz")
        assert old.status_code == 503
        assert "run lunchbot db upgrade" in old.text
        assert (await client.get("/healthz")).status_code == 200
