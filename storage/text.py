"""Cleaning what people type before it is stored.

Every text a person sends (a typed answer, a caption, a command's words) passes `typed` once,
where it enters (handlers.flows and handlers.common), before any storage operation sees it:

- allowed, kept as typed: printable characters of every script, emoji (with the zero-width
  joiner, variation selectors and tag characters that build them), spaces, new lines, the
  direction marks written inside right-to-left text, private-use and not-yet-assigned code
  points (next year's emoji);
- changed one for one: a tab becomes a space, a carriage return, line or paragraph separator
  becomes a new line (a CR before a new line goes);
- stripped, as they are invisible and only ever hide or disguise the words: zero-width spaces,
  byte-order marks, soft hyphens, word joiners, the bidirectional embeddings, overrides and
  isolates that make text read differently from how it is stored, and non-characters;
- refused, with a reason the person can act on: NUL and the other control characters (BEL, ESC,
  ...: a terminal would ring or run them, and PostgreSQL cannot store NUL at all) and halves of
  broken characters (lone surrogates), which cannot be stored or sent on.

Numbers are read with ASCII digits only (`whole_number`): "²" and "٣" pass str.isdigit() but
are not what a person means by a count, and int() refuses the first.
"""

from __future__ import annotations

import enum
import unicodedata

# Invisible, but part of how some names and emoji are written: the zero-width non-joiner and
# joiner (Persian names, family emoji) and the emoji variation selector.
_KEEP = frozenset("\u200c\u200d\ufe0f")

# Format characters (category Cf) that belong to the writing: the joiners, the left-to-right,
# right-to-left and Arabic letter marks, and the prepended number signs of Arabic and Syriac.
_FORMAT_KEPT = frozenset(
    "\u200c\u200d\u200e\u200f\u061c\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u08e2"
)
_TAGS = range(0xE0020, 0xE0080)  # the tag letters of the Scottish and Welsh flag emoji
_NEW_LINES = frozenset("\r\u2028\u2029\u0085")


class Problem(enum.Enum):
    """Why a text is refused."""

    CONTROL = "control"  # NUL, BEL, ESC and the other control characters
    BROKEN = "broken"  # half of a character (a lone surrogate)


class Refused(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def typed(text: str) -> str:
    """The text as it will be used and stored; raises Refused."""
    return "".join(pieces(text))


def pieces(text: str) -> list[str]:
    """What each character of `text` becomes ("" when stripped), one entry per character, so
    that positions into the original (a formatted message's bold and links) can be moved to
    the cleaned text. Raises Refused."""
    out: list[str] = []
    for index, ch in enumerate(text):
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif ch in _NEW_LINES:
            # A carriage return before a new line is half of a Windows line end.
            followed = ch == "\r" and text[index + 1 : index + 2] == "\n"
            out.append("" if followed else "\n")
        else:
            out.append(_one(ch))
    return out


def _one(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cc":
        raise Refused(Problem.CONTROL)
    if category == "Cs":
        raise Refused(Problem.BROKEN)
    if category == "Cf":
        return ch if ch in _FORMAT_KEPT or ord(ch) in _TAGS else ""
    if _noncharacter(ch):
        return ""
    return ch


def _noncharacter(ch: str) -> bool:
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def whole_number(text: str, maximum: int) -> int | None:
    """A whole number from 0 to `maximum` written with the digits 0-9 (spaces around allowed),
    or None."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value.lstrip("0")) > len(str(maximum)):
        return None
    number = int(value)
    return number if number <= maximum else None


# Letters that carry their mark in the letter itself, so that no decomposition takes it off:
# searching for "lodz" or "aero" should still find "Łódź" and "Ærø".
_BARE = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"}
)


def folded(text: str) -> str:
    """A name as a search compares it: case, accents and runs of spaces ignored, so that "zoe"
    finds "Zoë" and "ST  MARK" finds "St Mark's church hall".

    The same rule folds what is stored (each name's key column) and what is typed, so the
    database compares the two with a plain LIKE, on every engine."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.translate(_BARE).casefold().split())


def one_line(text: str) -> str:
    """Control and other invisible characters become spaces; runs of space become one."""
    kept = "".join(
        ch if ch.isprintable() or ch in _KEEP or ch in _FORMAT_KEPT or ord(ch) in _TAGS else " "
        for ch in text
    )
    return " ".join(kept.split()).strip("".join(_KEEP))
