"""Encryption at rest for the few fields about children that the programme must keep
(allergies, dietary needs, notes): Fernet (AES-128-CBC with HMAC-SHA256), keys from the
environment. Several keys can be given: the first seals, any of them opens, so a key can be
rotated (`lunchbot keys rotate` re-wraps everything with the first).

The programme's keys do not seal a referral's details themselves: they wrap (seal) a random
data key per referral (storage/keys.py), and that key seals the details. Destroying the data
key at purge leaves every copy of the details, wherever it survives, unreadable."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealError(Exception):
    """A sealed value could not be opened with any of the keys."""


class Cipher:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key")
        self._keys = tuple(keys)
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def sealing_with(self, data_key: str) -> Cipher:
        """A cipher that seals with `data_key` and opens with it or any of these keys (a
        half-filled form may hold answers sealed before it had a data key of its own)."""
        return Cipher([data_key, *self._keys])

    def seal(self, text: str | None) -> str | None:
        if text is None:
            return None
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SealError("sealed with a key that is not configured") from None

    def reseal(self, token: str | None) -> str | None:
        """The same value, sealed with the first key."""
        if token is None:
            return None
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SealError("sealed with a key that is not configured") from None


def new_key() -> str:
    return Fernet.generate_key().decode()


def valid_key(text: str) -> bool:
    try:
        Fernet(text.encode())
    except ValueError:
        return False
    return True
