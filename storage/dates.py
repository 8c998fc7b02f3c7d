"""The one rule for a date a person types: it must fall in a sensible window around today.

A date far away is a typing slip or an attempt to keep something for ever (the purge keys on
a referral's last day, so a placement "01/01/9999" would keep its allergies readable for
ever). Every place a person types a date (a referral's dates, a placement, a holiday's plan,
a safeguarding check's expiry, an impact report's period) checks it against one of these
windows, in the handler's parsing for a kind answer and again in storage where the date is
kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DateWindow:
    """From `back` before today to `ahead` after it, both ends included."""

    back: timedelta
    ahead: timedelta

    def earliest(self, today: date) -> date:
        return today - self.back

    def latest(self, today: date) -> date:
        return today + self.ahead

    def holds(self, today: date, *days: date) -> bool:
        return all(self.earliest(today) <= day <= self.latest(today) for day in days)

    def near(self, today: date, *days: date) -> bool:
        """`holds`, give or take a day: storage's check, on the UTC date, of what the handler
        checked on the programme's own date."""
        slack = timedelta(days=1)
        return all(
            self.earliest(today) - slack <= day <= self.latest(today) + slack for day in days
        )


# Sessions, referrals and placements: from today to a year ahead (next summer's holiday can be
# planned in the autumn, not a later one).
PLANNING = DateWindow(back=timedelta(0), ahead=timedelta(days=366))
# A safeguarding check that is cleared runs out after today, and within five years (an
# enhanced check is usually renewed every three).
CHECK_EXPIRY = DateWindow(back=timedelta(days=-1), ahead=timedelta(days=5 * 366))
# Impact reports look back at most five years (funders ask about recent years) and not ahead.
REPORTING = DateWindow(back=timedelta(days=5 * 366), ahead=timedelta(0))


def latest_end(start: date) -> date:
    """The last day a referral can still be about, from the day it was made or decided: what
    the purge falls back on if a stored date lies beyond every window (a row from before the
    window was enforced)."""
    return start + PLANNING.ahead
