"""Cleaning what people type before it is stored."""

from __future__ import annotations

# Invisible, but part of how some names and emoji are written: the zero-width non-joiner and
# joiner (Persian names, family emoji) and the emoji variation selector.
_KEEP = frozenset("\u200c\u200d\ufe0f")


def one_line(text: str) -> str:
    """Control and other invisible characters become spaces; runs of space become one."""
    kept = "".join(ch if ch.isprintable() or ch in _KEEP else " " for ch in text)
    return " ".join(kept.split()).strip("".join(_KEEP))
