"""Cleaning what people type before it is stored."""

from __future__ import annotations


def one_line(text: str) -> str:
    """Control and invisible characters become spaces; runs of space become one."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
