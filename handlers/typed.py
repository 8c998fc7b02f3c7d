"""A formatted message (bold, links...) after the cleaning rule of storage.text.

Telegram sends formatting as entities: UTF-16 offsets into the text. When the rule strips an
invisible character, every entity after it would point at the wrong letters, so the offsets
are moved with the text before the HTML is built.
"""

from __future__ import annotations

from telegram import Message, MessageEntity

from storage.text import pieces


def formatted(message: Message) -> str:
    """The message's text (or a photo's caption) as HTML, cleaned; raises storage.text.Refused
    like `typed`."""
    is_text = message.text is not None
    raw = (message.text if is_text else message.caption) or ""
    parts = pieces(raw)
    cleaned = "".join(parts)
    if cleaned == raw:
        return (message.text_html if is_text else message.caption_html) if raw else ""
    entities = message.entities if is_text else message.caption_entities
    moved = _moved(raw, parts, entities)
    # A message of our own making, only to let PTB write the HTML (escaping included).
    clean = Message(
        message_id=message.message_id,
        date=message.date,
        chat=message.chat,
        text=cleaned,
        entities=moved,
    )
    return clean.text_html


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _moved(
    raw: str, parts: list[str], entities: tuple[MessageEntity, ...]
) -> tuple[MessageEntity, ...]:
    # where[p]: the UTF-16 position in the cleaned text of position p in the original.
    where: list[int] = []
    position = 0
    for ch, part in zip(raw, parts, strict=True):
        where.extend([position] * _units(ch))
        position += _units(part)
    where.append(position)
    moved = []
    for entity in entities:
        start = where[min(entity.offset, len(where) - 1)]
        end = where[min(entity.offset + entity.length, len(where) - 1)]
        if end > start:
            # Every other field (a link's url, a mention's user, a code block's language) kept.
            fields = {**entity.to_dict(), "offset": start, "length": end - start}
            moved.append(MessageEntity.de_json(fields, None))
    return tuple(moved)
