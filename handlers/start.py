"""Joining: /start, the privacy notice, and invite links (`/start <token>`).

Nothing about a newcomer is stored before they accept the notice: an invite they arrived with
travels in the notice's own button until they answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from handlers import callbacks, homes, menu, texts
from handlers.common import in_own_chat, keyboard, say, show
from handlers.context import BotContext
from storage import drafts, invites, people
from storage.invites import RedeemStatus, Redemption
from storage.models import Role
from storage.people import Profile


@callbacks.action("pv")
@dataclass(frozen=True)
class PrivacyAnswer:
    accept: bool
    invite: str  # the invite token the newcomer arrived with, or ""


async def start(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    # Only an invite's payload (whole or cut short) is an invite; any other (a poster's
    # t.me/bot?start=stmarks) is an ordinary /start.
    payload = context.args[0] if context.args else ""
    token = invites.token_in(payload) or ""
    profile = await people.profile(context.services.db, user.id)
    if profile is None:
        await _newcomer(update, context, token)
    elif token:
        await _follow_invite(update, context, user.id, token)
    else:
        await drafts.leave_list(context.services.db, telegram_id=user.id)  # as every command
        await say(update, _welcome(context, profile, created=False))


def _welcome(context: BotContext, profile: Profile, *, created: bool) -> str:
    programme = context.services.settings.programme_name
    return texts.welcome(profile, created, programme, menu.commands_for(profile))


async def _follow_invite(update: Update, context: BotContext, user_id: int, token: str) -> None:
    """A registered person taps an invite link: it takes effect at once."""
    services = context.services
    redemption = await people.join_by_invite(
        services.db,
        telegram_id=user_id,
        invite_hash=invites.hash_token(token),
        now=services.now(),
    )
    await say(update, texts.invite_outcome(redemption))
    if redemption.status is RedeemStatus.JOINED:
        profile = await people.profile(services.db, user_id)
        if profile is not None:
            await menu.publish_for(context.bot, profile)


async def _newcomer(update: Update, context: BotContext, token: str) -> None:
    """Show the privacy notice; an invite is only checked now and used once they agree."""
    services = context.services
    redemption: Redemption | None = None
    if token:
        redemption = await invites.check(
            services.db,
            telegram_id=update.effective_user.id if update.effective_user else 0,
            token_hash=invites.hash_token(token),
            now=services.now(),
        )
        if redemption.status is RedeemStatus.UNKNOWN:
            await _broken_invite(update, context)
            return
        if redemption.status is not RedeemStatus.VALID:
            await say(update, texts.invite_outcome(redemption))
            return
    await say(
        update,
        texts.privacy_notice(services.settings.programme_name, redemption),
        keyboard(
            [
                ("✅ I agree", PrivacyAnswer(accept=True, invite=token)),
                ("No thanks", PrivacyAnswer(accept=False, invite="")),
            ]
        ),
    )


async def _broken_invite(update: Update, context: BotContext) -> None:
    """A link that is no invite (cut short, mistyped, made up): say so and what to do, so that
    nobody invited to a role joins without it unawares; they may still join as a volunteer."""
    await say(
        update,
        texts.invite_not_valid(context.services.settings.programme_name),
        keyboard(
            [
                (texts.join_as_volunteer_button(), PrivacyAnswer(accept=True, invite="")),
                ("No thanks", PrivacyAnswer(accept=False, invite="")),
            ]
        ),
    )


async def privacy_answer(update: Update, context: BotContext) -> None:
    """Open to newcomers, so it does not use the registered-only `button` decorator."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    answer = callbacks.decode(query.data)
    if (
        not isinstance(answer, PrivacyAnswer)
        or not in_own_chat(update)
        or (answer.invite and not invites.looks_like_token(answer.invite))
    ):
        await query.answer(texts.stale_button())
        return
    await query.answer()
    services = context.services
    if not answer.accept:
        profile = await people.profile(services.db, user.id)
        await show(
            update,
            texts.privacy_declined()
            if profile is None
            else _welcome(context, profile, created=False),
        )
        return
    registration = await people.register(
        services.db,
        telegram_id=user.id,
        name=user.full_name,
        now=services.now(),
        coordinator_ids=services.settings.coordinator_ids,
        invite_hash=invites.hash_token(answer.invite) if answer.invite else None,
    )
    await show(update, _welcome(context, registration.profile, created=registration.created))
    if registration.invite is not None and not registration.invite.joined:
        # The link was used by someone else between the notice and the answer.
        await say(update, texts.invite_outcome(registration.invite))
    await menu.publish_for(context.bot, registration.profile)
    if registration.created and registration.profile.roles == {Role.VOLUNTEER}:
        await homes.offer_homes(update, context, registration.profile)
