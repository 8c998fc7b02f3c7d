"""Files the sandbox holds: uploads from the bot, photos from simulated users, and their ids."""

from __future__ import annotations

import mimetypes
import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Where each format keeps its width and height.
PNG_SIZE = slice(16, 24)
GIF_SIZE = slice(6, 10)
WEBP_CHUNK = slice(12, 16)
WEBP_WIDTH = slice(24, 27)
WEBP_HEIGHT = slice(27, 30)
JPEG_MARKER_START = 0xFF
JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_STANDALONE_MARKERS = frozenset(range(0xD0, 0xDA)) | {0x01}
# Telegram keeps a photo in several sizes; these are the longest sides of its thumbnails.
THUMBNAIL_SIDES = (90, 320, 800, 1280)
MAX_PHOTO_SIDE = 2560
PHOTO_ID_PREFIX = "AgACAgIAAxkBAAI"
DOCUMENT_ID_PREFIX = "BQACAgIAAxkBAAI"
UNIQUE_ID_PREFIX = "AQAD"
DEFAULT_PNG_SIDE = 2


def make_png(width: int = DEFAULT_PNG_SIDE, height: int = DEFAULT_PNG_SIDE) -> bytes:
    """A small valid grey PNG, so a simulated user can send a real image."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


DEFAULT_PHOTO = make_png()


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 4 <= len(data):
        if data[index] != JPEG_MARKER_START:
            return None
        marker = data[index + 1]
        if marker == JPEG_MARKER_START:
            index += 1
            continue
        if marker in JPEG_STANDALONE_MARKERS:
            index += 2
            continue
        (segment_length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if marker in JPEG_SOF_MARKERS and index + 9 <= len(data):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + segment_length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image; None for anything else."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= PNG_SIZE.stop:
        width, height = struct.unpack(">II", data[PNG_SIZE])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= GIF_SIZE.stop:
        width, height = struct.unpack("<HH", data[GIF_SIZE])
        return width, height
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= WEBP_HEIGHT.stop:
        if data[WEBP_CHUNK] == b"VP8X":
            width = int.from_bytes(data[WEBP_WIDTH], "little") + 1
            height = int.from_bytes(data[WEBP_HEIGHT], "little") + 1
            return width, height
        # Simple WebP variants keep their size elsewhere; the sandbox only needs "an image".
        return 1, 1
    return None


def photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram would keep for a photo, smallest first."""
    longest = max(width, height, 1)
    sizes: list[tuple[int, int]] = []
    for side in THUMBNAIL_SIDES:
        if longest > side:
            scale = side / longest
            sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    scale = min(1.0, MAX_PHOTO_SIDE / longest)
    sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    return sizes


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    kind: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def file_path(self) -> str:
        folder = "photos" if self.kind == "photo" else "documents"
        extension = mimetypes.guess_extension(self.mime_type or "") or ".bin"
        return f"{folder}/file_{self.file_unique_id}{extension}"


class FileStore:
    """Every file the sandbox has seen, by file_id (and by file path, for downloads)."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._photo_sizes: dict[str, list[StoredFile]] = {}
        self._counter = 0

    def _ids(self, prefix: str) -> tuple[str, str]:
        self._counter += 1
        return f"{prefix}{self._counter:08d}", f"{UNIQUE_ID_PREFIX}{self._counter:08d}"

    def _keep(self, stored: StoredFile) -> StoredFile:
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def add_photo(self, data: bytes, width: int, height: int) -> list[StoredFile]:
        """One stored file per photo size, smallest first (the same bytes back every size)."""
        sizes: list[StoredFile] = []
        for size_width, size_height in photo_dimensions(width, height):
            file_id, unique_id = self._ids(PHOTO_ID_PREFIX)
            sizes.append(
                self._keep(
                    StoredFile(
                        file_id,
                        unique_id,
                        data,
                        "photo",
                        mime_type="image/jpeg",
                        width=size_width,
                        height=size_height,
                    )
                )
            )
        for stored in sizes:
            self._photo_sizes[stored.file_id] = sizes
        return sizes

    def add_document(self, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        file_id, unique_id = self._ids(DOCUMENT_ID_PREFIX)
        guessed = mime_type or mimetypes.guess_type(file_name or "")[0]
        return self._keep(
            StoredFile(
                file_id,
                unique_id,
                data,
                "document",
                file_name=file_name,
                mime_type=guessed or "application/octet-stream",
            )
        )

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def photo_sizes_of(self, file_id: str) -> list[StoredFile]:
        """All sizes of the photo one of whose sizes is ``file_id`` (re-sending by id)."""
        return list(self._photo_sizes.get(file_id, []))
