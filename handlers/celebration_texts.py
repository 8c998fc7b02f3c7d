"""The words of milestones, the weekly digest and its preview. HTML; stored values escaped."""

from __future__ import annotations

from datetime import date

from handlers.rota_texts import plural
from handlers.texts import esc
from storage.celebrations import WEEKDAYS, CelebrationPolicy, Total
from storage.impact import (
    CHILDREN_FED,
    FAMILIES_CAME,
    MEALS_SERVED,
    SESSIONS_RUN,
    SESSIONS_WITHOUT_COUNTS,
    VOLUNTEER_HOURS,
    VOLUNTEER_SHIFTS,
    Figures,
    figure_values,
)
from storage.wins import ApprovedWin

CAPTION_MAX = 1024  # a photo's caption: the digest is its chart's caption
WIN_SHOWN_MAX = 160  # a win's words in the digest are cut to this
SCHOOLS_SHOWN_MAX = 240  # and the names of the week's new partner schools

_MILESTONES = {
    Total.MEALS: (
        "meals served",
        "The programme has served its {nth} lunch. Thank you to every cook, server, driver and "
        "partner who made it happen!",
    ),
    Total.CHILDREN: (
        "children fed",
        "Children have sat down to lunch with us {n} times. Thank you, everyone!",
    ),
    Total.SHIFTS: (
        VOLUNTEER_SHIFTS.name.lower(),
        "Volunteers have now given {n} sessions to the programme. Thank you all!",
    ),
}


def milestone(what: str, value: int) -> str:
    name, thanks = _MILESTONES[Total(what)]
    return f"🎉 <b>{value:,} {name}!</b>\n\n{thanks.format(n=f'{value:,}', nth=_ordinal(value))}"


def personal_milestone(name: str, sessions: int) -> str:
    if sessions == 1:
        return (
            f"🌟 Thank you, {esc(name)}: that was your first lunch session with us! "
            "We hope to see you again soon."
        )
    return (
        f"🌟 {esc(name)}, that was your <b>{_ordinal(sessions)} lunch session</b> with us. "
        "Thank you for everything you give!"
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def digest(
    programme: str,
    start: date,
    end: date,
    figures: Figures,
    wins: list[ApprovedWin],
    schools: list[str],
    *,
    for_coordinator: bool = False,
) -> str:
    """The digest, to fit a photo's caption: figures first, then as many wins as fit. A
    coordinator's copy also says how many sessions still lack their counts."""
    values = figure_values(figures)
    head = [
        f"🎉 <b>{esc(programme)}: the week to {end:%a %-d %b}</b>",
        "",
        *(
            f"{icon} {d.name}: {values[d]:,}"
            for icon, d in (
                ("🍽", MEALS_SERVED),
                ("🧒", CHILDREN_FED),
                ("👪", FAMILIES_CAME),
                ("📅", SESSIONS_RUN),
                ("🙌", VOLUNTEER_SHIFTS),
            )
        ),
        f"⏱ {VOLUNTEER_HOURS.name}: {values[VOLUNTEER_HOURS]:,g}",
    ]
    if schools:
        names = _cut(", ".join(schools), SCHOOLS_SHOWN_MAX)
        head.append(f"🏫 {plural(len(schools), 'new partner school')}: {esc(names)}")
    if for_coordinator and figures.unrecorded:
        head.append(
            f"📝 {SESSIONS_WITHOUT_COUNTS.name}: {figures.unrecorded:,} (record "
            f"{'it' if figures.unrecorded == 1 else 'them'} with /today, or mark "
            f"{'it' if figures.unrecorded == 1 else 'them'} as did not run)"
        )
    if not wins:
        return "\n".join([*head, "", "No wins shared this week: share one with /win!"])
    lines = [*head, "", f"<b>{plural(len(wins), 'win')} this week</b>"]
    for shown, win in enumerate(wins):
        line = f"• {esc(_cut(win.text))}" + (f" — {esc(win.credit)}" if win.credit else "")
        rest = len(wins) - shown - 1
        more = f"…and {plural(rest, 'more win')}" if rest else ""
        if len("\n".join([*lines, line, more])) > CAPTION_MAX:
            lines.append(f"…and {plural(len(wins) - shown, 'more win')}")
            break
        lines.append(line)
    return "\n".join(lines)


def _cut(text: str, limit: int = WIN_SHOWN_MAX) -> str:
    """Cut before escaping, so that no HTML entity is cut in half."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def chart_title(start: date, end: date) -> str:
    return f"{MEALS_SERVED.name} per day, {start:%-d %b} to {end:%-d %b %Y}"


def digest_preview(policy: CelebrationPolicy, coordinators: int) -> str:
    where = plural(len(policy.chats), "celebration chat") if policy.chats else "no group yet"
    return (
        "👀 That is a preview of this week's digest, up to today. It goes out every "
        f"{WEEKDAYS[policy.digest_weekday].title()} at {policy.digest_at:%H:%M} to {where} and "
        f"{plural(coordinators, 'coordinator')}."
        + (
            ""
            if policy.chats
            else "\nTo post it in a group, add me to the group, send /chatid there, and put the "
            "id in the config file under celebrations.chats."
        )
    )


def chat_id(chat_id: int, title: str | None) -> str:
    return (
        f"This chat ({esc(title or 'untitled')}) has the id <code>{chat_id}</code>.\n"
        "To post approved wins, milestones and the weekly digest here, a coordinator puts it in "
        f"the bot's config file: <code>[celebrations] chats = [{chat_id}]</code>, and restarts "
        "the bot."
    )
