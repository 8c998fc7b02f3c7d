"""`lunchbot privacy report`: what the bot stores, for how long, and who can see it, with the
current counts (support for a data protection impact assessment)."""

from __future__ import annotations

from bot.config import KEY_ENV, Config
from storage import migrate, referrals
from storage.db import Database

WHAT_IS_STORED = """\
Holiday Lunch Bot: privacy report for {programme}

WHAT IS STORED, WHY, WHO SEES IT
- People who accepted the privacy notice: Telegram id, display name, roles, optional phone,
  safeguarding check status and expiry, home locations. Why: to organise the rota and reach
  volunteers. Seen by: the person; coordinators (site leads: for their locations).
  Kept: until a coordinator erases the person (on request): name, id and phone are then
  removed; shifts already done stay, nameless, in the totals.
- Bookings, attendance, meals served and children fed per session. Why: the rota and the
  evidence base for funders. Seen by: coordinators; a volunteer sees their own.
- Referrals from partner schools: the school's own reference for the family (never a child's
  name), number of children and their school years, preferred places and dates, the parent's
  consent, and, sealed with Fernet (AES-128 + HMAC) under a key from the environment: dietary
  needs and allergies, a note, a reason for not placing. Why: to place and feed the children
  safely. Seen by: contacts of the referring school, coordinators of the whole programme; the
  site lead of the placing location sees needs on the day's register. Never in a log, a
  group chat or a notification.
  Kept: sealed details and the reference are removed {retention} days after the last placement
  day (or the decision, if not placed); counts, school years and attendance stay.
- The audit log: who viewed, exported or decided each referral, role changes, invites,
  erasures, refused attempts. Why: accountability. Seen by: whoever runs the server.
- Messages queued for sending (the outbox): who, what kind, when, how it ended; no text.
- Updates received from Telegram (the inbox), with what people typed: kept until handled, then
  deleted after a day (to recognise a repeat); never logged.

KEYS
- Sealing key configured: {key}. Rotate with `lunchbot keys new`, then set the new key in
  {key_env} and the old ones in LUNCHBOT_OLD_ENCRYPTION_KEYS, then `lunchbot keys rotate`.

CURRENTLY HELD
{counts}
"""


async def report(config: Config) -> str:
    await migrate.upgrade(config.database.url)
    database = Database(config.database.url)
    try:
        counts = await referrals.counts(database)
    finally:
        await database.dispose()
    return WHAT_IS_STORED.format(
        programme=config.programme.name,
        retention=config.referrals.retention_days,
        key="yes" if config.referrals.keys else f"no: referrals are off until {KEY_ENV} is set",
        key_env=KEY_ENV,
        counts="\n".join(f"- {name}: {count}" for name, count in counts.items()),
    )
