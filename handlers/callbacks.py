"""The one codec for callback data: typed actions in, at most 64 bytes out, and back.

A client can send any callback data it likes, so decoding never trusts it: the prefix must name a
registered action, every field must parse as its declared type, and the handler still re-checks
the person's role and ownership on the server.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Callable
from typing import Any, TypeVar

MAX_BYTES = 64
MAX_INT = 2**31 - 1  # an INTEGER primary key
SEPARATOR = ":"

_ACTIONS: dict[str, type[Any]] = {}
# Each action's fields with their parsers, worked out once at registration: every tap is
# matched against the registered buttons, and reading a class's type hints is slow.
_FIELDS: dict[str, tuple[tuple[str, Callable[[str], Any]], ...]] = {}
_PREFIX_ATTR = "__callback_prefix__"
_T = TypeVar("_T")


def action(prefix: str) -> Callable[[type[_T]], type[_T]]:
    """Register a frozen dataclass as a button action with a short, unique prefix."""

    def register(cls: type[_T]) -> type[_T]:
        if prefix in _ACTIONS or SEPARATOR in prefix or not prefix:
            raise ValueError(f"callback prefix {prefix!r} is taken or invalid")
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass")
        hints = typing.get_type_hints(cls)
        for name, kind in hints.items():
            if not _parser(kind):
                raise TypeError(f"{cls.__name__}.{name}: unsupported field type {kind}")
        setattr(cls, _PREFIX_ATTR, prefix)
        _ACTIONS[prefix] = cls
        _FIELDS[prefix] = tuple(
            (field.name, parse)
            for field in dataclasses.fields(cls)
            if (parse := _parser(hints[field.name])) is not None
        )
        return cls

    return register


def encode(value: object) -> str:
    """The callback data for an action; raises if it would break Telegram's 64-byte limit."""
    prefix = getattr(type(value), _PREFIX_ATTR, None)
    if prefix is None:
        raise TypeError(f"{type(value).__name__} is not a registered action")
    parts = [prefix]
    for field in dataclasses.fields(value):  # type: ignore[arg-type]
        item = getattr(value, field.name)
        text = (
            item.value
            if isinstance(item, enum.Enum)
            else str(int(item) if isinstance(item, bool) else item)
        )
        if SEPARATOR in text:
            raise ValueError(f"{field.name} may not contain {SEPARATOR!r}")
        parts.append(text)
    data = SEPARATOR.join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data for {type(value).__name__} is over {MAX_BYTES} bytes")
    return data


def decode(data: str | None) -> object | None:
    """The action the data names, or None for anything forged, stale or malformed."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    prefix, *values = data.split(SEPARATOR)
    cls = _ACTIONS.get(prefix)
    if cls is None:
        return None
    fields = _FIELDS[prefix]
    if len(values) != len(fields):
        return None
    parsed: dict[str, Any] = {}
    for (name, parse), text in zip(fields, values, strict=True):
        try:
            parsed[name] = parse(text)
        except ValueError:
            return None
    decoded: object = cls(**parsed)
    return decoded


def matches(cls: type[Any]) -> Callable[[object], bool]:
    """A `pattern` for CallbackQueryHandler: true for data that decodes to `cls`."""

    def check(data: object) -> bool:
        # The prefix first: every tap is tried against every button's handler in turn.
        prefix = getattr(cls, _PREFIX_ATTR, None)
        return (
            isinstance(data, str)
            and data.split(SEPARATOR, 1)[0] == prefix
            and isinstance(decode(data), cls)
        )

    return check


def _parser(kind: Any) -> Callable[[str], Any] | None:
    if kind is bool:
        return _parse_bool
    if kind is int:
        return _parse_int
    if kind is str:
        return str
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind
    return None


def _parse_int(text: str) -> int:
    # int() would accept " 7", "+7", "7_000" and other scripts' digits; ids on buttons are plain
    # ASCII digits, and no larger than a primary key column can hold (PostgreSQL would refuse).
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_INT)):
        raise ValueError(text)
    value = int(text)
    if value > MAX_INT:
        raise ValueError(text)
    return value


def _parse_bool(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"
