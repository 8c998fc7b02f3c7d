"""Tables. Every time is stored in UTC; every Telegram id is a BIGINT (they reach 52 bits)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from sqlalchemy.sql import text

from storage.text import folded

NAME_MAX = 64
SCHOOL_NAME_MAX = 100
LOCATION_NAME_MAX = 100
ADDRESS_MAX = 200
NOTES_MAX = 500
PHONE_MAX = 32
JOB_NAME_MAX = 32
REFERENCE_MAX = 32
NOT_RUN_REASON_MAX = 200
# A win's words: with the credit line and the heading they still fit a photo's caption (1024).
WIN_TEXT_MAX = 800
# A broadcast's words: with its heading they fit a message (4096) or, with a photo, a caption.
BROADCAST_TEXT_MAX = 3900
BROADCAST_CAPTION_MAX = 900
FILE_ID_MAX = 200

# Stable constraint names, so that migrations can refer to them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine (SQLite keeps no zone, so it is added back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[int]: JSON(),
    }


def _folded_from(column: str) -> Any:
    """An insert default: the folded form of the row's `column` (storage.text.folded). Rows
    inserted without the ORM (a bulk insert) get their search key too."""

    def default(context: DefaultExecutionContext) -> str:
        parameters: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
        return folded(str(parameters.get(column) or ""))

    return default


def _name_key(column: str) -> Any:
    """The column a list is searched on: the name, folded; kept in step with the name by a
    validator on the model (and by the insert default above)."""
    return mapped_column(Text, default=_folded_from(column), server_default="")


class Role(enum.StrEnum):
    VOLUNTEER = "volunteer"
    SCHOOL_CONTACT = "school_contact"
    COORDINATOR = "coordinator"


def _enum_column(kind: type[enum.StrEnum]) -> Enum:
    # Stored as plain strings: adding a value later needs no ALTER TYPE on PostgreSQL.
    return Enum(
        kind,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


def _role_column() -> Enum:
    return _enum_column(Role)


class CheckStatus(enum.StrEnum):
    """A volunteer's safeguarding check (in the UK, a DBS check), as a coordinator records it."""

    NONE = "none"
    PENDING = "pending"
    CLEARED = "cleared"


class Person(Base):
    """Someone who accepted the privacy notice. Nobody is stored before that.

    A person without a Telegram id is someone a coordinator put on the rota by name only (they
    phoned in, or have no Telegram), having agreed to it with the coordinator: they hold the
    volunteer role, are never sent anything (`active` is False and the outbox has no chat to
    write to), and never act in the bot. Erased people keep a negative id."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_MAX))
    # False once Telegram says the person blocked the bot or left: nothing more is sent to them.
    active: Mapped[bool] = mapped_column(default=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    privacy_accepted_at: Mapped[datetime]
    created_at: Mapped[datetime]
    phone: Mapped[str | None] = mapped_column(String(PHONE_MAX))
    check_status: Mapped[CheckStatus] = mapped_column(
        _enum_column(CheckStatus), default=CheckStatus.NONE, server_default=CheckStatus.NONE.value
    )
    check_expires_on: Mapped[date | None] = mapped_column(Date)
    name_key: Mapped[str] = _name_key("display_name")

    @validates("display_name")
    def _fold_name(self, _key: str, value: str) -> str:
        self.name_key = folded(value)
        return value


class RoleGrant(Base):
    """A role given to a person. Coordinators named in config hold their role from config."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_role_column())
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime]
    # Granted because config lists the person as a coordinator: config, not the bot, removes it.
    via_config: Mapped[bool] = mapped_column(default=False)


class School(Base):
    """A partner school; its contacts refer families."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(SCHOOL_NAME_MAX), unique=True)
    area: Mapped[str | None] = mapped_column(String(SCHOOL_NAME_MAX))
    created_at: Mapped[datetime]
    name_key: Mapped[str] = _name_key("name")

    @validates("name")
    def _fold_name(self, _key: str, value: str) -> str:
        self.name_key = folded(value)
        return value


class Invite(Base):
    """A one-time link. Only the SHA-256 of its token is kept: a leaked table opens nothing."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(_role_column())
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None]
    # Where it was made (the coordinator's chat message, or update): making another from the
    # same place (a double tap, a re-delivered update) retires this one, so no unseen valid
    # link is left behind.
    source: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(Base):
    """Who did what to whom, and when. Details never hold a child's data or a secret."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Draft(Base):
    """A half-filled multi-step form, kept here so a restart or another instance can continue.

    Keyed by Telegram id rather than person, because a newcomer's form (the invite they are
    accepting) exists before they are registered.
    """

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("telegram_id", "flow"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    flow: Mapped[str] = mapped_column(String(32))
    # The field that the person's next text message fills, if the form is waiting for one.
    awaiting: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class Location(Base):
    """A lunch club's venue: a church hall, a community centre, a school."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(LOCATION_NAME_MAX), unique=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX), default="")
    notes: Mapped[str] = mapped_column(String(NOTES_MAX), default="")
    # How many children the club can feed in a day (referrals are placed against it).
    daily_child_capacity: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    name_key: Mapped[str] = _name_key("name")

    @validates("name")
    def _fold_name(self, _key: str, value: str) -> str:
        self.name_key = folded(value)
        return value


class CoordinatorScope(Base):
    """A coordinator with any of these rows is a site lead, limited to those locations."""

    __tablename__ = "coordinator_scopes"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )


class HomeLocation(Base):
    """A location where a volunteer likes to help; they see its sessions first."""

    __tablename__ = "home_locations"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    # Began on the rota but did not happen (a closed venue, nobody came): counts in no figure.
    NOT_RUN = "not_run"


class LunchSession(Base):
    """One lunch club on one day at one location."""

    __tablename__ = "lunch_sessions"
    __table_args__ = (
        UniqueConstraint("location_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    status: Mapped[SessionStatus] = mapped_column(
        _enum_column(SessionStatus), default=SessionStatus.SCHEDULED
    )
    meals_served: Mapped[int | None]
    children_attended: Mapped[int | None]
    created_at: Mapped[datetime]
    # Why a session that began did not run (status NOT_RUN), as the site lead said it.
    not_run_reason: Mapped[str | None] = mapped_column(String(NOT_RUN_REASON_MAX))


class SessionJob(Base):
    """A volunteer role needed at a session (cook x2), and how many places are taken.

    `taken` counts bookings and open waitlist offers, and only ever changes by a conditional
    UPDATE (`taken < places`), so the database, not Python, keeps a session from overfilling.
    """

    __tablename__ = "session_jobs"
    __table_args__ = (
        UniqueConstraint("session_id", "job"),
        CheckConstraint("taken >= 0 AND taken <= places", name="taken_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lunch_sessions.id", ondelete="CASCADE"))
    job: Mapped[str] = mapped_column(String(JOB_NAME_MAX))
    places: Mapped[int]
    taken: Mapped[int] = mapped_column(default=0)
    needs_check: Mapped[bool] = mapped_column(default=False)


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed place held for this waitlisted volunteer until they answer
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXPIRED = "expired"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# A volunteer holds at most one of these per session.
LIVE_BOOKING = (
    BookingStatus.BOOKED,
    BookingStatus.WAITLISTED,
    BookingStatus.OFFERED,
    BookingStatus.ATTENDED,
    BookingStatus.NO_SHOW,
)
_LIVE_SQL = "status IN ('booked', 'waitlisted', 'offered', 'attended', 'no_show')"


class Booking(Base):
    """A volunteer's place (or place in the queue) for one job at one session."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_live",
            "session_id",
            "person_id",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
        Index("ix_bookings_queue", "job_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lunch_sessions.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("session_jobs.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    status: Mapped[BookingStatus] = mapped_column(_enum_column(BookingStatus))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    offer_expires_at: Mapped[datetime | None]
    # Set when the volunteer answers a reminder with "I'm coming".
    confirmed_at: Mapped[datetime | None]


class NoticeStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the person blocked the bot
    GONE = "gone"  # 400: the chat does not exist (any more)
    FAILED = "failed"  # gave up after retries
    SKIPPED = "skipped"  # no longer true when its time came (a cancelled booking's reminder)


class Notice(Base):
    """The outbox: every message that is not a direct reply, written in the same transaction
    as the change that causes it, and sent by the delivery engine when due.

    It holds what to say (`kind` and `payload`), not the words: the text is rendered when it is
    sent, from the state at that moment.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "due_at"),
        Index("ix_outbox_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    due_at: Mapped[datetime]
    status: Mapped[NoticeStatus] = mapped_column(
        _enum_column(NoticeStatus), default=NoticeStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    # The instance whose sender holds the claim (its heartbeat renews claimed_at).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
    # The notices sent together (a broadcast's, "broadcast:12"), counted for its progress.
    batch: Mapped[str | None] = mapped_column(String(32), index=True)


class InboxStatus(enum.StrEnum):
    PENDING = "pending"  # stored, not yet handed to the handlers
    HANDLING = "handling"  # claimed by an instance; its handlers are running
    HANDLED = "handled"  # the handlers ran (an error was answered by the error handler)
    FAILED = "failed"  # the update could not be read or handled at all


class InboxUpdate(Base):
    """The inbox: every update from Telegram, stored before Telegram is told it was received
    (the next getUpdates offset, or a webhook's 200), then handed to the handlers in order per
    chat. `update_id` is unique, so a repeated delivery is stored once. It holds what people
    typed: handled rows are deleted after a day (the window for spotting repeats), and no
    column of it is ever logged."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_status_chat_key", "status", "chat_key", "update_id"),
        Index("ix_inbox_chat_key", "chat_key", "update_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    # The chat the update belongs to (a user's id when it has no chat): its updates are handled
    # one at a time, in update_id order.
    chat_key: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[InboxStatus] = mapped_column(
        _enum_column(InboxStatus), default=InboxStatus.PENDING
    )
    received_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ReferralStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    WAITLISTED = "waitlisted"
    PLACED = "placed"
    DECLINED = "declined"


class Referral(Base):
    """A family a school asks a place for. It holds the school's own reference, never a name;
    what is sensitive (needs, note, a decline's reason) is sealed (storage/crypto.py) and
    purged after the retention period, while the counts stay for the evidence base."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    referred_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    children: Mapped[int]
    age_bands: Mapped[list[str]] = mapped_column(JSON)
    needs_sealed: Mapped[str | None] = mapped_column(Text)
    note_sealed: Mapped[str | None] = mapped_column(Text)
    preferred_location_ids: Mapped[list[int]] = mapped_column(JSON)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    weekdays: Mapped[list[int]] = mapped_column(JSON)
    consent: Mapped[bool]
    status: Mapped[ReferralStatus] = mapped_column(_enum_column(ReferralStatus), index=True)
    reason_sealed: Mapped[str | None] = mapped_column(Text)
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    placed_from: Mapped[date | None] = mapped_column(Date)
    placed_to: Mapped[date | None] = mapped_column(Date)
    placed_weekdays: Mapped[list[int] | None] = mapped_column(JSON)
    # Bumped by every decision: a decision names the version it saw, so of two coordinators
    # deciding at once only the first wins.
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    purged_at: Mapped[datetime | None]
    # The referral's own data key (storage/keys.py), which seals needs, note and reason;
    # destroyed at purge, so every old copy of those sealed fields is unreadable. None: details
    # sealed with the programme key directly (before data keys), or already purged.
    key_id: Mapped[int | None] = mapped_column(ForeignKey("data_keys.id", ondelete="SET NULL"))


class DataKey(Base):
    """A random key for one referral (or one half-filled referral form), kept wrapped (sealed)
    by the programme key. Deleting the row and compacting the table (storage/keys.py) is what
    makes a purged referral's sealed details unreadable wherever copies of them survive."""

    __tablename__ = "data_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    wrapped: Mapped[str] = mapped_column(Text)
    # The Telegram id of the school contact whose half-filled referral form this key seals;
    # None once the referral is sent (it is then the referral's key).
    form_of: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime]


class DetailMessage(Base):
    """A message the bot sent that shows a referral's details (its card, a day's register):
    edited to remove them when the referral is purged."""

    __tablename__ = "detail_messages"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    shown_at: Mapped[datetime]


class InviteAttempt(Base):
    """A failed attempt to follow an invite link with a token nobody was given: counted to
    throttle guessing, kept only as long as the throttle window (storage/invites.py). `who` is
    a keyed hash of the Telegram id, not the id: someone who has not agreed to anything is not
    stored."""

    __tablename__ = "invite_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    who: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class PlacementDay(Base):
    """A placed family's place at one lunch session: a placement names real sessions, so a
    cancelled or moved session finds the families it concerns. `day` is the session's local day
    when it was placed (a session's times move only within its day)."""

    __tablename__ = "placement_days"

    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lunch_sessions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    day: Mapped[date] = mapped_column(Date, index=True)


class FamilyAttendance(Base):
    """A placed family came (or not) to its lunch club on a day."""

    __tablename__ = "family_attendance"

    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    attended: Mapped[bool]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime]


class WinStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a coordinator
    APPROVED = "approved"  # announced in the celebration chats
    REJECTED = "rejected"


class Win(Base):
    """Something good that happened, shared by anyone registered, announced once approved."""

    __tablename__ = "wins"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    # Telegram's file id of the photo the author sent, if any (Telegram keeps the photo).
    photo_file_id: Mapped[str | None] = mapped_column(String(FILE_ID_MAX))
    # Announced without the author's name, as the author chose.
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[WinStatus] = mapped_column(
        _enum_column(WinStatus), default=WinStatus.PENDING, index=True
    )
    created_at: Mapped[datetime]
    # Bumped by every edit and decision: a moderation card names the version it showed.
    version: Mapped[int] = mapped_column(default=0)
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # The coordinator's note to the author when a win is not announced.
    reject_note: Mapped[str | None] = mapped_column(Text)


class Audience(enum.StrEnum):
    VOLUNTEERS = "volunteers"
    LOCATION = "location"  # the volunteers who call one location home
    SCHOOLS = "schools"  # school contacts
    EVERYONE = "everyone"
    PEOPLE = "people"  # the people a coordinator picked out in /people (storage.directory)
    SESSION = "session"  # one session's team: everyone with a place on it (storage.broadcasts.TEAM)


class BroadcastStatus(enum.StrEnum):
    SENDING = "sending"
    DONE = "done"


class Broadcast(Base):
    """A message from a coordinator to many people. Each recipient's copy is an outbox row
    (batch "broadcast:<id>"); progress is counted from those rows, so it survives a restart."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)  # HTML, as Telegram gave it (formatting kept)
    photo_file_id: Mapped[str | None] = mapped_column(String(FILE_ID_MAX))
    audience: Mapped[Audience] = mapped_column(_enum_column(Audience))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    # Audience.SESSION: the session whose team it was written to.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("lunch_sessions.id", ondelete="SET NULL")
    )
    total: Mapped[int]
    status: Mapped[BroadcastStatus] = mapped_column(
        _enum_column(BroadcastStatus), default=BroadcastStatus.SENDING, index=True
    )
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # The coordinator's progress message, edited as the broadcast goes.
    progress_chat_id: Mapped[int] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None]
    progress_at: Mapped[datetime | None]


class Milestone(Base):
    """A threshold crossed ("meals:1000", "person:12:sessions:10"): celebrated once, ever."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[int]
    reached_at: Mapped[datetime]


class LaneGrant(Base):
    """One message some instance was let send (PostgreSQL only: bot/shared_lane.py). It counts
    against Telegram's limits from `granted_at` until a window after `answered_at`, or until its
    lease ends if no answer is recorded (the instance died). Rows live about a minute."""

    __tablename__ = "lane_grants"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    # The chat's id or @username; None for an edit, which counts in the overall limit only.
    chat: Mapped[str | None] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_lane_grants_chat_granted_at", "chat", "granted_at"),)


class LaneState(Base):
    """The shared lane's one row: a pause after a 429 seen by any instance, and when a direct
    reply last had to compete for the budget (the outbox then leaves a reserve free)."""

    __tablename__ = "lane_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    paused_until: Mapped[datetime | None]
    replies_at: Mapped[datetime | None]
