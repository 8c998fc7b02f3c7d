"""Celebrations: milestones and the weekly digest (sent from the outbox), the digest's preview,
and /chatid, which tells a group its id so a coordinator can make it a celebration chat."""

from __future__ import annotations

from datetime import date, datetime

from telegram import Update

from handlers import celebration_texts, charts
from handlers.common import command, say
from handlers.context import BotContext, Services
from handlers.rendering import Rendered
from storage import celebrations, impact, people, wins
from storage.models import Role
from storage.outbox import Outgoing
from storage.people import Profile

_CHARTS_KEPT = 4


class _ChartCache:
    """A digest goes to several chats with the same chart: draw it once, not once for each."""

    def __init__(self) -> None:
        self._kept: dict[tuple[object, ...], bytes] = {}

    async def chart(self, report: impact.Report) -> bytes:
        key = (
            report.start,
            report.end,
            tuple((name, tuple(values)) for name, values in sorted(report.meals_by_day.items())),
        )
        if key not in self._kept:
            if len(self._kept) >= _CHARTS_KEPT:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = await charts.draw(
                celebration_texts.chart_title(report.start, report.end),
                report.days,
                report.meals_by_day,
            )
        return self._kept[key]


_charts = _ChartCache()


async def digest(
    services: Services,
    start: date,
    end: date,
    *,
    since: datetime,
    until: datetime,
    for_coordinator: bool,
) -> Rendered:
    """The digest: the figures of the sessions on the days start..end (programme time) as known
    at `until`, and the wins approved and schools joined between `since` and `until`; as the
    caption of its chart."""
    tz = services.settings.timezone
    report = await impact.report(services.db, start=start, end=end, tz=tz, now=until)
    approved = await wins.approved_between(services.db, start=since, end=until)
    schools = await celebrations.new_schools(services.db, start=since, end=until)
    text = celebration_texts.digest(
        services.settings.programme_name,
        start,
        end,
        report.total,
        approved,
        schools,
        for_coordinator=for_coordinator,
    )
    return Rendered(text, photo=await _charts.chart(report))


async def render_digest(services: Services, notice: Outgoing) -> Rendered:
    payload = notice.payload
    return await digest(
        services,
        date.fromisoformat(payload["start"]),
        date.fromisoformat(payload["end"]),
        since=datetime.fromisoformat(payload["since"]),
        until=datetime.fromisoformat(payload["until"]),
        for_coordinator=notice.person_id is not None,  # not a group's copy
    )


async def render_milestone(services: Services, notice: Outgoing) -> Rendered:
    return Rendered(
        celebration_texts.milestone(notice.payload["what"], int(notice.payload["value"]))
    )


async def render_personal(services: Services, notice: Outgoing) -> Rendered | None:
    if notice.person_id is None:
        return None
    profile = await people.profile_by_id(services.db, notice.person_id)
    if profile is None:
        return None
    return Rendered(
        celebration_texts.personal_milestone(profile.display_name, int(notice.payload["sessions"]))
    )


@command(Role.COORDINATOR)
async def digest_command(update: Update, context: BotContext, profile: Profile) -> None:
    """This week's digest so far, as the celebration chats would get it."""
    services = context.services
    now, settings = services.now(), services.settings
    today = now.astimezone(settings.timezone).date()
    coming = celebrations.digest_next(now, settings.celebrations, settings.timezone)
    if coming.start > today:  # today's digest has gone out, the next week begins tomorrow
        coming = celebrations.digest_due(now, settings.celebrations, settings.timezone)
    preview = await digest(
        services,
        coming.start,
        min(coming.end, today),
        since=coming.since,
        until=now,
        for_coordinator=True,
    )
    message = update.effective_message
    if message is None:
        return
    await message.reply_photo(preview.photo or b"", caption=preview.text)
    coordinators = await celebrations.coordinator_count(services.db)
    await say(
        update, celebration_texts.digest_preview(services.settings.celebrations, coordinators)
    )


async def chat_id(update: Update, context: BotContext) -> None:
    """/chatid in a group or channel: its id, for the config's celebration chats."""
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(celebration_texts.chat_id(chat.id, chat.title))
