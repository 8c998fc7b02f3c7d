"""Every word the bot says, in one place. HTML; every value a person typed goes through esc()."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from storage.invites import ATTEMPT_WINDOW, CreatedInvite, RedeemStatus, Redemption, SchoolInfo
from storage.models import NAME_MAX, SCHOOL_NAME_MAX, CheckStatus, Role
from storage.people import Erasure, Profile
from storage.text import Problem

MAX_MESSAGE_CHARS = 4096

ROLE_NAMES = {
    Role.VOLUNTEER: "volunteer",
    Role.SCHOOL_CONTACT: "school contact",
    Role.COORDINATOR: "coordinator",
}


def esc(value: object) -> str:
    return escape(str(value), quote=False)


def when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a %-d %b %Y, %H:%M}"


def role_list(profile: Profile) -> str:
    if not profile.roles:
        return "no role yet"
    names = []
    for role in Role:
        if role in profile.roles:
            name = ROLE_NAMES[role]
            if role is Role.SCHOOL_CONTACT and profile.school_name:
                name += f" ({esc(profile.school_name)})"
            names.append(name)
    return ", ".join(names)


# --- joining ---------------------------------------------------------------------------------


def privacy_notice(programme: str, invite: Redemption | None) -> str:
    joining = ""
    if invite is not None and invite.role is not None:
        joining = f"You have been invited to join as {_role_phrase(invite)}.\n\n"
    return (
        f"👋 Welcome to <b>{esc(programme)}</b>: we run holiday lunch clubs so that no child "
        "goes hungry in the school holidays.\n\n"
        f"{joining}"
        "<b>Before we start, a short privacy notice.</b>\n"
        "If you agree, we keep your Telegram id and the name you use in Telegram (you can "
        "change it), and the roles you take on. Coordinators of the programme see them, to "
        "organise the lunch clubs. We never share them outside the programme, and a "
        "coordinator can delete them whenever you ask.\n\n"
        "Nothing is stored unless you tap <b>I agree</b>."
    )


def invite_not_valid(programme: str) -> str:
    return (
        "⚠️ <b>This invite link isn't valid.</b> Part of it may have been cut off when it was "
        "copied or emailed. If you were invited as a school contact or a coordinator, open "
        "the whole link again, or ask the coordinator who sent it for a new one: it gives "
        "you your role, even after you have joined.\n\n"
        "You can also join now as a volunteer.\n\n" + privacy_notice(programme, None)
    )


def join_as_volunteer_button() -> str:
    return "✅ I agree, join as a volunteer"


def privacy_declined() -> str:
    return "No problem: nothing about you has been stored. If you change your mind, send /start."


def welcome(
    profile: Profile, created: bool, programme: str, commands: list[tuple[str, str]]
) -> str:
    greeting = "Thank you, you're registered" if created else "Welcome back"
    return (
        f"{greeting}, {esc(profile.display_name)}! {esc(programme)} roles: "
        f"{role_list(profile)}.\n\n{help_text(commands, registered=True)}"
    )


def invite_outcome(redemption: Redemption) -> str:
    match redemption.status:
        case RedeemStatus.JOINED:
            return f"✅ You are now {_role_phrase(redemption)}."
        case RedeemStatus.ALREADY_YOURS:
            return f"You already joined with this invite: you are {_role_phrase(redemption)}."
        case RedeemStatus.USED:
            return (
                "This invite link has already been used, and each link works only once. "
                "Please ask the coordinator who sent it for a new one."
            )
        case RedeemStatus.EXPIRED:
            return (
                "This invite link has expired. Please ask the coordinator who sent it "
                "for a new one."
            )
        case RedeemStatus.THROTTLED:
            minutes = int(ATTEMPT_WINDOW.total_seconds() // 60)
            return (
                "Too many invite links that match no invite were tried just now, so I am not "
                f"checking invite links for a while. Please try yours again in {minutes} "
                "minutes, copied whole from the message it came in."
            )
        case _:
            return (
                "I don't recognise this invite link. Please check it was copied whole, "
                "or ask the coordinator who sent it for a new one."
            )


def _role_phrase(redemption: Redemption) -> str:
    if redemption.role is Role.SCHOOL_CONTACT and redemption.school_name:
        return f"the school contact for <b>{esc(redemption.school_name)}</b>"
    if redemption.role is Role.COORDINATOR:
        return "a <b>coordinator</b>"
    return f"a {ROLE_NAMES.get(redemption.role or Role.VOLUNTEER, 'member')}"


# --- who am I --------------------------------------------------------------------------------


def whoami(profile: Profile | None, telegram_id: int) -> str:
    if profile is None:
        return (
            f"You are not registered yet. Your Telegram id is <code>{telegram_id}</code>.\n"
            "Send /start to join."
        )
    lines = [
        f"<b>{esc(profile.display_name)}</b>",
        f"Roles: {role_list(profile)}",
        f"Telegram id: <code>{profile.telegram_id}</code>",
    ]
    if profile.config_roles:
        lines.append("(Your coordinator role comes from the bot's config file.)")
    lines.append("\nChange your name with /name.")
    return "\n".join(lines)


def help_text(commands: list[tuple[str, str]], registered: bool) -> str:
    lines = ["<b>What you can do</b>"]
    lines += [f"/{command} - {esc(description)}" for command, description in commands]
    if not registered:
        lines.append("\nSend /start to join the programme first.")
    return "\n".join(lines)


def ask_name(current: str) -> str:
    return (
        f"Your name is <b>{esc(current)}</b>. Send me the name you'd like coordinators "
        f"to see (up to {NAME_MAX} characters), or /cancel."
    )


def name_saved(profile: Profile) -> str:
    return f"Done: coordinators now see you as <b>{esc(profile.display_name)}</b>."


def name_empty() -> str:
    return "That name is empty. Please send a name with at least one letter, or /cancel."


def name_too_long() -> str:
    return f"That name is a bit long: please keep it to {NAME_MAX} characters, or /cancel."


# --- coordinators: invites -------------------------------------------------------------------


def invite_choose_role() -> str:
    return "Who are you inviting? The link you get works once, for one person."


def invite_choose_school(has_schools: bool) -> str:
    if has_schools:
        return "Which partner school is this contact from?"
    return "No partner schools yet. Tap <b>A new school</b> to add the first one."


def ask_school_name() -> str:
    return (
        f"Send me the school's name (up to {SCHOOL_NAME_MAX} characters), for example "
        "<i>Hillside Primary</i>, or /cancel."
    )


def schools(listed: list[SchoolInfo], total: int, *, searched: bool = False) -> str:
    """A page of the partner schools (of `total`); where it is in the list is said below it."""
    if not listed and not searched:
        return "No partner schools yet. Add the first one."
    counted = "" if searched else f" ({total:,})"
    lines = [
        f"<b>Partner schools</b>{counted}. Tap one to see it, set its area or invite a contact."
    ]
    for school in listed:
        area = f" ({esc(school.area)})" if school.area else ""
        contacts = len(school.contacts)
        lines.append(
            f"• {esc(school.name)}{area}: {contacts} contact"
            f"{'' if contacts == 1 else 's'}, {school.referrals} referred"
        )
    return "\n".join(lines)


def school_card(school: SchoolInfo) -> str:
    contacts = ", ".join(esc(name) for name in school.contacts) or "none yet"
    return (
        f"<b>{esc(school.name)}</b>\nArea: {esc(school.area) if school.area else 'not set'}"
        f"\nContacts: {contacts}\nFamilies referred: {school.referrals}"
    )


def ask_school_area() -> str:
    return (
        "Which area is the school in (for example <i>Northfield</i>)? Send - for none; or /cancel."
    )


def school_saved() -> str:
    return "✅ Saved."


def school_name_invalid() -> str:
    return (
        f"Please send the school's name as one line of 1 to {SCHOOL_NAME_MAX} "
        "characters, or /cancel."
    )


def invite_created(invite: CreatedInvite, link: str, tz: ZoneInfo) -> str:
    who = (
        f"a contact at <b>{esc(invite.school_name)}</b>"
        if invite.role is Role.SCHOOL_CONTACT
        else "a new <b>coordinator</b>"
    )
    return (
        f"Here is a one-time invite link for {who}:\n\n{esc(link)}\n\n"
        f"It works for one person only and expires {when(invite.expires_at, tz)}. Send it to "
        "them privately (an email or a direct message), not to a group."
    )


# --- coordinators: people --------------------------------------------------------------------


def person_card(person: Profile) -> str:
    if person.offline:
        return (
            f"<b>☎ {esc(person.display_name)}</b>\n"
            f"Roles: {role_list(person)}\n"
            "No Telegram: a coordinator put them on a rota by name, so the bot never messages "
            "them."
        )
    lines = [
        f"<b>{esc(person.display_name)}</b>",
        f"Roles: {role_list(person)}",
        f"Telegram id: <code>{person.telegram_id}</code>",
    ]
    if person.phone:
        lines.append(f"Phone: {esc(person.phone)}")
    if not person.active:
        lines.append("Has blocked the bot: messages to them are not sent.")
    if person.config_roles:
        lines.append("Their coordinator role is set in the config file.")
    return "\n".join(lines)


def confirm_remove_role(person: Profile, role: Role) -> str:
    return (
        f"Remove the <b>{ROLE_NAMES[role]}</b> role from {esc(person.display_name)}? "
        "This is recorded in the audit log."
    )


def role_removed(person: Profile, role: Role) -> str:
    return f"Removed the {ROLE_NAMES[role]} role from {esc(person.display_name)}."


def role_not_held(role: Role) -> str:
    return f"They no longer hold the {ROLE_NAMES[role]} role: nothing to remove."


def role_from_config() -> str:
    return (
        "That coordinator role comes from the config file (coordinators.telegram_ids): "
        "remove the id there and restart the bot."
    )


def own_coordinator_role() -> str:
    return "You can't remove your own coordinator role. Ask another coordinator."


def check_menu(person: Profile) -> str:
    return (
        f"Safeguarding check (DBS) for <b>{esc(person.display_name)}</b>: "
        f"{check_state(person)}. What is it now?"
    )


def check_state(person: Profile) -> str:
    state = {
        CheckStatus.NONE: "not done",
        CheckStatus.PENDING: "pending",
        CheckStatus.CLEARED: "cleared",
    }[person.check_status]
    if person.check_status is CheckStatus.CLEARED and person.check_expires_on:
        state += f" until {person.check_expires_on:%-d %b %Y}"
    return state


def ask_check_expiry() -> str:
    return (
        "Until when is the check valid? Send a date like 31/08/2027, or <i>none</i> if "
        "it does not expire; or /cancel."
    )


def check_expiry_invalid() -> str:
    return (
        "Please send a date like 31/08/2027, after today and at most five years ahead, or "
        "<i>none</i>; or /cancel."
    )


def check_recorded(person: Profile) -> str:
    return f"Recorded: safeguarding check {check_state(person)}."


# A site lead of many locations: their names up to this many, then how many more (4096 chars).
SCOPE_NAMES_SHOWN = 10


def scope_menu(person: Profile, names: list[str]) -> str:
    if names:
        where = ", ".join(esc(name) for name in names[:SCOPE_NAMES_SHOWN])
        if len(names) > SCOPE_NAMES_SHOWN:
            where += f" and {len(names) - SCOPE_NAMES_SHOWN} more"
        state = f"is a <b>site lead</b> of {where}: they run only those locations"
    else:
        state = "coordinates the <b>whole programme</b>"
    return (
        f"{esc(person.display_name)} {state}. Tap locations to make them a site lead of "
        "those only; with none ticked they coordinate everything."
    )


def confirm_erase(person: Profile) -> str:
    return (
        f"Erase <b>{esc(person.display_name)}</b>'s data? Their name, Telegram id, phone "
        "and roles are deleted and their future places pass to the waitlist. Shifts "
        "already done stay in the programme's totals, without a name. This cannot be "
        "undone, and is recorded in the audit log."
    )


def erased(outcome: Erasure) -> str:
    return {
        Erasure.ERASED: "Done: their data is erased.",
        Erasure.SELF: "You can't erase yourself here. Ask another coordinator.",
        Erasure.FROM_CONFIG: (
            "They are a coordinator in the config file: remove their id "
            "there and restart the bot first."
        ),
        Erasure.GONE: "Already erased: nothing more to do.",
    }[outcome]


# --- guidance and errors ---------------------------------------------------------------------


def not_registered() -> str:
    return "Please send /start and accept the privacy notice first."


def not_allowed(role: Role) -> str:
    return f"Sorry, that is only for {ROLE_NAMES[role]}s. Send /help to see what you can do."


def not_yours() -> str:
    return "Sorry, that isn't yours to see or change, so nothing was changed."


def not_found() -> str:
    return "Sorry, I can't find that any more, so nothing was changed. Send /start for a menu."


def closed() -> str:
    return "That session has already started, finished or been cancelled, so nothing was changed."


def already_done() -> str:
    return (
        "That was already done a moment ago, so nothing more was changed: whoever needed "
        "telling was told then."
    )


def out_of_scope() -> str:
    return (
        "Sorry, that is outside the locations you lead (or is for coordinators of the "
        "whole programme), so nothing was changed."
    )


def unknown_command(command: str) -> str:
    return f"Sorry, I don't know {esc(command)}. Send /help to see what I can do."


def free_text() -> str:
    return "I work with commands and buttons. Send /help to see what I can do."


def text_please() -> str:
    return "This answer needs words, not a photo: please type it (or /cancel to stop)."


def typed_refused(problem: Problem) -> str:
    """A message (or a command's words) with characters that cannot be kept; nothing changed."""
    if problem is Problem.CONTROL:
        return (
            "Your message has an invisible control character in it (this happens when text is "
            "copied from another program), so I haven't kept it. Please type it again, or "
            "paste it as plain text. Nothing has changed."
        )
    return (
        "Part of your message did not arrive whole (a broken character), so I haven't kept "
        "it. Please send it again. Nothing has changed."
    )


def unreadable() -> str:
    return (
        "I can only read words and photos. A picture sent as a file? Send it again as a photo "
        "(tap 📎, then choose it from the gallery). /help shows what I can do."
    )


def private_only(bot_username: str) -> str:
    return f"Let's talk in private: open @{esc(bot_username)} and send /start there."


def stale_button() -> str:
    return "That button is out of date. Send /start for a fresh menu."


def cancelled() -> str:
    return "Cancelled. Nothing was changed."


def nothing_to_cancel() -> str:
    return "There is nothing to cancel."


# A step button that moves a form on. Page buttons ("◀ Previous" / "Next ▶", handlers/common.py)
# never share a label with it: a person must be able to tell "more of this list" from "done".
CONTINUE = "Continue ▶"


# Each form by its flow: what it is called, and the command that starts it again.
FORMS: dict[str, tuple[str, str]] = {
    "rename": ("changing your name", "/name"),
    "phone": ("your phone number", "/profile"),
    "invite_school": ("the invite", "/invite"),
    "check_expiry": ("the safeguarding check", "/people"),
    "location_new": ("the new location", "/locations"),
    "location_edit": ("the location's change", "/locations"),
    "plan": ("planning sessions", "/newsessions"),
    "upload": ("importing the file", "the file"),
    "school": ("the school's details", "/schools"),
    "referral": ("the referral form", "/refer"),
    "referral_decline": ("declining the referral", "/referrals"),
    "referral_dates": ("placing the referral", "/referrals"),
    "site_counts": ("the day's counts", "/today"),
    "site_times": ("the session's times", "/today"),
    "site_not_run": ("why the session did not run", "/today"),
    "session_jobs": ("the session's jobs and places", "/today"),
    "site_cover": ("asking for cover", "/coverage"),
    "location_archive": ("archiving the location", "/locations"),
    "homes": ("choosing home locations", "/profile"),
    "list": ("the search", "the list's command"),
    "win": ("sharing a win", "/win"),
    "win_edit": ("editing the win", "/wins"),
    "win_reject": ("rejecting the win", "/wins"),
    "broadcast": ("the broadcast", "/broadcast"),
    "impact_dates": ("the impact report", "/impact"),
    "export": ("the export", "/export"),
    "bulk_cancel": ("cancelling sessions", "/cancelsessions"),
    "rota_name": ("putting someone without Telegram on the rota", "/today"),
}


def form_name(flow: str) -> str:
    return FORMS.get(flow, ("the form", "/help"))[0]


def forms_cancelled(flows: list[str]) -> str:
    names = list(dict.fromkeys(form_name(flow) for flow in flows))
    return f"Cancelled: {' and '.join(names)}. Nothing was changed."


def form_closed(flow: str) -> str:
    name, again = FORMS.get(flow, ("the form", "/help"))
    return (
        f"This form ({name}) is closed: it was cancelled or finished, so nothing was changed. "
        f"Send {again} to start again."
    )


def sealed_unavailable() -> str:
    return (
        "Sorry, these referral details can't be opened right now (a setup problem with the "
        "encryption key). The team has been told; nothing was changed."
    )


def internal_error() -> str:
    return (
        "Sorry, something went wrong on our side. It has been logged for the team; "
        "please try again in a minute."
    )
