"""The commands each person sees: in /help and in Telegram's command menu, from one list."""

from __future__ import annotations

import enum
import logging

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import ExtBot

from storage.models import Role
from storage.people import Profile

logger = logging.getLogger(__name__)


class Only(enum.Enum):
    """Who a command is for, when a role alone does not say it."""

    PROGRAMME = "programme"  # coordinators of the whole programme: not site leads


# (command, description, the role it needs: None for everyone who registered)
COMMANDS: list[tuple[str, str, Role | Only | None]] = [
    ("start", "Main menu", None),
    ("help", "What you can do", None),
    ("whoami", "Your name and roles", None),
    ("name", "Change the name coordinators see", None),
    ("cancel", "Stop what you are filling in", None),
    ("profile", "Your home locations and phone", None),
    ("win", "Share a win: something good that happened", None),
    ("sessions", "Upcoming lunch sessions to book", Role.VOLUNTEER),
    ("mysessions", "Your bookings, with cancel and calendar", Role.VOLUNTEER),
    ("refer", "Refer a family for a lunch club place", Role.SCHOOL_CONTACT),
    ("myreferrals", "Your school's referrals and their status", Role.SCHOOL_CONTACT),
    ("invite", "Invite a school contact or a coordinator", Only.PROGRAMME),
    ("people", "People and their roles", Role.COORDINATOR),
    ("locations", "Lunch club locations", Role.COORDINATOR),
    ("newsessions", "Plan a holiday's sessions", Role.COORDINATOR),
    ("today", "Today at every location; run a session", Role.COORDINATOR),
    ("week", "The week at every location, as a picture", Role.COORDINATOR),
    ("coverage", "Places to fill by location: 7, 14, 28 days or the holiday", Role.COORDINATOR),
    ("cancelsessions", "Cancel a day's sessions (a snow day) or a location's", Role.COORDINATOR),
    ("schools", "Partner schools", Only.PROGRAMME),
    ("referrals", "Families referred by schools", Only.PROGRAMME),
    ("register", "Today's placed families, with allergies", Role.COORDINATOR),
    ("wins", "Wins waiting for approval", Only.PROGRAMME),
    ("broadcast", "Send a message to many people", Role.COORDINATOR),
    ("digest", "Preview this week's celebration digest", Role.COORDINATOR),
    ("impact", "Impact report: meals, children fed, hours", Role.COORDINATOR),
    ("export", "The rota as a spreadsheet; sign-in sheets to print", Role.COORDINATOR),
]
NEWCOMER_COMMANDS = [("start", "Join the programme"), ("help", "What this bot does")]


def commands_for(profile: Profile | None) -> list[tuple[str, str]]:
    if profile is None:
        return NEWCOMER_COMMANDS
    return [
        (command, description) for command, description, needs in COMMANDS if _may(profile, needs)
    ]


def _may(profile: Profile, needs: Role | Only | None) -> bool:
    if needs is Only.PROGRAMME:
        return profile.has(Role.COORDINATOR) and not profile.scoped
    return needs is None or profile.has(needs)


async def publish_default(bot: ExtBot[None]) -> None:
    """The menu a newcomer sees before registering."""
    await bot.set_my_commands(
        [BotCommand(c, d) for c, d in NEWCOMER_COMMANDS], scope=BotCommandScopeDefault()
    )


async def publish_for(bot: ExtBot[None], profile: Profile) -> None:
    """Set the person's own command menu to match their roles. Best effort: the menu is a
    convenience, /help always tells the truth, so a failure is logged and not raised."""
    commands = [BotCommand(c, d) for c, d in commands_for(profile)]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(profile.telegram_id))
    except TelegramError as exc:
        logger.warning("could not set the command menu of person %s: %s", profile.person_id, exc)
