"""Joining: /start, the privacy notice, and invite links (`/start <token>`)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from handlers import callbacks, menu, texts
from handlers.common import keyboard, say, show
from handlers.context import BotContext
from storage import drafts, invites, people
from storage.invites import RedeemStatus, Redemption
from storage.people import Profile

JOIN_FLOW = "join"


@callbacks.action("pv")
@dataclass(frozen=True)
class PrivacyAnswer:
    accept: bool


async def start(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    payload = context.args[0] if context.args else None
    profile = await people.profile(context.services.db, user.id)
    if profile is None:
        await _newcomer(update, context, user.id, payload)
    elif payload:
        await _follow_invite(update, context, user.id, payload)
    else:
        await say(update, _welcome(context, profile, created=False))


def _welcome(context: BotContext, profile: Profile, *, created: bool) -> str:
    programme = context.services.settings.programme_name
    return texts.welcome(profile, created, programme, menu.commands_for(profile))


def _invite_hash(payload: str) -> str | None:
    return invites.hash_token(payload) if invites.looks_like_token(payload) else None


async def _follow_invite(update: Update, context: BotContext, user_id: int, payload: str) -> None:
    """A registered person taps an invite link: it takes effect at once."""
    services = context.services
    invite_hash = _invite_hash(payload)
    redemption = Redemption(status=RedeemStatus.UNKNOWN)
    if invite_hash is not None:
        redemption = await people.join_by_invite(
            services.db, telegram_id=user_id, invite_hash=invite_hash, now=services.now()
        )
    await say(update, texts.invite_outcome(redemption))
    if redemption.status is RedeemStatus.JOINED:
        profile = await people.profile(services.db, user_id)
        if profile is not None:
            await menu.publish_for(context.bot, profile)


async def _newcomer(update: Update, context: BotContext, user_id: int, payload: str | None) -> None:
    """Show the privacy notice; an invite is only checked now and used once they agree."""
    services = context.services
    redemption: Redemption | None = None
    if payload:
        invite_hash = _invite_hash(payload)
        redemption = Redemption(status=RedeemStatus.UNKNOWN)
        if invite_hash is not None:
            redemption = await invites.check(
                services.db, token_hash=invite_hash, now=services.now()
            )
        if redemption.status is not RedeemStatus.VALID:
            await say(update, texts.invite_outcome(redemption))
            return
        # Kept until they answer the notice, so a restart in between loses nothing.
        await drafts.save(
            services.db,
            telegram_id=user_id,
            flow=JOIN_FLOW,
            awaiting=None,
            data={"invite": invite_hash},
            now=services.now(),
        )
    await say(
        update,
        texts.privacy_notice(services.settings.programme_name, redemption),
        keyboard(
            [("✅ I agree", PrivacyAnswer(accept=True)), ("No thanks", PrivacyAnswer(accept=False))]
        ),
    )


async def privacy_answer(update: Update, context: BotContext) -> None:
    """Open to newcomers, so it does not use the registered-only `button` decorator."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    answer = callbacks.decode(query.data)
    if not isinstance(answer, PrivacyAnswer):
        await query.answer(texts.stale_button())
        return
    await query.answer()
    services = context.services
    draft = await drafts.load(services.db, telegram_id=user.id, flow=JOIN_FLOW)
    if not answer.accept:
        if await people.profile(services.db, user.id) is None:
            await drafts.discard(services.db, telegram_id=user.id, flow=JOIN_FLOW)
            await show(update, texts.privacy_declined())
        return
    invite_hash = draft.data.get("invite") if draft else None
    registration = await people.register(
        services.db,
        telegram_id=user.id,
        name=user.full_name,
        now=services.now(),
        coordinator_ids=services.settings.coordinator_ids,
        invite_hash=invite_hash if isinstance(invite_hash, str) else None,
    )
    if draft is not None:
        await drafts.discard(services.db, telegram_id=user.id, flow=JOIN_FLOW)
    await show(update, _welcome(context, registration.profile, created=registration.created))
    if registration.invite is not None and not registration.invite.joined:
        # The link was used by someone else between the notice and the answer.
        await say(update, texts.invite_outcome(registration.invite))
    await menu.publish_for(context.bot, registration.profile)
