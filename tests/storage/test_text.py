"""The cleaning rule for typed text, on any text at all."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.text import Problem, Refused, pieces, typed, whole_number

ANY = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)


@given(ANY)
def test_what_is_kept_has_no_control_character_and_cleaning_twice_changes_nothing(
    text: str,
) -> None:
    refusable = any(
        unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r\x85" for ch in text
    )
    if refusable:
        with pytest.raises(Refused):
            typed(text)
        return
    cleaned = typed(text)
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") and ch != "\n" for ch in cleaned)
    assert typed(cleaned) == cleaned
    assert "".join(pieces(text)) == cleaned
    assert len(pieces(text)) == len(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Zoë 👩‍👩‍👧", "Zoë 👩‍👩‍👧"),  # the zero-width joiners build the family
        ("🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f", None),  # Wales
        ("سلام\u200fدنیا", None),  # a right-to-left mark inside Persian
        ("a\tb", "a b"),
        ("one\r\ntwo\rthree\u2028four", "one\ntwo\nthree\nfour"),
        ("pay\u200bpal", "paypal"),
        ("\ufeffhello\u00ad", "hello"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("\ufdd0x\uffff", "x"),
    ],
)
def test_allowed_changed_and_stripped(text: str, kept: str | None) -> None:
    assert typed(text) == (text if kept is None else kept)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", Problem.CONTROL),
        ("ding\x07", Problem.CONTROL),
        ("\x1b[31m", Problem.CONTROL),
        ("\x7f", Problem.CONTROL),
        ("\x85", None),
        ("half \ud800 a character", Problem.BROKEN),
    ],
)
def test_refused(text: str, problem: Problem | None) -> None:
    if problem is None:  # NEL is a new line, not a refusal
        assert typed(text) == "\n"
        return
    with pytest.raises(Refused) as refused:
        typed(text)
    assert refused.value.problem is problem


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("40", 40),
        (" 40 ", 40),
        ("040", 40),
        ("0", 0),
        ("²", None),
        ("٣٠", None),
        ("３０", None),
        ("-1", None),
        ("+1", None),
        ("1_000", None),
        ("1e3", None),
        ("", None),
        ("9" * 5000, None),
        ("501", None),
    ],
)
def test_only_the_digits_0_to_9_make_a_number(text: str, number: int | None) -> None:
    assert whole_number(text, 500) == number
