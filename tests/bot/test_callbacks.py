"""The callback codec: what it makes fits Telegram, and nothing forged gets through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers import callbacks
from handlers.coordination import AskRemoveRole, PeoplePage
from handlers.start import PrivacyAnswer
from storage.models import Role


@callbacks.action("zx")
@dataclass(frozen=True)
class _Sample:
    number: int
    role: Role
    flag: bool


def test_actions_round_trip() -> None:
    for value in (
        _Sample(number=42, role=Role.COORDINATOR, flag=True),
        PrivacyAnswer(accept=False, invite=""),
        AskRemoveRole(person_id=9, role=Role.VOLUNTEER),
        PeoplePage(offset=0),
    ):
        assert callbacks.decode(callbacks.encode(value)) == value


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "zx",
        "zx:1:coordinator",
        "zx:1:admin:1",
        "zx:-1:volunteer:1",
        "zx: 1:volunteer:1",
        "zx:1:volunteer:2",
        "zz:1",
        "zx:1:volunteer:1:extra",
        "pv:yes",
        "x" * 65,
        "zx:" + "9" * 19 + ":volunteer:1",
        "zx:2147483648:volunteer:1",
        "zx:٣:volunteer:1",
    ],
)
def test_forged_data_decodes_to_nothing(forged: str) -> None:
    assert callbacks.decode(forged) is None


def test_an_action_that_would_exceed_64_bytes_is_refused_when_made() -> None:
    @callbacks.action("zl")
    @dataclass(frozen=True)
    class _Long:
        text: str

    with pytest.raises(ValueError, match="over 64 bytes"):
        callbacks.encode(_Long(text="é" * 31))


@given(st.text(max_size=80))
def test_decoding_any_text_never_raises(data: str) -> None:
    decoded = callbacks.decode(data)
    if decoded is not None:
        assert callbacks.encode(decoded) == data
