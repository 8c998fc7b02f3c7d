"""`lunchbot privacy report`: what the bot stores, for how long, and who can see it, with the
current counts (support for a data protection impact assessment)."""

from __future__ import annotations

from bot.config import KEY_ENV, Config
from storage import dates, drafts, invites, locations, migrate, referrals
from storage.db import Database
from storage.models import NOT_RUN_REASON_MAX

WHAT_IS_STORED = """\
Holiday Lunch Bot: privacy report for {programme}

WHAT IS STORED, WHY, WHO SEES IT
- People who accepted the privacy notice: Telegram id, display name, roles, optional phone,
  safeguarding check status and expiry, home locations. Why: to organise the rota and reach
  volunteers. Seen by: the person; coordinators of the whole programme, everyone's (in
  /people); site leads: only the people who call one of their locations home (chosen in
  /profile) or hold or held a booking there (sessions from {recent_weeks} weeks ago on), and
  nobody else's card, whatever button is forged. Site leads are offered no button for what
  only coordinators of the whole programme may do: roles, safeguarding checks, erasure,
  invites, new locations.
  Kept: until a coordinator erases the person (on request): name, id and phone are then
  removed; shifts already done stay, nameless, in the totals.
- People without Telegram whom a coordinator put on the rota (they phoned in, or have no
  Telegram): their name only, as the coordinator typed it, recorded on the coordinator's word
  that they agreed (the recording is audited, with who did it). Why: so the rota, the site day,
  the rota's export and the sign-in sheet show who is coming. Seen by: coordinators of the
  whole programme; site leads when they are on one of their locations' sessions. The bot never
  messages them (it has no chat to write to). Kept: until a coordinator of the whole
  programme erases them ("🗑 Erase their name" on their place on a session's rota, or from
  /people, where they are listed marked ☎): the name is then removed; shifts already done
  stay, nameless, in the totals.
- Bookings, attendance, meals served and children fed per session. Why: the rota and the
  evidence base for funders. Seen by: coordinators; a volunteer sees their own.
- Why a session did not run, when a site lead types it rather than choosing a listed reason:
  a short text (at most {not_run_max} characters; the bot asks that it names no child or
  family), stored with the session in clear, not sealed. Why: so the gap in the figures is
  explained. Seen by: coordinators of the whole programme and site leads of that location
  (the day in /today and the session's card); not in the audit log (it records only that a
  reason was typed), nor in reports, exports or messages to anyone else.
  Kept: with the session's record, as long as the programme's history; it is removed at once
  if the session is then recorded as having run after all.
- Referrals from partner schools: the school's own reference for the family (never a child's
  name), number of children and their school years, preferred places and dates, the parent's
  consent, and, sealed with Fernet (AES-128 + HMAC) under the referral's own data key (see
  PURGING): dietary needs and allergies, a note, a reason for not placing. Why: to place and
  feed the children safely. Seen by: contacts of the referring school, coordinators of the
  whole programme; the site lead of the placing location sees needs on the day's register.
  Never in a log, a group chat or a notification. A half-filled referral form is sealed the
  same way, with the data key the referral then takes over.
  Kept: sealed details and the reference are removed {retention} days after the referral
  ends: its last placed day; if declined, the decision; if waiting or undecided, the last day
  the school asked for. Dates typed anywhere in the bot (referrals, placements, plans) lie
  between today and {ahead_days} days ahead, and a referral counts as ended at the latest
  {ahead_days} days after it was made or last decided, so no date can keep details for ever.
  Counts, school years and attendance stay.
- The audit log: who viewed, exported or decided each referral, role changes, invites,
  erasures, refused attempts. Why: accountability. Seen by: whoever runs the server.
- Messages queued for sending (the outbox): who, what kind, when, how it ended; no text.
- Updates received from Telegram (the inbox), with what people typed: kept until handled, then
  deleted after a day (to recognise a repeat); never logged.
- What a person typed to search a list (part of a name), with which list it was: kept with
  their own unfinished forms, so that the list is as they left it. Seen by: nobody else; never
  logged. Kept: until they send /cancel, or {abandoned} days after they last used a form or list.
- Invite links that match no invite: when, and who tried, kept {window} minutes (the hourly
  clean-up removes them after that). Not the Telegram id (someone who follows a link has
  agreed to nothing yet): a keyed hash of it, HMAC-SHA256 under a random key that exists only
  in the running bot's memory and is never written anywhere. A plain SHA-256 would not do,
  as every Telegram id can be hashed in minutes and the id read back; with the key gone (a
  restart), the rows name nobody. Why: after {per_person} such links from one person, or
  {overall} from everyone, in {window} minutes, links that match no invite are refused
  without being counted or audited until the window has passed, so the audit log is not
  flooded (one row per refused link, one when the throttle closes). A real invite link is
  always looked up first and always works: guessing cannot lock genuine invitees out.

PURGING: WHAT MAKES IT FINAL
- Each referral has a random data key of its own, kept wrapped (sealed) by the programme key
  from the environment; the referral's needs, note and reason are sealed with that data key.
  At purge the sealed fields are cleared and the data key is deleted, so every copy of those
  fields that survives anywhere (old row versions, the write-ahead log, a backup) can no
  longer be opened, with or without the programme key.
- The deleted data key itself is then erased from the database files. SQLite: every
  connection sets secure_delete on (deleted content is overwritten with zeros) and the
  write-ahead log is checkpointed and truncated after the purge. PostgreSQL: the key table is
  rewritten with VACUUM FULL after the purge, so its old file, with the deleted rows, is
  removed (a plain VACUUM would only mark their space free). VACUUM FULL keeps rows that an
  older snapshot might still see, so the purge first waits (up to a minute) until no
  transaction or snapshot older than it is left on the server; if one outlasts the wait, the
  next hourly run finishes the job. The database user the bot connects as must own the table
  (VACUUM skips it otherwise; the bot logs an error if so).
- Not covered: copies outside the database's own files. A backup or a WAL archive taken
  before the purge, and on PostgreSQL the WAL segments until they are recycled, still hold the
  wrapped key, which the programme key opens. So keep backups and WAL archives no longer than
  the retention period ({retention} days), or rotate the programme key after a purge and drop
  the old one, which leaves those copies unreadable.
- Messages the bot sent that showed a referral's details (its card, a day's register) are
  edited at purge to say the details were removed, and those in a person's chat are edited so
  at once when the person is erased (nothing is left to find them by later). Telegram may
  refuse an edit (the person deleted the message). Not reached: CSV exports already sent as
  files (a bot cannot change a file, nor delete its message after 48 hours), sign-in sheets
  (PDF, and paper: they carry families' references and a yes or no for needs, never the
  needs themselves), and what a school contact typed in their own chat while filling in the
  form (a bot cannot edit a person's messages): those are the keeping of whoever holds them.

KEYS
- Sealing key configured: {key}. Rotate with `lunchbot keys new`, then set the new key in
  {key_env} and the old ones in LUNCHBOT_OLD_ENCRYPTION_KEYS, then `lunchbot keys rotate`:
  it wraps every data key again with the new key (giving details sealed before data keys
  existed a data key of their own) and erases the old wraps as a purge does.
- Referrals sealed before data keys existed (by an earlier version of the bot) still open
  with the programme key, and so do the old copies of their details in the database files
  until that key is gone: after upgrading, rotate once to a new key and drop the old one.

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
        recent_weeks=locations.RECENT_BOOKINGS.days // 7,
        not_run_max=NOT_RUN_REASON_MAX,
        abandoned=drafts.ABANDONED_AFTER.days,
        ahead_days=dates.PLANNING.ahead.days,
        window=int(invites.ATTEMPT_WINDOW.total_seconds() // 60),
        per_person=invites.FAILED_ATTEMPTS_PER_PERSON,
        overall=invites.FAILED_ATTEMPTS_OVERALL,
        counts="\n".join(f"- {name}: {count}" for name, count in counts.items()),
    )
