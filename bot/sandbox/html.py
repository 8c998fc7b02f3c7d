"""Telegram's HTML parse mode, following the rules of the Bot API server (tdlib's ``parse_html``).

The point is to refuse what Telegram refuses, with the same words, and to count the text the
way Telegram does: after tags are removed and entities decoded, and trimmed of outer whitespace.
Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.models import JsonDict

TAG_ENTITY_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# tdlib gives up on a numeric reference this long (counting "&#"), or beyond Unicode.
MAX_NUMERIC_REFERENCE_LENGTH = 10
MAX_CODE_POINT = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)
TDLIB_SPACES = " \t\r\n\0\v"
TRIMMED_WHITESPACE = " \t\r\n\v\f"
LANGUAGE_PREFIX = "language-"
SPOILER_CLASS = "tg-spoiler"
URL_SCHEMES = frozenset({"http", "https", "tg", "ton"})
HEX_BASE = 16
DECIMAL_BASE = 10


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``reason`` is Telegram's wording."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedText:
    text: str
    entities: list[JsonDict]


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_offset: int
    extra: dict[str, Any] = field(default_factory=dict)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def url_problem(url: str) -> str | None:
    """Why Telegram would refuse ``url`` as a link, or None when it would take it."""
    if not url.strip():
        return "URL host is empty"
    candidate = url.strip()
    if "://" in candidate:
        scheme = candidate.split("://", 1)[0].lower()
        if scheme not in URL_SCHEMES:
            return "Unsupported URL protocol"
        if scheme in {"tg", "ton"}:
            return None
    else:
        candidate = "http://" + candidate
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return "Wrong HTTP URL"
    if not host:
        return "URL host is empty"
    if "." not in host.strip(".") and host != "localhost":
        return "Wrong HTTP URL"
    return None


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``source[pos] == '&'``: (text, next index) or None."""
    end = pos + 1
    if end < len(source) and source[end] == "#":
        end += 1
        value = 0
        if end < len(source) and source[end] == "x":
            end += 1
            while end < len(source) and source[end] in "0123456789abcdefABCDEF":
                value = value * HEX_BASE + int(source[end], HEX_BASE)
                end += 1
                if value >= MAX_CODE_POINT:
                    return None
        else:
            while end < len(source) and source[end].isascii() and source[end].isdigit():
                value = value * DECIMAL_BASE + int(source[end])
                end += 1
                if value >= MAX_CODE_POINT:
                    return None
        if value == 0 or end - pos >= MAX_NUMERIC_REFERENCE_LENGTH or value in SURROGATES:
            return None
        decoded = chr(value)
    else:
        while end < len(source) and source[end].isascii() and source[end].isalpha():
            end += 1
        name = source[pos + 1 : end]
        if name not in NAMED_ENTITIES:
            return None
        decoded = NAMED_ENTITIES[name]
    if end < len(source) and source[end] == ";":
        end += 1
    return decoded, end


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.text_length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JsonDict] = []

    def _char(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else "\0"

    def _at_end(self, index: int) -> bool:
        return index >= len(self.source)

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_length(text)
        self.text_length += len(text)

    def _error(self, message: str, index: int) -> HtmlParseError:
        return HtmlParseError(f"{message} at byte offset {_byte_offset(self.source, index)}")

    def run(self) -> ParsedText:
        source = self.source
        while self.pos < len(source):
            char = source[self.pos]
            if char == "&":
                decoded = _decode_entity(source, self.pos)
                if decoded is not None:
                    self._emit(decoded[0])
                    self.pos = decoded[1]
                    continue
            if char != "<":
                self._emit(char)
                self.pos += 1
                continue
            if self._char(self.pos + 1) == "/":
                self._close_tag()
            else:
                self._open_tag()
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return _trim("".join(self.out), self.entities)

    def _skip_spaces(self, i: int) -> int:
        while not self._at_end(i) and self.source[i] in TDLIB_SPACES:
            i += 1
        return i

    def _word_end(self, i: int, stops: str) -> int:
        while (
            not self._at_end(i)
            and self.source[i] not in TDLIB_SPACES
            and self.source[i] not in stops
        ):
            i += 1
        return i

    def _open_tag(self) -> None:
        begin = self.pos
        i = self._word_end(begin + 1, ">")
        if self._at_end(i):
            raise self._error("Unclosed start tag", begin)
        name = self.source[begin + 1 : i].lower()
        if name not in TAG_ENTITY_TYPES:
            raise self._error(f'Unsupported start tag "{name}"', begin)
        tag = _OpenTag(name, "", self.utf16, self.text_length)
        i = self._attributes(tag, i, begin)
        if name == "span" and tag.argument != "spoiler":
            raise self._error(f'Tag "span" must have class "{SPOILER_CLASS}"', begin)
        self.stack.append(tag)
        self.pos = i + 1

    def _attributes(self, tag: _OpenTag, i: int, begin: int) -> int:
        """Read attributes up to the closing '>' (its index is returned); keep Telegram's ones."""
        while True:
            i = self._skip_spaces(i)
            if self._at_end(i):
                raise self._error("Unclosed start tag", begin)
            if self.source[i] == ">":
                return i
            name_begin = i
            i = self._word_end(i, "=>")
            attribute = self.source[name_begin:i].lower()
            if not attribute:
                raise self._error(f'Empty attribute name in the tag "{tag.name}"', begin)
            i = self._skip_spaces(i)
            if self._at_end(i):
                raise self._error("Unclosed start tag", begin)
            if self.source[i] != "=":
                if tag.name == "blockquote" and attribute == "expandable":
                    tag.extra["expandable"] = True
                    continue
                raise self._error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag.name}"',
                    begin,
                )
            i = self._skip_spaces(i + 1)
            if self._at_end(i):
                raise self._error("Unclosed start tag", begin)
            value, i = self._attribute_value(i)
            if self._at_end(i):
                raise self._error("Unclosed start tag", begin)
            tag.argument = self._take_argument(tag.name, attribute, value, tag.argument)

    def _attribute_value(self, i: int) -> tuple[str, int]:
        quote = self.source[i]
        if quote not in "'\"":
            token_begin = i
            while not self._at_end(i) and (self.source[i].isalnum() or self.source[i] in ".-"):
                i += 1
            if not self._at_end(i) and self.source[i] not in TDLIB_SPACES and self.source[i] != ">":
                raise self._error("Unexpected end of name token", token_begin)
            return self.source[token_begin:i].lower(), i
        i += 1
        value: list[str] = []
        while not self._at_end(i) and self.source[i] != quote:
            if self.source[i] == "&":
                decoded = _decode_entity(self.source, i)
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                    continue
            value.append(self.source[i])
            i += 1
        if not self._at_end(i):
            i += 1
        return "".join(value), i

    @staticmethod
    def _take_argument(tag: str, attribute: str, value: str, current: str) -> str:
        if tag == "a" and attribute == "href":
            return value
        if tag == "code" and attribute == "class" and value.startswith(LANGUAGE_PREFIX):
            return value[len(LANGUAGE_PREFIX) :]
        if tag == "span" and attribute == "class" and value.startswith("tg-"):
            return value[len("tg-") :]
        if tag == "tg-emoji" and attribute == "emoji-id":
            return value
        return current

    def _close_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise self._error("Unexpected end tag", begin)
        i = self._word_end(begin + 2, ">")
        end_name = self.source[begin + 2 : i].lower()
        i = self._skip_spaces(i)
        if self._char(i) != ">":
            raise self._error("Unclosed end tag", begin)
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            # Telegram puts the byte offset before the expectation in this one message.
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(self.source, begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        self.stack.pop()
        self.pos = i + 1
        self._make_entity(open_tag)

    def _make_entity(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.utf16_offset
        if length <= 0:
            return
        entity: JsonDict = {
            "type": TAG_ENTITY_TYPES[tag.name],
            "offset": tag.utf16_offset,
            "length": length,
        }
        if tag.name == "a":
            url = tag.argument or "".join(self.out)[tag.text_offset :]
            if url_problem(url) is not None:
                return
            entity["url"] = url
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            entity["custom_emoji_id"] = tag.argument
        elif tag.name == "blockquote" and tag.extra.get("expandable"):
            entity["type"] = "expandable_blockquote"
        elif tag.name == "code" and tag.argument:
            entity["language"] = tag.argument
        elif tag.name == "pre" and self.entities:
            inner = self.entities[-1]
            same_span = inner["offset"] == entity["offset"] and inner["length"] == length
            if inner["type"] == "code" and same_span:
                self.entities.pop()
                if "language" in inner:
                    entity["language"] = inner["language"]
        self.entities.append(entity)


def _trim(text: str, entities: list[JsonDict]) -> ParsedText:
    """Drop outer whitespace as Telegram does, moving and clipping the entities with it."""
    stripped_left = text.lstrip(TRIMMED_WHITESPACE)
    cut = utf16_length(text) - utf16_length(stripped_left)
    result = stripped_left.rstrip(TRIMMED_WHITESPACE)
    end = utf16_length(result)
    kept: list[JsonDict] = []
    for entity in entities:
        start = max(entity["offset"] - cut, 0)
        stop = min(entity["offset"] + entity["length"] - cut, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    kept.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return ParsedText(result, kept)


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML; raise HtmlParseError with Telegram's reason when it is invalid."""
    return _Parser(source).run()


def parse_plain(text: str, entities: list[JsonDict] | None = None) -> ParsedText:
    """Plain text (no parse mode), with the entities the bot may have given explicitly."""
    return _trim(text, list(entities or []))
