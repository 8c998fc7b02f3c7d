"""The figures /metrics serves (Prometheus text format), counted where things happen.

Counters and histograms are this process's; the backlogs are read from the database when
/metrics is asked, so every instance reports the shared queue the same way.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from storage import inbox, outbox
from storage.db import Database

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES_HANDLED = Counter(
    "lunchbot_updates_handled",
    "Updates whose handlers ran, by kind (message, callback_query...) and outcome "
    "(ok; error: a handler raised and the person was answered by the error handler)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
HANDLING_SECONDS = Histogram(
    "lunchbot_update_handling_seconds",
    "Time from an update's claim to the end of its handlers",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
UPDATES_RECEIVED = Counter(
    "lunchbot_updates_received",
    "Updates stored in the inbox (repeats of one already stored are not counted)",
    ["source"],
    registry=REGISTRY,
)
WEBHOOK_REFUSED = Counter(
    "lunchbot_webhook_refused",
    "Webhook requests refused (wrong secret token, or not an update)",
    ["reason"],
    registry=REGISTRY,
)
TOO_MANY_REQUESTS = Counter(
    "lunchbot_telegram_429",
    "429 Too Many Requests answers from Telegram",
    registry=REGISTRY,
)
CLOCK_HOLDER = Gauge(
    "lunchbot_clock_holder",
    "1 while this instance runs the clock and the sender (exactly one instance should)",
    registry=REGISTRY,
)
INBOX_BACKLOG = Gauge(
    "lunchbot_inbox_backlog", "Updates stored and not yet handled", registry=REGISTRY
)
INBOX_OLDEST_SECONDS = Gauge(
    "lunchbot_inbox_oldest_seconds",
    "Age of the oldest update not yet handled (0 when none)",
    registry=REGISTRY,
)
OUTBOX_NOTICES = Gauge(
    "lunchbot_outbox_notices",
    "Outbox rows by state: pending and sending are the backlog; sent, blocked, gone, "
    "failed and skipped are final",
    ["status"],
    registry=REGISTRY,
)
BROADCAST_NOTICES = Gauge(
    "lunchbot_broadcast_notices",
    "Broadcast messages (outbox rows of a batch) by state: a broadcast's progress",
    ["status"],
    registry=REGISTRY,
)


async def render(db: Database, *, now_seconds: float) -> bytes:
    """The current figures, the database's read now."""
    waiting = await inbox.backlog(db)
    INBOX_BACKLOG.set(waiting.waiting)
    oldest = waiting.oldest_received_at
    INBOX_OLDEST_SECONDS.set(0 if oldest is None else max(0.0, now_seconds - oldest.timestamp()))
    for status, count in (await outbox.counts(db)).items():
        OUTBOX_NOTICES.labels(status=status.value).set(count)
    for status, count in (await outbox.batched_counts(db)).items():
        BROADCAST_NOTICES.labels(status=status.value).set(count)
    return generate_latest(REGISTRY)
